import Foundation

/// One dedicated thread that runs blocking jobs (a port's `poll`/`read`/`write`) in the
/// order they were submitted.
///
/// Not a dispatch queue: libdispatch on Linux runs at most 255 blocked work items at once
/// across a process, so with many open links (a test suite, a rig of boards) a read waiting
/// its whole timeout on one port would hold back reads on others for seconds. A worker's
/// thread is started by the first job, sleeps on a condition variable while idle (no CPU) and
/// exits once ``finish()`` was called and every job ran; a job submitted after that (a read
/// on a closed port, which returns at once) starts a thread again.
final class BlockingWorker: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var started = false
    private var finished = false
    private let name: String

    init(name: String) { self.name = name }

    /// Queues `job` behind the jobs already submitted.
    func run(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        if !started {
            started = true
            let thread = Thread { [self] in loop() }
            thread.name = name
            thread.stackSize = 1 << 20
            thread.start()
        }
        condition.signal()
        condition.unlock()
    }

    /// Lets the thread exit after the jobs already queued.
    func finish() {
        condition.lock()
        finished = true
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty && !finished { condition.wait() }
            if jobs.isEmpty {
                started = false
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }
}
