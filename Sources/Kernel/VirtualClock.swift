import HeapModule

/// The only source of time in the simulator. It starts where it is told and
/// moves only when the scheduler advances it; nothing ever reads the wall clock.
public final class VirtualClock {
    public private(set) var now: Micros

    public init(start: Micros = 0) { self.now = start }

    /// Moves time forward. Time never goes backwards.
    public func advance(to t: Micros) {
        precondition(t >= now, "virtual time cannot go backwards (\(t) < \(now))")
        now = t
    }
}

/// A discrete-event scheduler on the virtual clock.
///
/// Order is total and fixed: events run by time, then by `priority` (lower
/// first), then in the order they were scheduled (FIFO). So two runs that
/// schedule the same events in the same order run them in the same order, on
/// every machine.
///
/// Complexity: `schedule` and `runNext` are O(log n) in pending events.
public final class EventScheduler {
    public typealias Action = (Micros) -> Void

    struct Entry: Comparable {
        let time: Micros
        let priority: Int
        let sequence: UInt64
        let action: Action
        static func < (a: Entry, b: Entry) -> Bool {
            if a.time != b.time { return a.time < b.time }
            if a.priority != b.priority { return a.priority < b.priority }
            return a.sequence < b.sequence
        }
        static func == (a: Entry, b: Entry) -> Bool {
            a.time == b.time && a.priority == b.priority && a.sequence == b.sequence
        }
    }

    public let clock: VirtualClock
    private var heap = Heap<Entry>()
    private var nextSequence: UInt64 = 0
    public private(set) var eventsRun: UInt64 = 0

    public init(clock: VirtualClock) { self.clock = clock }

    public var pendingCount: Int { heap.count }
    public var nextEventTime: Micros? { heap.min?.time }

    /// Schedules `action` at time `at` (never earlier than now).
    public func schedule(at: Micros, priority: Int = 0, _ action: @escaping Action) {
        precondition(at >= clock.now, "cannot schedule in the past (\(at) < \(clock.now))")
        heap.insert(Entry(time: at, priority: priority, sequence: nextSequence, action: action))
        nextSequence &+= 1
    }

    /// Runs the earliest event; returns false when none is pending.
    @discardableResult
    public func runNext() -> Bool {
        guard let e = heap.popMin() else { return false }
        clock.advance(to: e.time)
        eventsRun &+= 1
        e.action(e.time)
        return true
    }

    /// Runs every event with time <= `end`, then leaves the clock at `end`.
    /// `maxEvents` bounds the loop so a scheduling bug cannot hang a run.
    public func run(until end: Micros, maxEvents: UInt64 = .max) {
        var n: UInt64 = 0
        while let t = heap.min?.time, t <= end {
            precondition(n < maxEvents, "event limit \(maxEvents) reached before \(end)")
            runNext(); n += 1
        }
        if end > clock.now { clock.advance(to: end) }
    }
}
