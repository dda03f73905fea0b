import Dispatch
import Foundation
import Synchronization

/// Ctrl-C handling for long work: the first SIGINT (or SIGTERM) asks for a pause at the
/// next safe point (a step boundary); the second cancels the work, which then leaves the
/// device in its safe state and exits.
final class InterruptController: Sendable {
    private let count = Atomic<Int>(0)
    private let task = Mutex<Task<Void, Never>?>(nil)
    /// Kept alive for the life of the controller (a released source stops delivering).
    nonisolated(unsafe) private var sources: [any DispatchSourceSignal] = []

    /// Install handlers for SIGINT and SIGTERM.
    init() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [weak self] in self?.interrupted() }
            source.resume()
            sources.append(source)
        }
    }

    /// Whether a pause has been requested.
    var pauseRequested: Bool { count.load(ordering: .relaxed) > 0 }

    /// The task to cancel on a second interrupt.
    func watch(_ t: Task<Void, Never>) { task.withLock { $0 = t } }

    private func interrupted() {
        let n = count.add(1, ordering: .relaxed).newValue
        if n == 1 {
            Terminal.writeError("\npnnlab: pausing at the next step boundary (device will be left safe); Ctrl-C again to abort\n")
        } else if n == 2 {
            Terminal.writeError("\npnnlab: aborting: putting the device in its safe state\n")
            task.withLock { $0?.cancel() }
        } else {
            Foundation.exit(130)
        }
    }
}
