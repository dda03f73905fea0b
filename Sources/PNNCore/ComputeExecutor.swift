import Dispatch

/// A serial executor on its own dispatch queue, for actors that compute for long stretches
/// (a twin running thousands of Newton solves): their work then runs on a dispatch thread
/// instead of holding one of Swift's few cooperative threads, so timers, links and other
/// tasks of the process keep running on a 2-core machine.
public final class ComputeExecutor: SerialExecutor, @unchecked Sendable {
    private let queue: DispatchQueue

    public init(label: String) { queue = DispatchQueue(label: label) }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor { UnownedSerialExecutor(ordinary: self) }
}
