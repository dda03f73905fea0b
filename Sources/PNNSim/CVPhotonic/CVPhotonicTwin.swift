import Foundation
import PNNCore

/// `sim:cv-photonic`: a continuous-variable photonic circuit simulated as Gaussian states
/// (ħ = 2, xxpp ordering) behind the `Substrate` protocol. θ = the circuit's beam-splitter
/// and phase angles (radians), inputs = real displacement amplitudes α of modes
/// 0 ..< inputs, outputs = homodyne reads of ⟨x⟩ of modes 0 ..< readouts (vacuum units:
/// vacuum variance 1), each the mean of `shots` shots.
///
/// With displacement encoding and mean-x readout the map α → ⟨x⟩ is linear
/// (⟨x⟩ = 2√T · Re-block of S · α); a bias line makes it affine — a linear classifier.
/// The multiplier layout (`CVCircuitLayout.multiplier`) feeds input line 0 to the
/// squeezers instead, so ⟨x⟩ can be a product of two inputs; its shot noise depends on
/// the squeezing, hence on the input.
public actor CVPhotonicTwin: Substrate {
    public nonisolated let descriptor: SubstrateDescriptor
    public nonisolated let circuit: CVCircuit
    private var angles: [Double]
    private var rng: SeededRandom
    /// Reads taken so far (one per input vector per repeat).
    public private(set) var reads = 0
    private var cache: (angles: [Double], mesh: Matrix, detector: HomodyneX)?
    private var multiplierCache: (angles: [Double], a: Matrix, b: Matrix)?

    /// A circuit with angles drawn uniformly from the safe range (seeded).
    public init(config: CVPhotonicConfig) throws(CVPhotonicError) {
        let circuit = try CVCircuit(config: config)
        var draw = SeededRandom.derived(seed: config.seed, stream: 0xC0_FFEE)
        let range = CVCircuit.angleRange
        let angles = (0..<circuit.parameterCount).map { _ in
            range.lowerBound + (range.upperBound - range.lowerBound) * draw.uniform()
        }
        try self.init(circuit: circuit, angles: angles, rng: .derived(seed: config.seed, stream: 0x5407), reads: 0)
    }

    init(circuit: CVCircuit, angles: [Double], rng: SeededRandom, reads: Int) throws(CVPhotonicError) {
        self.circuit = circuit
        self.rng = rng
        self.reads = reads
        self.angles = angles
        let c = circuit.config
        // The multiplier's anti-squeezed quadratures grow by up to e^{|r| + κ·limit}.
        let growth = c.layout == .multiplier ? exp(abs(c.squeezing) + c.squeezeGain * c.amplitudeLimit) : 1
        let outputBound = 2 * c.amplitudeLimit * Double(c.inputs).squareRoot() * growth + 10
        descriptor = SubstrateDescriptor(
            identity: DeviceIdentity(
                family: "cv-photonic", model: "gaussian-twin-\(circuit.modes)m", serial: "sim-\(c.seed)", firmware: "twin-1"),
            parameters: ParameterSpace(
                count: circuit.parameterCount, lower: CVCircuit.angleRange.lowerBound,
                upper: CVCircuit.angleRange.upperBound, resolution: c.angleResolution, unit: .radian,
                naming: .indexed(prefix: "angle")),
            inputs: ChannelSpace(
                count: c.inputs, lower: -c.amplitudeLimit, upper: c.amplitudeLimit, resolution: 0, unit: .dimensionless),
            outputs: ChannelSpace(
                count: c.readouts, lower: -outputBound, upper: outputBound, resolution: 0, unit: .dimensionless),
            capabilities: [], maxBatch: 4096)
        try Self.checkAngles(angles, circuit: circuit)
    }

    /// Restores a twin from `exportState()` JSON.
    public init(importing data: Data) throws(CVPhotonicError) {
        let doc: CVPhotonicStateDocument
        do {
            doc = try JSONDecoder().decode(CVPhotonicStateDocument.self, from: data)
        } catch {
            throw .badState("not a cv-photonic state document (\(error))")
        }
        guard doc.format == CVPhotonicStateDocument.formatName else {
            throw .badState("format '\(doc.format)', expected '\(CVPhotonicStateDocument.formatName)'")
        }
        guard doc.version == 1 else { throw .badState("version \(doc.version) is not supported (this pnnlab reads 1)") }
        guard doc.hbar == GaussianState.hbar, doc.ordering == "xxpp" else {
            throw .badState("ħ = \(doc.hbar), ordering \(doc.ordering); this twin uses ħ = 2 and xxpp")
        }
        guard doc.reads >= 0 else { throw .badState("negative read count") }
        try self.init(circuit: try CVCircuit(config: doc.config), angles: doc.angles, rng: doc.rng, reads: doc.reads)
    }

    /// The current angles, the noise generator's state and, for checking outside pnnlab,
    /// the mesh's symplectic matrix and the detected covariance — as JSON.
    public func exportState() throws(CVPhotonicError) -> Data {
        var doc: CVPhotonicStateDocument
        if circuit.config.layout == .multiplier {
            let (a, b) = meshes()
            let state = circuit.outputState(angles: angles, inputs: Array(repeating: 0, count: circuit.config.inputs))
            doc = CVPhotonicStateDocument(
                config: circuit.config, angles: angles, rng: rng, reads: reads,
                beamSplitters: circuit.beamSplitters.map { [$0.0, $0.1] }, meshSymplectic: a.row(major: ()),
                detectedCovariance: state.covariance.row(major: ()))
            doc.meshBSymplectic = b.row(major: ())
        } else {
            let s = mesh().mesh
            doc = CVPhotonicStateDocument(
                config: circuit.config, angles: angles, rng: rng, reads: reads,
                beamSplitters: circuit.beamSplitters.map { [$0.0, $0.1] }, meshSymplectic: s.row(major: ()),
                detectedCovariance: circuit.detectedCovariance(mesh: s).row(major: ()))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            return try encoder.encode(doc)
        } catch {
            throw .badState("could not encode (\(error))")
        }
    }

    public func uncheckedProgram(_ targets: [Double]) throws(CVPhotonicError) -> [Double] {
        try Self.checkAngles(targets, circuit: circuit)
        angles = targets
        return angles
    }

    public func readParameters() -> [Double] { angles }

    public func uncheckedMeasure(_ inputs: Matrix) throws(CVPhotonicError) -> Matrix {
        try read(inputs, repeats: 1)
    }

    public nonisolated func uncheckedStream(_ probes: [Probe]) -> AsyncThrowingStream<ProbeResult, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    for probe in probes {
                        try Task.checkCancellation()
                        let outputs = try await self.runProbe(probe)
                        continuation.yield(ProbeResult(id: probe.id, outputs: outputs, measurementCount: probe.measurementCount))
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Nothing to ground: the twin has no state between reads.
    public func enterSafeState() {}

    /// The exact (noise-free) ⟨x⟩ of the readout modes for each input row.
    public func exactMeans(_ inputs: Matrix) throws(CVPhotonicError) -> Matrix {
        try checkInputs(inputs)
        var out = Matrix(rows: inputs.rows, cols: circuit.config.readouts)
        if circuit.config.layout == .multiplier {
            let (a, b) = meshes()
            for r in 0..<inputs.rows {
                let m = circuit.multiplierReadout(meshA: a, meshB: b, inputs: inputs.row(r)).means
                for c in 0..<m.count { out[r, c] = m[c] }
            }
            return out
        }
        let s = mesh().mesh
        fillMeans(inputs, mesh: s, into: &out)
        return out
    }

    /// The full Gaussian state at the detectors for one input vector (element by element).
    public func outputState(inputs alpha: [Double]) -> GaussianState {
        circuit.outputState(angles: angles, inputs: alpha)
    }

    private func runProbe(_ probe: Probe) throws(CVPhotonicError) -> Matrix {
        let saved = angles
        defer { angles = saved }
        var held = angles
        for change in probe.changes {
            guard held.indices.contains(change.index) else {
                throw .wrongCount(what: "angle index \(change.index)", expected: held.count, got: change.index + 1)
            }
            held[change.index] = change.value
        }
        try Self.checkAngles(held, circuit: circuit)
        angles = held
        return try read(probe.inputs, repeats: probe.repeats)
    }

    private func read(_ inputs: Matrix, repeats: Int) throws(CVPhotonicError) -> Matrix {
        try checkInputs(inputs)
        if circuit.config.layout == .multiplier { return try readMultiplier(inputs, repeats: repeats) }
        let (s, detector) = mesh()
        var out = Matrix(rows: inputs.rows, cols: circuit.config.readouts)
        fillMeans(inputs, mesh: s, into: &out)
        reads += inputs.rows * repeats
        guard !circuit.config.exactMeans else { return out }
        let k = circuit.config.readouts
        let zero = Array(repeating: 0.0, count: k)
        for r in 0..<inputs.rows {
            var sum = zero
            for _ in 0..<repeats {
                let noise = detector.read(means: zero, rng: &rng)
                for c in 0..<k { sum[c] += noise[c] }
            }
            for c in 0..<k { out[r, c] += sum[c] / Double(repeats) }
        }
        return out
    }

    /// The multiplier: every input row has its own squeezing, so its own means and noise.
    private func readMultiplier(_ inputs: Matrix, repeats: Int) throws(CVPhotonicError) -> Matrix {
        let (a, b) = meshes()
        let k = circuit.config.readouts
        var out = Matrix(rows: inputs.rows, cols: k)
        for r in 0..<inputs.rows {
            let (means, cov) = circuit.multiplierReadout(meshA: a, meshB: b, inputs: inputs.row(r))
            for c in 0..<k { out[r, c] = means[c] }
            guard !circuit.config.exactMeans else { continue }
            let detector = try HomodyneX(covariance: cov, shots: circuit.config.shots)
            let zero = Array(repeating: 0.0, count: k)
            var sum = zero
            for _ in 0..<repeats {
                let noise = detector.read(means: zero, rng: &rng)
                for c in 0..<k { sum[c] += noise[c] }
            }
            for c in 0..<k { out[r, c] += sum[c] / Double(repeats) }
        }
        reads += inputs.rows * repeats
        return out
    }

    private func meshes() -> (a: Matrix, b: Matrix) {
        if let multiplierCache, multiplierCache.angles == angles { return (multiplierCache.a, multiplierCache.b) }
        let (aa, ba) = circuit.meshAngles(angles)
        let a = circuit.meshSymplectic(aa)
        let b = circuit.meshSymplectic(ba)
        multiplierCache = (angles, a, b)
        return (a, b)
    }

    /// ⟨x_k⟩ = √T Σ_j S[k, j] · 2α_j (p means are zero, so only the x-x block acts).
    private func fillMeans(_ inputs: Matrix, mesh s: Matrix, into out: inout Matrix) {
        let c = circuit.config
        let gain = c.transmission.squareRoot() * (2 * GaussianState.hbar).squareRoot()
        for r in 0..<inputs.rows {
            for k in 0..<c.readouts {
                var x = 0.0
                for j in 0..<c.inputs { x += s[k, j] * inputs[r, j] }
                out[r, k] = gain * x
            }
        }
    }

    private func mesh() -> (mesh: Matrix, detector: HomodyneX) {
        if let cache, cache.angles == angles { return (cache.mesh, cache.detector) }
        let s = circuit.meshSymplectic(angles)
        let v = GaussianState(
            modes: circuit.modes, means: Array(repeating: 0, count: 2 * circuit.modes),
            covariance: circuit.detectedCovariance(mesh: s)
        ).xCovariance(circuit.readoutModes)
        // The detected covariance is physical (≥ vacuum-limited), so the factorisation holds.
        let detector =
            (try? HomodyneX(covariance: v, shots: circuit.config.shots))
            ?? HomodyneX.vacuum(
                readouts: circuit.config.readouts, shots: circuit.config.shots)
        cache = (angles, s, detector)
        return (s, detector)
    }

    private static func checkAngles(_ values: [Double], circuit: CVCircuit) throws(CVPhotonicError) {
        guard values.count == circuit.parameterCount else {
            throw .wrongCount(what: "angles", expected: circuit.parameterCount, got: values.count)
        }
        let r = CVCircuit.angleRange
        for (i, v) in values.enumerated() where !(v.isFinite && r.contains(v)) {
            throw .outOfRange(what: "angle[\(i)] (rad)", value: v, lower: r.lowerBound, upper: r.upperBound)
        }
    }

    private func checkInputs(_ inputs: Matrix) throws(CVPhotonicError) {
        let c = circuit.config
        guard inputs.cols == c.inputs else { throw .wrongCount(what: "input lines", expected: c.inputs, got: inputs.cols) }
        for v in inputs.storage where !(v.isFinite && abs(v) <= c.amplitudeLimit) {
            throw .outOfRange(what: "displacement α", value: v, lower: -c.amplitudeLimit, upper: c.amplitudeLimit)
        }
    }
}

extension HomodyneX {
    /// Vacuum-limited detection (V_xx = I), the fallback for a degenerate covariance.
    static func vacuum(readouts: Int, shots: Int) -> HomodyneX {
        // Identity is positive definite, so this cannot fail.
        try! HomodyneX(covariance: .identity(readouts), shots: shots)
    }
}

extension Matrix {
    /// Rows as nested arrays (for JSON).
    func row(major _: Void) -> [[Double]] { (0..<rows).map { row($0) } }
}

/// The JSON a `sim:cv-photonic` twin exports (`pnnlab twin export`): enough to rebuild it
/// exactly (config, angles, noise state), plus the mesh's symplectic matrix and the
/// detected covariance (ħ = 2, xxpp) so the physics can be checked outside pnnlab
/// (`scripts/check_cv_photonic.py` compares them with thewalrus).
public struct CVPhotonicStateDocument: Sendable, Codable, Equatable {
    public static let formatName = "pnnlab.cv-photonic-state"
    public var format = formatName
    public var version = 1
    public var hbar = GaussianState.hbar
    public var ordering = "xxpp"
    public var config: CVPhotonicConfig
    /// θ₀, φ₀, θ₁, φ₁, … per beam splitter, then one phase per mode (radians).
    public var angles: [Double]
    public var rng: SeededRandom
    public var reads: Int
    /// Mode pairs of the beam splitters, in the order they act.
    public var beamSplitters: [[Int]]
    /// Symplectic matrix of the mesh (2N × 2N), informational.
    public var meshSymplectic: [[Double]]
    /// Covariance at the detectors (2N × 2N), informational (the multiplier: at u₀ = 0).
    public var detectedCovariance: [[Double]]
    /// The multiplier's mesh B (after the squeezers); `mesh_symplectic` is then mesh A.
    public var meshBSymplectic: [[Double]]? = nil

    enum CodingKeys: String, CodingKey {
        case format, version, hbar, ordering, config, angles, rng, reads
        case beamSplitters = "beam_splitters"
        case meshSymplectic = "mesh_symplectic"
        case detectedCovariance = "detected_covariance"
        case meshBSymplectic = "mesh_b_symplectic"
    }
}
