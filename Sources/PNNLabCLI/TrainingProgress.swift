import Foundation
import PNNRuns
import PNNTraining
import Synchronization

/// Progress of a training run on stderr. On a terminal: one redrawn line that always fits
/// the terminal's width (unit counter, bar, step k/N, loss, last known accuracy, rate,
/// elapsed time, ETA). Otherwise (piped, logged): plain lines at the ends of epochs or
/// periods, at most one per 2 % of the run, plus the last.
final class TrainingProgress: TrainingObserver {
    private struct State {
        var startedAt: UInt64
        /// Step and cumulative measurements before this session's first step (resume-aware).
        var origin: (step: Int, measurements: Int)?
        var lastDraw: UInt64?
        var lastTrainAccuracy: Double?
        var lastTestAccuracy: Double?
        /// The newest step not yet shown, shown by `finish()`.
        var pending: ProgressSnapshot?
        /// Last 2 % bucket printed in non-terminal mode.
        var printedBucket = -1
        var drewBar = false
    }

    /// Plain lines per run at most (besides the last), in non-terminal mode.
    static let plainLineBudget = 50

    private let tty: Bool
    private let totalSteps: Int
    private let unit: String
    private let rateUnit: String
    private let ceiling: Double?
    private let columns: @Sendable () -> Int
    private let now: @Sendable () -> UInt64
    private let write: @Sendable (String) -> Void
    private let state: Mutex<State>

    /// - Parameters:
    ///   - totalSteps: steps of the whole run (the N in "step k/N").
    ///   - unit: what one pass is called: "epoch" (Jacobian training), "period" (contrastive).
    ///   - rateUnit: what the rate counts ("meas" for measurements, "steps" for learning steps).
    ///   - ceiling: the run's digital ceiling (test accuracy, 0…1), shown beside the accuracies.
    ///   - tty: redraw one line (true) or print plain lines (false).
    ///   - columns: terminal width, asked before every redraw so a resized window is followed.
    ///   - now: monotonic nanoseconds.
    ///   - write: where text goes (stderr).
    init(
        totalSteps: Int, unit: String = "epoch", rateUnit: String = "meas", ceiling: Double? = nil,
        tty: Bool = Terminal.stderrIsTTY,
        columns: @escaping @Sendable () -> Int = { Terminal.stderrColumns() },
        now: @escaping @Sendable () -> UInt64 = { DispatchTime.now().uptimeNanoseconds },
        write: @escaping @Sendable (String) -> Void = { Terminal.writeError($0) }
    ) {
        self.totalSteps = max(totalSteps, 1)
        self.unit = unit
        self.rateUnit = rateUnit
        self.ceiling = ceiling
        self.tty = tty
        self.columns = columns
        self.now = now
        self.write = write
        self.state = Mutex(State(startedAt: now()))
    }

    /// A warning line, on its own line below the progress bar (which the next step redraws).
    func warning(_ line: String) {
        write((tty ? "\n" : "") + "pnnlab: warning: \(line)\n")
    }

    func stepCommitted(_ r: StepReport) {
        let t = now()
        let total = totalSteps
        let width = tty ? columns() : 0
        let output: String? = state.withLock { s in
            let origin = s.origin ?? (r.step - 1, r.cumulativeMeasurements - r.measurements)
            s.origin = origin
            if let a = r.trainAccuracy { s.lastTrainAccuracy = a }
            if let a = r.testAccuracy { s.lastTestAccuracy = a }
            let elapsed = Double(t &- s.startedAt) / 1e9
            let stepsThisSession = max(r.step - origin.step, 1)
            let snapshot = ProgressSnapshot(
                unit: unit, unitIndex: r.epoch, units: r.epochs, step: r.step, totalSteps: total, loss: r.loss,
                evaluationLoss: r.trainLoss,
                trainAccuracy: s.lastTrainAccuracy, testAccuracy: s.lastTestAccuracy, ceiling: ceiling,
                measurements: r.cumulativeMeasurements,
                rate: elapsed > 0 ? Double(r.cumulativeMeasurements - origin.measurements) / elapsed : 0,
                rateUnit: rateUnit, elapsed: elapsed,
                eta: elapsed / Double(stepsThisSession) * Double(max(total - r.step, 0)))
            if tty {
                let due = s.lastDraw.map { t &- $0 > 100_000_000 } ?? true
                guard due || r.trainAccuracy != nil || r.testAccuracy != nil || r.step >= total else {
                    s.pending = snapshot
                    return nil
                }
                s.lastDraw = t
                s.drewBar = true
                s.pending = nil
                return snapshot.redraw(columns: width)
            }
            // A unit ends when the trainer wraps its batch index (Jacobian) or reports the
            // last slot of a period (contrastive).
            let unitEnds = r.batchIndex == 0 || r.batchIndex >= r.batchesPerEpoch
            let last = r.step >= total
            let bucket = r.step * Self.plainLineBudget / total
            guard last || (unitEnds && bucket > s.printedBucket) else {
                s.pending = snapshot
                return nil
            }
            s.printedBucket = bucket
            s.pending = nil
            return snapshot.plainLine() + "\n"
        }
        if let output { write(output) }
    }

    /// Shows the newest step if it was not shown yet (a paused or aborted run stops between
    /// lines) and ends the bar line.
    func finish() {
        let width = tty ? columns() : 0
        let text: String? = state.withLock { s in
            defer { s.pending = nil }
            if tty {
                guard let last = s.pending else { return s.drewBar ? "\n" : nil }
                return last.redraw(columns: width) + "\n"
            }
            return s.pending.map { $0.plainLine() + "\n" }
        }
        if let text { write(text) }
    }
}

/// One moment of a run as the progress display shows it; renders the terminal line and the
/// plain log line.
struct ProgressSnapshot: Sendable {
    var unit: String
    var unitIndex: Int
    var units: Int
    var step: Int
    var totalSteps: Int
    /// Loss of the step's batch (what the bar shows).
    var loss: Double
    /// Loss over the training split when this step ended an evaluation (the plain line prefers it).
    var evaluationLoss: Double?
    /// Last known accuracies (nil until the first evaluation).
    var trainAccuracy: Double?
    var testAccuracy: Double?
    /// The run's digital ceiling (nil: none).
    var ceiling: Double? = nil
    var measurements: Int
    /// Measurements (or learning steps) per second in this session.
    var rate: Double
    var rateUnit: String
    /// Seconds since this session started.
    var elapsed: Double
    /// Seconds still to go, estimated from this session's pace.
    var eta: Double

    /// `train 96.2% test 91.1%` (long) or `acc 96.2%/91.1%` (short); `acc –` before the first evaluation.
    func accuracyText(short: Bool) -> String {
        switch (trainAccuracy, testAccuracy) {
        case (let train?, let test?):
            short
                ? "acc \(formatPercent(train))/\(formatPercent(test))"
                : "train \(formatPercent(train)) test \(formatPercent(test))"
        case (let train?, nil): short ? "acc \(formatPercent(train))" : "train \(formatPercent(train))"
        case (nil, let test?): short ? "acc –/\(formatPercent(test))" : "test \(formatPercent(test))"
        case (nil, nil): "acc –"
        }
    }

    /// The redrawn terminal line, at most `columns − 1` characters (the last column is left
    /// free so no terminal wraps the line). To fit, the accuracy is first written short, then
    /// fields are admitted most useful first while they fit: unit counter, ETA, accuracy, step
    /// counter, the bar, loss, elapsed time, digital ceiling, rate.
    func barLine(columns: Int) -> String {
        let limit = max(columns - 1, 1)
        let minBar = 8
        let maxBar = 30
        // (text, priority: lower survives longer); nil text marks the bar's place.
        typealias Field = (text: String?, priority: Int)
        func fields(shortAccuracy: Bool) -> [Field] {
            [
                ("\(unit) \(unitIndex)/\(units)", 0),
                (nil, 5),
                ("step \(step)/\(totalSteps)", 4),
                ("loss \(formatLoss(loss))", 6),
                (accuracyText(short: shortAccuracy), 3),
                (ceiling.map { "ceiling \(formatPercent($0))" }, 8),
                ("\(formatCount(rate)) \(rateUnit)/s", 9),
                ("elapsed \(formatDuration(elapsed))", 7),
                ("ETA \(formatDuration(eta))", 1),
            ]
        }
        func length(_ f: [Field]) -> Int { f.reduce(-1) { $0 + 1 + ($1.text?.count ?? minBar) } }
        /// The bar's place (nil text, priority 5) is kept; other nil fields (no ceiling) are dropped.
        func present(_ f: [Field]) -> [Field] { f.filter { $0.text != nil || $0.priority == 5 } }
        /// Fields in display order, admitted most useful first while they fit.
        func fitting(_ all: [Field]) -> [Field] {
            var admitted = Set<Int>()
            for i in all.indices.sorted(by: { all[$0].priority < all[$1].priority }) {
                let trial = all.indices.filter { admitted.contains($0) || $0 == i }.map { all[$0] }
                if length(trial) <= limit || admitted.isEmpty { admitted.insert(i) }
            }
            return all.indices.filter(admitted.contains).map { all[$0] }
        }
        var kept = present(fields(shortAccuracy: false))
        if length(kept) > limit { kept = fitting(present(fields(shortAccuracy: true))) }
        let barWidth = min(maxBar, minBar + max(limit - length(kept), 0))
        let filled = min(barWidth, barWidth * max(step, 0) / max(totalSteps, 1))
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: barWidth - filled)
        let line = kept.map { $0.text ?? bar }.joined(separator: " ")
        return String(line.prefix(limit))
    }

    /// Carriage return, the line fitted to `columns`, erase to the end of the line.
    func redraw(columns: Int) -> String { "\r" + barLine(columns: columns) + "\u{1B}[K" }

    /// One plain line for logs and pipes.
    func plainLine() -> String {
        "\(unit) \(unitIndex)/\(units) step \(step)/\(totalSteps) loss \(formatLoss(evaluationLoss ?? loss)) "
            + "train \(formatPercent(trainAccuracy)) test \(formatPercent(testAccuracy)) "
            + (ceiling.map { "ceiling \(formatPercent($0)) " } ?? "")
            + "\(measurements) \(rateUnit) (\(formatCount(rate))/s) elapsed \(formatDuration(elapsed)) "
            + "eta \(formatDuration(eta))"
    }
}
