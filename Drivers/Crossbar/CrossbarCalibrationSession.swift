import Foundation
import PNNCore
import PNNSim

/// One run of ``CrossbarCalibration`` on one board: the steps in order and what they
/// counted (pulses, reads, warnings).
struct CrossbarCalibrationSession {
    let procedure: CrossbarCalibration
    let bench: any CrossbarVerbs
    let progress: @Sendable (Int, Int, String) -> Void
    var geometry = CrossbarGeometry(config: .ideal)
    var shape = CrossbarPulseShape()
    var pulsesSweeps = 0
    var pulsesRestore = 0
    var pulsesDrift = 0
    var reads = 0
    var warnings: [String] = []
    var rng: SeededRandom
    static let phases = 6

    init(procedure: CrossbarCalibration, bench: any CrossbarVerbs, progress: @escaping @Sendable (Int, Int, String) -> Void) {
        self.procedure = procedure
        self.bench = bench
        self.progress = progress
        self.rng = SeededRandom(seed: procedure.seed)
    }

    var devices: Int { geometry.devices }

    mutating func run() async throws -> CrossbarCalibrationResult {
        geometry = await bench.arrayGeometry()
        let n = devices
        try choosePulseShape()
        let bound = procedure.pulseBound(devices: n)
        if let budget = procedure.pulseBudget, bound > budget {
            throw CrossbarCalibrationError.overBudget(planned: bound, budget: budget)
        }

        // 1. A known state, and the board's history.
        progress(1, Self.phases, "safe state and board history")
        try await bench.enterSafeState()
        try await bench.activateAllLines()
        let before = try await bench.boardStatus()
        guard before.safe else { throw CrossbarCalibrationError.notSafe("identify reports safe = 0 after safeState") }
        guard before.queued == 0 else {
            throw CrossbarCalibrationError.notSafe("\(before.queued) targets are still queued after safeState")
        }
        checkHistory(before)

        // 2. Read noise and the starting conductances.
        progress(2, Self.phases, "read noise: \(procedure.noiseReads) reads of \(n) devices")
        let start = try await readArray(procedure.noiseReads)
        let sigma = Self.relativeSpread(start)
        guard sigma.isFinite else { throw CrossbarCalibrationError.unusable("the device reads are not finite numbers") }
        let g0 = start.means

        // 3. Sweeps: to the bottom, to the top, to the bottom.
        let stop = procedure.stopFraction
        let s1 = try await sweep(set: false, from: g0, sigma: sigma, stop: stop, label: "RESET sweep 1/2")
        let s2 = try await sweep(set: true, from: s1.traces.map { $0.last! }, sigma: sigma, stop: stop, label: "SET sweep")
        // Closer to the bottom: Gmin is small, and its relative error is set by the way left.
        let s3 = try await sweep(
            set: false, from: s2.traces.map { $0.last! }, sigma: sigma, stop: procedure.gMinStopFraction,
            label: "RESET sweep 2/2")
        var fit = fitDevices(s2.traces, s3.traces, sigma: sigma)
        fit.capped = s2.capped.union(s3.capped).subtracting(fit.stuck)
        let writeNoise = Self.writeNoise(s2.traces, s3.traces, fit: fit, sigma: sigma, reads: procedure.stepReads)

        // 4. Back to the starting conductances; what they are now.
        let restored = try await restore(to: g0, from: s3.traces.map { $0.last! }, fit: fit)
        progress(5, Self.phases, "reading the conductances (\(procedure.finalReads) reads)")
        let final = try await readArray(procedure.finalReads)
        let g = final.means

        // 5. Column ADCs.
        let columns = try await calibrateColumns(conductances: g)

        var result = CrossbarCalibrationResult(
            geometry: geometry, gMinUs: fit.gMin, gMaxUs: fit.gMax, alphaSet: fit.alphaSet, alphaReset: fit.alphaReset,
            asymmetry: fit.asymmetry, stuckDevices: fit.stuck.sorted(), cappedDevices: fit.capped.sorted(),
            readNoise: sigma, writeNoise: writeNoise, adcGain: columns.gain, adcOffsetUa: columns.offset,
            deadColumns: columns.dead, conductancesUs: g, outputNoiseUa: 0, twinFidelity: 0, twinFidelityIdealAdcs: 0,
            fidelityVectors: 0,
            fidelityRepeats: 0, pulsesSweeps: pulsesSweeps, pulsesRestore: pulsesRestore, pulsesTotal: 0,
            pulseBound: bound, pulsesBoardCounted: 0, restoredDevices: restored, reads: 0, vectors: 0,
            pulseShape: shape, pulsesBeforeCalibration: Int(before.pulses), warnings: [])

        // 6. Twin fidelity on held-out inputs, then whether the devices moved meanwhile.
        progress(6, Self.phases, "twin fidelity on held-out inputs")
        let fidelity = try await twinFidelity(result)
        result.outputNoiseUa = fidelity.noise
        result.twinFidelity = fidelity.fidelity
        result.twinFidelityIdealAdcs = fidelity.idealADCs
        result.fidelityVectors = procedure.fidelityVectors
        result.fidelityRepeats = procedure.fidelityRepeats
        try await checkDrift(against: final, sigma: sigma, excluding: fit.stuck)

        // 7. Optional: conductance drift after programming (long).
        if let seconds = procedure.driftSeconds {
            let drift = try await measureDrift(seconds: seconds, stuck: fit.stuck)
            result.driftNu = drift.nu
            result.driftNuMean = drift.mean
            result.driftNuSpread = drift.spread
            result.driftSeconds = drift.ages.last
            result.driftT0 = procedure.driftT0
            result.driftProgrammingUncertainty = drift.programmingUncertainty
        }

        try await bench.activateAllLines()
        let after = try await bench.boardStatus()
        result.pulsesDrift = procedure.driftSeconds == nil ? nil : pulsesDrift
        result.pulsesTotal = pulsesSweeps + pulsesRestore + pulsesDrift
        result.pulsesBoardCounted = Int(after.pulses &- before.pulses)
        if result.pulsesBoardCounted != result.pulsesTotal {
            warnings.append(
                "the board counted \(result.pulsesBoardCounted) pulses during the calibration, the procedure sent "
                    + "\(result.pulsesTotal): another host may be using the board")
        }
        if after.violations != before.violations {
            warnings.append("the board refused \(after.violations &- before.violations) values during the calibration")
        }
        result.vectors = Int(after.vectors &- before.vectors)
        result.reads = reads
        result.warnings = warnings
        return result
    }

    // MARK: 1. Known state

    private mutating func choosePulseShape() throws {
        let g = geometry
        guard let given = procedure.pulseShape else {
            shape = CrossbarPulseShape().fitted(to: g)
            return
        }
        guard given.setAmplitude > 0, given.setAmplitude <= g.vPulseMax, given.resetAmplitude < 0,
            -given.resetAmplitude <= g.vPulseMax, given.width >= g.widthMin, given.width <= g.widthMax
        else {
            throw CrossbarCalibrationError.outOfRange(
                "a \(given.setAmplitude) V, \(given.width) ns pulse is outside the board's ±\(g.vPulseMax) V, "
                    + "\(g.widthMin)…\(g.widthMax) ns")
        }
        shape = given
    }

    private mutating func checkHistory(_ status: CrossbarStatus) {
        if status.violations > 0 {
            warnings.append(
                "the board has refused \(status.violations) out-of-range values since power-up: some host sent it "
                    + "unsafe values; check that nothing else drives it")
        }
        let perDevice = Double(status.pulses) / Double(max(devices, 1))
        if perDevice > Double(procedure.wearWarningPulses) {
            warnings.append(
                String(
                    format: "the devices have had %.0f pulses each on average since power-up: cycling wear shifts "
                        + "windows and step sizes, so this profile describes the worn array", perDevice))
        }
    }

    // MARK: Reads

    /// `times` reads of every device: per-device means and sums of squared deviations.
    struct ArrayReads {
        var means: [Double]
        var squares: [Double]
        var count: Int
    }

    mutating func readArray(_ times: Int) async throws -> ArrayReads {
        var all: [[Double]] = []
        for _ in 0..<times {
            let r = try await bench.readParameters()
            guard r.count == devices, r.allSatisfy(\.isFinite) else {
                throw CrossbarCalibrationError.unusable("a read of every device returned \(r.count) values or non-numbers")
            }
            all.append(r)
        }
        reads += times * devices
        var means = [Double](repeating: 0, count: devices)
        var squares = means
        for r in all { for d in 0..<devices { means[d] += r[d] / Double(times) } }
        for r in all { for d in 0..<devices { squares[d] += (r[d] - means[d]) * (r[d] - means[d]) } }
        return ArrayReads(means: means, squares: squares, count: times)
    }

    /// Pooled relative standard deviation of one read: √(Σ (x − x̄)²/x̄² / (devices·(k − 1))).
    static func relativeSpread(_ r: ArrayReads) -> Double {
        guard r.count > 1 else { return 0 }
        var sum = 0.0, dof = 0
        for d in r.means.indices where r.means[d] > 0 {
            sum += r.squares[d] / (r.means[d] * r.means[d])
            dof += r.count - 1
        }
        return dof > 0 ? sqrt(sum / Double(dof)) : .nan
    }

    // MARK: 3. Sweeps

    struct Sweep {
        /// Per device: the averaged read before the first pulse and after each pulse.
        var traces: [[Double]]
        /// Devices still moving when the pulse cap stopped them.
        var capped: Set<Int>
    }

    /// One pulse per device per step, all devices together, until each has converged (the
    /// soft-bounds fit leaves less than `stop` of its way), stopped moving (stuck, or
    /// already at its bound) or had `maxPulses`.
    private mutating func sweep(set: Bool, from start: [Double], sigma: Double, stop: Double, label: String) async throws
        -> Sweep
    {
        let phase = set ? 3 : (label.hasSuffix("1/2") ? 3 : 4)
        var traces = start.map { [$0] }
        var active = Array(0..<devices)
        var capped = Set<Int>()
        var step = 0
        let r = procedure.stepReads
        while !active.isEmpty {
            if step >= procedure.maxPulses {
                capped.formUnion(active)
                break
            }
            step += 1
            let first = try await bench.pulseRead(active.map { CrossbarPulse(device: $0, set: set) }, shape: shape)
            pulsesSweeps += active.count
            reads += active.count
            var sums = first
            for _ in 1..<max(r, 1) {
                let all = try await bench.readParameters()
                reads += devices
                for (i, d) in active.enumerated() { sums[i] += all[d] }
            }
            for (i, d) in active.enumerated() { traces[d].append(sums[i] / Double(max(r, 1))) }
            progress(phase, Self.phases, "\(label): step \(step), \(active.count) devices still moving")
            if step >= 24 && step % 8 == 0 {
                active = active.filter { !Self.finished(traces[$0], sigma: sigma, reads: r, stop: stop) }
            }
        }
        return Sweep(traces: traces, capped: capped)
    }

    /// Whether a sweep is over for a device: no trend at all, or the fit leaves less than
    /// `stop` of the way.
    static func finished(_ trace: [Double], sigma: Double, reads: Int, stop: Double) -> Bool {
        if abs(LineFit.trendT(trace)) < 4 { return true }
        guard let fit = SoftBoundsFit.fit(trace, variance: variance(trace, sigma: sigma, reads: reads)) else { return false }
        return fit.remaining(after: trace.count - 1) < stop
    }

    /// Weights of a sweep fit: read noise of an average of `reads` reads, plus the spread the
    /// write noise gives the trajectory (about 3 % of the way left).
    static func variance(_ trace: [Double], sigma: Double, reads: Int) -> (Int, Double) -> Double {
        let end = trace.last ?? 0
        return { _, m in sigma * sigma * m * m / Double(max(reads, 1)) + pow(0.03 * (m - end), 2) + 1e-8 }
    }

    // MARK: Fits

    struct DeviceFit {
        var gMin: [Double]
        var gMax: [Double]
        var alphaSet: [Double]
        var alphaReset: [Double]
        var stuck: Set<Int>
        var capped = Set<Int>()
        var asymmetry: Double
    }

    /// Gmax and αset from the SET sweep, Gmin and αreset from the second RESET sweep; a
    /// device that moved in neither is stuck (its level is the mean of its reads).
    private func fitDevices(_ up: [[Double]], _ down: [[Double]], sigma: Double) -> DeviceFit {
        let n = devices
        let nominal = geometry.gMax - geometry.gMin
        var f = DeviceFit(
            gMin: .init(repeating: 0, count: n), gMax: .init(repeating: 0, count: n),
            alphaSet: .init(repeating: 0, count: n), alphaReset: .init(repeating: 0, count: n), stuck: [], asymmetry: 0)
        var ratios: [Double] = []
        for d in 0..<n {
            let rise = up[d].last! - up[d].first!
            let fall = down[d].first! - down[d].last!
            let movedUp = LineFit.trendT(up[d]) >= 5 && rise > 0.02 * nominal
            let movedDown = LineFit.trendT(down[d]) <= -5 && fall > 0.02 * nominal
            if !movedUp && !movedDown {
                let level = (up[d] + down[d]).reduce(0, +) / Double(up[d].count + down[d].count)
                f.stuck.insert(d)
                (f.gMin[d], f.gMax[d]) = (level, level)
                continue
            }
            let r = procedure.stepReads
            let set = SoftBoundsFit.fit(up[d], variance: Self.variance(up[d], sigma: sigma, reads: r))
            let reset = SoftBoundsFit.fit(down[d], variance: Self.variance(down[d], sigma: sigma, reads: r))
            f.gMax[d] = set?.bound ?? up[d].max()!
            f.alphaSet[d] = set?.alpha ?? 0
            f.gMin[d] = reset?.bound ?? down[d].min()!
            f.alphaReset[d] = reset?.alpha ?? 0
            if f.alphaReset[d] > 0 { ratios.append(f.alphaSet[d] / f.alphaReset[d]) }
        }
        f.asymmetry = ratios.isEmpty ? 0 : ratios.reduce(0, +) / Double(ratios.count)
        return f
    }

    /// Cycle-to-cycle write noise w from the sweeps: each step's residual against the fitted
    /// soft-bounds step s_k = α(bound − G_k) has variance w²s_k² plus the read noise of the two
    /// averages; w² = Σ(e² − read variance) / Σ s² over the steps where s² exceeds 4 × the read
    /// variance.
    static func writeNoise(_ up: [[Double]], _ down: [[Double]], fit: DeviceFit, sigma: Double, reads: Int) -> Double {
        var num = 0.0, den = 0.0
        let r = Double(max(reads, 1))
        for d in up.indices where !fit.stuck.contains(d) {
            for (trace, alpha, bound) in [(up[d], fit.alphaSet[d], fit.gMax[d]), (down[d], fit.alphaReset[d], fit.gMin[d])] {
                guard alpha > 0, trace.count > 2 else { continue }
                for k in 1..<(trace.count - 1) {
                    let (m0, m1) = (trace[k], trace[k + 1])
                    let s = alpha * (bound - m0)
                    let e = m1 - m0 - s
                    let v = sigma * sigma * (m1 * m1 + (1 - alpha) * (1 - alpha) * m0 * m0) / r
                    // Only steps the write noise dominates: near a bound the read noise swamps
                    // it, and a few per cent of error in the subtracted read variance would bias w.
                    guard s * s > 4 * v else { continue }
                    num += e * e - v
                    den += s * s
                }
            }
        }
        return den > 0 ? sqrt(max(num / den, 0)) : 0
    }

    // MARK: 4. Restore

    /// Single pulses and reads towards each working device's starting conductance (kept
    /// inside its measured window by the verify tolerance), at most `maxPulses` per device.
    /// Returns the devices that ended within tolerance.
    private mutating func restore(to targets: [Double], from now: [Double], fit: DeviceFit) async throws -> Int {
        let tol = geometry.tolerance
        var goal = targets
        var current = now
        var used = [Int](repeating: 0, count: devices)
        var active: [Int] = []
        for d in 0..<devices where !fit.stuck.contains(d) {
            let lo = fit.gMin[d] + tol, hi = fit.gMax[d] - tol
            guard lo < hi else { continue }
            goal[d] = min(max(targets[d], lo), hi)
            if abs(current[d] - goal[d]) > tol { active.append(d) }
        }
        var round = 0
        while !active.isEmpty {
            round += 1
            let pulses = active.map { CrossbarPulse(device: $0, set: current[$0] < goal[$0]) }
            let r = try await bench.pulseRead(pulses, shape: shape)
            pulsesRestore += pulses.count
            reads += pulses.count
            for (i, d) in active.enumerated() {
                current[d] = r[i]
                used[d] += 1
            }
            progress(4, Self.phases, "restoring the starting conductances: round \(round), \(active.count) devices")
            active = active.filter { abs(current[$0] - goal[$0]) > tol && used[$0] < procedure.maxPulses }
        }
        return (0..<devices).filter { !fit.stuck.contains($0) && abs(current[$0] - goal[$0]) <= tol }.count
    }

    // MARK: 5. Columns

    struct Columns {
        var gain: [Double]
        var offset: [Double]
        var dead: [Int]
    }

    /// Random input vectors on the DAC's levels, each scaled so no column can exceed 90 % of
    /// the full scale with the conductances `g`.
    private mutating func randomInputs(_ count: Int, conductances g: [Double], onDACLevels: Bool) -> Matrix {
        let rows = geometry.rows, cols = geometry.columns
        var x = Matrix(rows: count, cols: rows)
        let step = geometry.dacStep
        for b in 0..<count {
            var v = (0..<rows).map { _ in (2 * rng.uniform() - 1) * 0.8 * geometry.vReadMax }
            var worst = 0.0
            for c in 0..<cols { worst = max(worst, (0..<rows).map { abs(v[$0]) * max(g[$0 * cols + c], 0) }.reduce(0, +)) }
            if worst > 0.9 * geometry.fullScale { v = v.map { $0 * 0.9 * geometry.fullScale / worst } }
            for i in 0..<rows {
                var value = v[i]
                if onDACLevels && step > 0 { value = (value / step).rounded(.towardZero) * step }
                x[b, i] = min(max(value, -geometry.vReadMax), geometry.vReadMax)
            }
        }
        return x
    }

    private mutating func calibrateColumns(conductances g: [Double]) async throws -> Columns {
        progress(5, Self.phases, "column ADCs: \(procedure.columnVectors) input vectors per column")
        let rows = geometry.rows, cols = geometry.columns
        // No all-zero vectors: with no current there is no read noise to dither the ADC, and
        // their readings would round the offset to a whole step.
        let x = randomInputs(procedure.columnVectors, conductances: g, onDACLevels: true)
        let m = try await bench.measureColumns(x)
        var gain = [Double](repeating: 0, count: cols), offset = gain
        var dead: [Int] = []
        let step = geometry.adcStep
        for c in 0..<cols {
            var p: [Double] = [], y: [Double] = []
            for b in 0..<x.rows {
                p.append((0..<rows).map { x[b, $0] * g[$0 * cols + c] }.reduce(0, +))
                y.append(m[b, c])
            }
            let largest = p.map(abs).max() ?? 0
            let silent = y.allSatisfy { abs($0) <= max(step / 2, 1e-12) }
            if silent && largest > max(20 * step, 1e-3 * geometry.fullScale) {
                dead.append(c)
                continue
            }
            let usable = p.indices.filter { abs(y[$0]) < 0.98 * geometry.fullScale }
            guard let line = LineFit.fit(usable.map { p[$0] }, usable.map { y[$0] }) else {
                throw CrossbarCalibrationError.unusable("column \(c): too few unsaturated readings to fit its ADC")
            }
            // A column stuck at a constant (an ADC reading only its offset) is dead too.
            if line.slope < 0.2 && largest > max(20 * step, 1e-3 * geometry.fullScale) {
                dead.append(c)
                continue
            }
            gain[c] = line.slope
            offset[c] = line.intercept
        }
        return Columns(gain: gain, offset: offset, dead: dead)
    }

    // MARK: 6. Twin fidelity and drift

    /// RMS(predicted − measured) over every single measurement of the held-out inputs,
    /// divided by the pooled standard deviation of repeated measurements of the same input
    /// (at least the ADC's quantisation noise, step/√12);
    /// also for the same twin with ideal column ADCs (gain 1, offset 0), which shows what the
    /// column calibration is worth.
    private mutating func twinFidelity(_ result: CrossbarCalibrationResult) async throws -> (
        fidelity: Double, idealADCs: Double, noise: Double
    ) {
        var twin = try result.twinPhysics(noise: false)
        var plain = result
        plain.adcGain = plain.adcGain.map { _ in 1 }
        plain.adcOffsetUa = plain.adcOffsetUa.map { _ in 0 }
        var idealADCs = try plain.twinPhysics(noise: false)
        let x = randomInputs(procedure.fidelityVectors, conductances: result.conductancesUs, onDACLevels: false)
        let predicted = twin.forward(x)
        let predictedIdeal = idealADCs.forward(x)
        var measured: [Matrix] = []
        for _ in 0..<max(procedure.fidelityRepeats, 2) { measured.append(try await bench.measure(x)) }
        var within = 0.0, error = 0.0, errorIdeal = 0.0
        let outputs = geometry.outputs
        for b in 0..<x.rows {
            for j in 0..<outputs {
                let values = measured.map { $0[b, j] }
                let mean = values.reduce(0, +) / Double(values.count)
                for v in values {
                    within += (v - mean) * (v - mean)
                    error += (v - predicted[b, j]) * (v - predicted[b, j])
                    errorIdeal += (v - predictedIdeal[b, j]) * (v - predictedIdeal[b, j])
                }
            }
        }
        let k = Double(measured.count)
        let cells = Double(x.rows * outputs)
        // Floored at the ADC's quantisation noise (and 1 pA): a noise-free board would
        // otherwise divide rounding errors by zero.
        let noise = max(sqrt(within / (cells * (k - 1))), geometry.adcStep / sqrt(12), 1e-6)
        return (sqrt(error / (cells * k)) / noise, sqrt(errorIdeal / (cells * k)) / noise, noise)
    }

    /// Reads every device again and warns when the conductances moved, beyond the read
    /// noise, since they were read for the twin: the devices drift, and a profile is stale
    /// as soon as it is taken.
    private mutating func checkDrift(against earlier: ArrayReads, sigma: Double, excluding stuck: Set<Int>) async throws {
        let later = try await readArray(8)
        var z: [Double] = []
        var relative: [Double] = []
        for d in 0..<devices where !stuck.contains(d) && earlier.means[d] > 0 {
            // At least 1 ppm of read noise: a noise-free board's rounding is not drift.
            let se = max(sigma, 1e-6) * earlier.means[d] * sqrt(1 / Double(earlier.count) + 1 / Double(later.count))
            guard se > 0 else { continue }
            z.append((later.means[d] - earlier.means[d]) / se)
            relative.append((later.means[d] - earlier.means[d]) / earlier.means[d])
        }
        guard !z.isEmpty else { return }
        let meanZ = z.reduce(0, +) / Double(z.count)
        if abs(meanZ) * sqrt(Double(z.count)) > 5 {
            let shift = relative.reduce(0, +) / Double(relative.count)
            warnings.append(
                String(
                    format: "the conductances moved by %+.2f %% on average while the calibration ran (drift or "
                        + "relaxation after programming): the fitted twin is already stale; calibrate again once the "
                        + "devices have settled", shift * 100))
        }
    }
}
