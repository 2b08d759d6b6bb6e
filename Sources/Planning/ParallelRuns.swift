import Foundation
import Kernel

/// The worker pool behind `whatif` and `explore`: runs `count` independent
/// jobs on up to `workers` threads and returns their results **by index**, so
/// the output never depends on which worker finished first.
///
/// Workers take the next position in `order` from a locked counter; only the
/// order of work changes with `order` (biggest first, say), never the result.
/// `progress(done, total)` is called after each job, serialised.
/// If jobs fail, the error of the first failing one by index is thrown.
public enum ParallelRuns {
    /// At most this many worker threads, whatever is asked.
    public static let maxWorkers = 256
    /// Stack of each worker thread: the engine is not recursive, but a
    /// secondary thread's default (512 KiB on some platforms) is small.
    static let workerStackBytes = 16 << 20

    /// The number of cores, the default worker count.
    public static var defaultWorkers: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    public static func map<T: Sendable>(count: Int, workers: Int, order: [Int]? = nil,
                                        progress: (@Sendable (Int, Int) -> Void)? = nil,
                                        missing: InputError,
                                        _ body: @escaping @Sendable (Int) throws(InputError) -> T) throws(InputError) -> [T] {
        let order = order ?? Array(0..<count)
        precondition(order.count == count)
        let state = SharedState<T>(count: count)
        let n = max(1, min(workers, maxWorkers, count))
        let work: @Sendable () -> Void = {
            while let next = state.next() {
                let k = order[next]
                let outcome = Result { () throws(InputError) in try body(k) }
                state.store(outcome, at: k) { done in progress?(done, count) }
            }
        }
        if n == 1 {
            work()
        } else {
            let finished = DispatchGroup()
            for _ in 0..<n {
                finished.enter()
                let t = Thread {
                    work()
                    finished.leave()
                }
                t.stackSize = workerStackBytes
                t.start()
            }
            finished.wait()
        }
        var out: [T] = []
        for r in state.results() {
            switch r {
            case .success(let p): out.append(p)
            case .failure(let e): throw e
            case nil: throw missing
            }
        }
        return out
    }

    /// The counter and the result slots the workers share, behind one lock.
    final class SharedState<T: Sendable>: @unchecked Sendable {
        private let lock = NSLock()
        private var nextIndex = 0
        private var done = 0
        private var slots: [Result<T, InputError>?]

        init(count: Int) { slots = Array(repeating: nil, count: count) }

        func next() -> Int? {
            lock.lock(); defer { lock.unlock() }
            guard nextIndex < slots.count else { return nil }
            nextIndex += 1
            return nextIndex - 1
        }

        /// Stores a result and reports progress, under the lock (so reports come in order).
        func store(_ r: Result<T, InputError>, at k: Int, then report: (Int) -> Void) {
            lock.lock(); defer { lock.unlock() }
            precondition(slots[k] == nil, "slot \(k) written twice")
            slots[k] = r
            done += 1
            report(done)
        }

        func results() -> [Result<T, InputError>?] {
            lock.lock(); defer { lock.unlock() }
            return slots
        }
    }
}
