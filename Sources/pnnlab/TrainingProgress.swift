import Foundation
import PNNRuns
import PNNTraining
import Synchronization

/// Progress of a training run on stderr: a bar with epoch, loss, accuracy,
/// measurements/s and ETA on a terminal; one plain line per evaluated epoch otherwise.
final class TrainingProgress: TrainingObserver {
    private struct State {
        var startedAt = DispatchTime.now().uptimeNanoseconds
        /// Step and cumulative measurements before this session's first step (resume-aware).
        var origin: (step: Int, measurements: Int)?
        var lastDraw: UInt64 = 0
    }

    private let tty: Bool
    private let totalSteps: Int
    private let state = Mutex(State())

    init(totalSteps: Int, tty: Bool = Terminal.stderrIsTTY) {
        self.totalSteps = max(totalSteps, 1)
        self.tty = tty
    }

    func stepCommitted(_ r: StepReport) {
        let now = DispatchTime.now().uptimeNanoseconds
        let (elapsed, rate, stepsThisSession, draw) = state.withLock { s -> (Double, Double, Int, Bool) in
            let origin = s.origin ?? (r.step - 1, r.cumulativeMeasurements - r.measurements)
            s.origin = origin
            let elapsed = Double(now - s.startedAt) / 1e9
            let draw = now - s.lastDraw > 100_000_000 || r.testAccuracy != nil || r.step >= totalSteps
            if draw { s.lastDraw = now }
            let rate = elapsed > 0 ? Double(r.cumulativeMeasurements - origin.measurements) / elapsed : 0
            return (elapsed, rate, max(r.step - origin.step, 1), draw)
        }
        let eta = elapsed / Double(stepsThisSession) * Double(max(totalSteps - r.step, 0))
        if tty {
            guard draw else { return }
            let width = 24
            let filled = min(width, width * r.step / totalSteps)
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            let line =
                "\r epoch \(r.epoch)/\(r.epochs) \(bar) loss \(String(format: "%.4f", r.loss)) "
                + "acc \(formatPercent(r.trainAccuracy))/\(formatPercent(r.testAccuracy)) "
                + "\(formatCount(rate)) meas/s ETA \(formatDuration(eta)) \u{1B}[K"
            Terminal.writeError(line)
        } else if r.testAccuracy != nil {
            Terminal.writeError(
                "epoch \(r.epoch)/\(r.epochs) step \(r.step)/\(totalSteps) loss \(String(format: "%.4f", r.trainLoss ?? r.loss)) "
                    + "train \(formatPercent(r.trainAccuracy)) test \(formatPercent(r.testAccuracy)) "
                    + "measurements \(r.cumulativeMeasurements) (\(formatCount(rate))/s) eta \(formatDuration(eta))\n")
        }
    }

    /// Ends the bar line.
    func finish() {
        if tty { Terminal.writeError("\n") }
    }
}
