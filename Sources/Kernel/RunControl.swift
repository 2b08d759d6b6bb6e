#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Progress of long runs and their clean interruption (Ctrl-C).
///
/// The engine calls `checkpoint` between slices of virtual time (never
/// inside a batch); the command line installs an `observer` there that draws
/// a progress bar and, once SIGINT has arrived, stops the process between two
/// slices, before anything is written. Nothing here reaches an output: the
/// observer only writes to standard error.
public enum RunControl {
    /// Set from the SIGINT handler (a plain store to memory allocated before
    /// the handler is installed: async-signal-safe).
    nonisolated(unsafe) static let interruptFlag: UnsafeMutablePointer<Int32> = {
        let p = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        p.initialize(to: 0)
        return p
    }()

    /// A folder to remove (rmdir: it must be empty) on the second Ctrl-C's
    /// immediate exit, which skips `atexit`: the spill folder of sealed
    /// segments. A pointer allocated before the handler is installed.
    nonisolated(unsafe) static let folderToRemove: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
        let p = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: 1)
        p.initialize(to: nil)
        return p
    }()

    /// Names the folder the second Ctrl-C removes (see `folderToRemove`).
    public static func setFolderToRemoveAtExit(_ path: String) {
        folderToRemove.pointee = strdup(path)
    }

    /// Called at every checkpoint with the virtual time done and the total.
    nonisolated(unsafe) public static var observer: ((_ done: Micros, _ total: Micros) -> Void)?

    /// After this, the first SIGINT sets the flag (the observer stops the run
    /// at the next checkpoint); a second one ends the process at once.
    public static func installInterruptHandler() {
        _ = interruptFlag
        _ = folderToRemove
        signal(SIGINT) { _ in
            if RunControl.interruptFlag.pointee != 0 {
                if let p = RunControl.folderToRemove.pointee { rmdir(p) }
                _exit(130)
            }
            RunControl.interruptFlag.pointee = 1
        }
        // A parent may have blocked SIGINT (a process launcher's mask is inherited).
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    public static var isInterrupted: Bool { interruptFlag.pointee != 0 }

    nonisolated(unsafe) static var lastDone: Micros = 0
    nonisolated(unsafe) static var lastTotal: Micros = 0

    @inline(__always)
    public static func checkpoint(done: Micros, total: Micros) {
        lastDone = done; lastTotal = total
        observer?(done, total)
    }

    /// For the work after the engine (the checks, before anything is
    /// printed or written): a Ctrl-C that came after the last slice of
    /// virtual time stops the process here, as at a checkpoint.
    public static func stopIfInterrupted() {
        if isInterrupted { observer?(lastDone, lastTotal) }
    }
}
