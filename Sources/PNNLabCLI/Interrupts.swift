import Foundation
import Synchronization
import UnixSignals

/// Signal handling for long work (training): SIGINT (Ctrl-C), SIGTERM (`kill`, `timeout`)
/// and SIGHUP (the terminal closed) all mean "stop".
///
/// - First signal: pause at the next safe point (a committed step or period); the session
///   puts the device in its safe state, checkpoints and marks the run `paused`.
/// - Second signal: abort. The work task is cancelled, the step in flight is dropped, the
///   device still goes through its safe-state ramp and the run is marked `aborted`
///   (resumable from its last committed step).
/// - Third signal: exit at once (the device may not be safe; the run then reads as
///   `interrupted`).
///
/// The exit status after a pause or an abort is 128 + the number of the first signal: 130
/// for SIGINT, 143 for SIGTERM, 129 for SIGHUP, as a shell reports a process killed by it.
///
/// Signals arrive through swift-service-lifecycle's `UnixSignalsSequence` (a Dispatch
/// signal source underneath), so no code runs in signal-handler context.
final class InterruptController: Sendable {
    private struct State {
        var count = 0
        var first: UnixSignal?
        var work: Task<Void, Never>?
    }
    private let state = Mutex(State())
    private let pause = Atomic<Bool>(false)

    private init() {}

    /// Installs the handlers (returns once they are registered, so no early signal is lost)
    /// and starts listening. SIGPIPE is ignored from here on: a closed terminal or pipe on
    /// stderr must not kill a run that is putting its device in a safe state.
    static func install() async -> InterruptController {
        signal(SIGPIPE, SIG_IGN)
        let controller = InterruptController()
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm, .sighup)
        // Lives as long as the process: a signal after the work ended is still an interrupt.
        Task.detached {
            for await received in signals { controller.received(received) }
        }
        return controller
    }

    /// Whether a pause has been requested (the sessions poll this at every safe point).
    var pauseRequested: Bool { pause.load(ordering: .acquiring) }

    /// Whether the work was aborted (a second signal).
    var aborted: Bool { state.withLock { $0.count >= 2 } }

    /// 128 + the first signal's number, or `nil` when no signal arrived.
    var exitStatus: Int32? { state.withLock { $0.first.map { 128 + $0.rawValue } } }

    /// The task to cancel on a second signal (cancelled at once if one already came).
    func watch(_ work: Task<Void, Never>) {
        let cancelNow = state.withLock { s in
            s.work = work
            return s.count >= 2
        }
        if cancelNow { work.cancel() }
    }

    private func received(_ signal: UnixSignal) {
        let (count, first, work) = state.withLock { s in
            s.count += 1
            if s.first == nil { s.first = signal }
            return (s.count, s.first!, s.work)
        }
        let again = first == .sigint ? "Ctrl-C again" : "send \(Self.name(first)) again"
        switch count {
        case 1:
            pause.store(true, ordering: .releasing)
            Terminal.writeError(
                "\npnnlab: \(Self.name(signal)): pausing at the next step boundary (the device will be left safe); \(again) to abort\n"
            )
        case 2:
            Terminal.writeError(
                "\npnnlab: \(Self.name(signal)) again: aborting the step in flight and putting the device in its safe state\n")
            work?.cancel()
        default:
            Terminal.writeError("\npnnlab: \(Self.name(signal)) a third time: exiting now; the device may not be safe\n")
            exit(128 + first.rawValue)
        }
    }

    /// `SIGINT`, `SIGTERM`, `SIGHUP`.
    static func name(_ signal: UnixSignal) -> String {
        switch signal {
        case .sigint: "SIGINT"
        case .sigterm: "SIGTERM"
        case .sighup: "SIGHUP"
        default: "signal \(signal.rawValue)"
        }
    }
}
