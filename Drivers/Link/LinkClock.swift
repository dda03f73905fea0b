import Synchronization

/// The time source of the link layer. ``WireClient`` reads it for request deadlines and
/// retries, ``LinkConnection`` for the reconnect grace period and its backoff, and both
/// sleep on it. Real sessions use ``continuous`` (the default everywhere); tests pass a
/// ``ManualClock`` and advance it, so timeouts, retries and backoff run without waiting.
///
/// Every sleep honours task cancellation: a cancelled sleeper returns at once with
/// `CancellationError`.
public struct LinkClock: Sendable {
    private let elapsed: @Sendable () -> Duration
    private let sleeper: @Sendable (Duration) async throws -> Void
    /// Whether a timer with nothing left to time may be left to fire rather than cancelled:
    /// true on real time (one idle wake-up later costs less than cancelling and re-creating
    /// the timer for every request), false on a ``ManualClock``, where a left-over sleeper
    /// would be seen by a test waiting for the code under test to sleep.
    public let idleTimersMayRun: Bool

    /// Wraps any clock that measures in `Duration` (e.g. `ContinuousClock`, ``ManualClock``).
    /// Times are measured from the moment this value is made.
    public init<C: Clock>(_ clock: C) where C.Duration == Swift.Duration {
        let origin = clock.now
        self.elapsed = { origin.duration(to: clock.now) }
        self.sleeper = { deadline in try await clock.sleep(until: origin.advanced(by: deadline), tolerance: nil) }
        self.idleTimersMayRun = !(clock is ManualClock)
    }

    /// Real, monotonic time (`ContinuousClock`).
    public static var continuous: LinkClock { LinkClock(ContinuousClock()) }

    /// Time since this clock value was made.
    public var now: Duration { elapsed() }

    /// Sleeps until ``now`` reaches `deadline`; returns at once if it already has.
    /// Throws `CancellationError` when the task is cancelled.
    public func sleep(until deadline: Duration) async throws {
        try await sleeper(deadline)
    }

    /// Sleeps for `duration`. Throws `CancellationError` when the task is cancelled.
    public func sleep(for duration: Duration) async throws {
        try await sleeper(now + duration)
    }
}

/// A clock that moves only when told to: tests advance it to fire request deadlines,
/// retries and reconnect backoff at exactly the moment they choose, without real sleeps.
/// Sleepers whose deadline is reached by ``advance(by:)`` resume in deadline order;
/// cancelled sleepers resume at once with `CancellationError`.
public final class ManualClock: Clock, Sendable {
    /// A point on a ``ManualClock``: the time since the clock was made.
    public struct Instant: InstantProtocol, CustomStringConvertible {
        /// Time since the clock was made.
        public var offset: Duration

        public init(offset: Duration) { self.offset = offset }
        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (a: Instant, b: Instant) -> Bool { a.offset < b.offset }
        public var description: String { "t+\(offset)" }
    }

    private struct Sleeper {
        var deadline: Duration
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Duration = .zero
        var nextID: UInt64 = 0
        var sleepers: [UInt64: Sleeper] = [:]
        var cancelledBeforeSleeping: Set<UInt64> = []
        var watchers: [UInt64: (count: Int, continuation: CheckedContinuation<Bool, Never>)] = [:]

        /// Watchers whose wanted number of sleepers is reached, removed from the list.
        mutating func satisfiedWatchers() -> [CheckedContinuation<Bool, Never>] {
            let n = sleepers.count
            let ready = watchers.filter { $0.value.count <= n }
            for id in ready.keys { watchers[id] = nil }
            return ready.values.map(\.continuation)
        }
    }

    private let state = Mutex(State())

    /// A clock at t = 0 with nobody sleeping.
    public init() {}

    public var now: Instant { Instant(offset: state.withLock { $0.now }) }
    public var minimumResolution: Duration { .nanoseconds(1) }

    /// Tasks sleeping on this clock right now.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    /// The earliest deadline anyone sleeps until, if anyone sleeps.
    public var nextDeadline: Instant? {
        state.withLock { $0.sleepers.values.map(\.deadline).min().map(Instant.init(offset:)) }
    }

    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let id = state.withLock { s in
            s.nextID += 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                enum Outcome { case asleep([CheckedContinuation<Bool, Never>]), due, cancelled }
                let outcome: Outcome = state.withLock { s in
                    if s.cancelledBeforeSleeping.remove(id) != nil { return .cancelled }
                    if deadline.offset <= s.now { return .due }
                    s.sleepers[id] = Sleeper(deadline: deadline.offset, continuation: c)
                    return .asleep(s.satisfiedWatchers())
                }
                switch outcome {
                case .due: c.resume()
                case .cancelled: c.resume(throwing: CancellationError())
                case .asleep(let watchers): for w in watchers { w.resume(returning: true) }
                }
            }
        } onCancel: {
            let sleeper: Sleeper? = state.withLock { s in
                guard let sleeper = s.sleepers.removeValue(forKey: id) else {
                    s.cancelledBeforeSleeping.insert(id)
                    return nil
                }
                return sleeper
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
        // A sleeper that finished normally leaves no cancellation mark behind.
        state.withLock { _ = $0.cancelledBeforeSleeping.remove(id) }
    }

    /// Moves the clock forward by `duration` and wakes every sleeper whose deadline is reached.
    public func advance(by duration: Duration) {
        precondition(duration >= .zero, "a clock cannot go back")
        let due: [Sleeper] = state.withLock { s in
            s.now += duration
            let now = s.now
            let due = s.sleepers.filter { $0.value.deadline <= now }
            for id in due.keys { s.sleepers[id] = nil }
            return due.values.sorted { $0.deadline < $1.deadline }
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Moves the clock forward to the earliest sleeper's deadline (if anyone sleeps) and
    /// wakes it; returns how far the clock moved.
    @discardableResult
    public func advanceToNextDeadline() -> Duration {
        guard let next = nextDeadline else { return .zero }
        let step = max(.zero, now.duration(to: next))
        advance(by: step)
        return step
    }

    /// Returns true once at least `count` tasks sleep on this clock (at once if they already
    /// do): lets a test wait until the code under test is blocked on a timer before advancing.
    /// Returns false if that has not happened within `limit` of real time, or on cancellation,
    /// so a broken test fails instead of hanging.
    @discardableResult
    public func waitForSleepers(_ count: Int = 1, limit: Duration = .seconds(10)) async -> Bool {
        let id = state.withLock { s in
            s.nextID += 1
            return s.nextID
        }
        let giveUp = Task { [weak self] in
            try? await Task.sleep(for: limit)
            self?.dropWatcher(id)
        }
        defer { giveUp.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
                let ready: Bool = state.withLock { s in
                    if s.sleepers.count >= count { return true }
                    s.watchers[id] = (count, c)
                    return false
                }
                if ready { c.resume(returning: true) }
            }
        } onCancel: {
            dropWatcher(id)
        }
    }

    private func dropWatcher(_ id: UInt64) {
        state.withLock { $0.watchers.removeValue(forKey: id) }?.continuation.resume(returning: false)
    }
}
