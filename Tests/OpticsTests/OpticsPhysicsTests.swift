import Foundation
import PNNCore
import PNNSim
import Testing

/// The optical twin's physics against independent computations.
@Suite struct OpticsPhysicsTests {
    /// A small rig with every effect off.
    static func idealConfig(inputs: Int = 6, parameters: Int = 3, seed: UInt64 = 5) -> OpticsConfig {
        var c = OpticsConfig()
        c.inputs = inputs
        c.parameters = parameters
        c.cameraWidth = 4
        c.cameraHeight = 3
        c.seed = seed
        return c.idealised()
    }

    /// |Σₖ Eₖ·Tₖₘ|² computed entry by entry from the twin's T.
    static func expectedIntensity(_ physics: OpticsPhysics, field: [(Double, Double)]) -> [Double] {
        (0..<physics.config.roiPixels).map { m in
            var re = 0.0
            var im = 0.0
            for (k, e) in field.enumerated() {
                let t = physics.medium.entry(k, m)
                re += e.0 * t.re - e.1 * t.im
                im += e.0 * t.im + e.1 * t.re
            }
            return re * re + im * im
        }
    }

    @Test func noiseFreeFramesAreTheSquaredTransmittedField() throws {
        var physics = try OpticsPhysics(config: Self.idealConfig())
        try physics.programChecked([10, 200, 77])
        let x = [-1, -0.5, 0, 0.25, 0.9, 1.0]
        let out = physics.forward(Matrix(rows: 1, cols: 6, storage: x))
        // Linear LUT: φ = 2π g/256, g = round(127.5 (v + 1)).
        let greys = x.map { Double(OpticsPhysics.grey($0)) } + [10, 200, 77]
        #expect(greys[0] == 0 && greys[5] == 255 && greys[2] == 128)
        let field = greys.map { g in (cos(2 * .pi * g / 256), sin(2 * .pi * g / 256)) }
        let intensity = Self.expectedIntensity(physics, field: field)
        let c = physics.config
        let scale = c.quantumEfficiency * c.photonFlux * c.exposure * c.conversionGain
        for m in 0..<c.roiPixels {
            #expect(abs(out[0, m] - (scale * intensity[m] + c.offset)) < 1e-9 * max(1, out[0, m]))
        }
    }

    @Test func binaryModeIsAnAmplitudeMask() throws {
        var config = Self.idealConfig(parameters: 0)
        config.inputMode = .binary
        var physics = try OpticsPhysics(config: config)
        let x = [-0.3, 0.2, 0.0, 1, -1, 0.01]
        let out = physics.forward(Matrix(rows: 1, cols: 6, storage: x))
        let field = x.map { OpticsPhysics.grey($0) >= 128 ? (1.0, 0.0) : (0.0, 0.0) }
        let intensity = Self.expectedIntensity(physics, field: field)
        let c = physics.config
        let scale = c.quantumEfficiency * c.photonFlux * c.exposure * c.conversionGain
        for m in 0..<c.roiPixels { #expect(abs(out[0, m] - (scale * intensity[m] + c.offset)) < 1e-9 * max(1, out[0, m])) }
    }

    @Test func lutIsTheStrokeAndGammaCurve() {
        let lut = PhaseSLM.lut(stroke: 1.05, gamma: 1.25)
        #expect(lut.count == 256 && lut[0] == 0)
        #expect(abs(lut[255] - 2 * .pi * 1.05) < 1e-12)
        #expect(abs(lut[128] - 2 * .pi * 1.05 * pow(128.0 / 255, 1.25)) < 1e-12)
        #expect(lut[128] < 0.5 * lut[255], "γ > 1 bends the curve below the straight line")
    }

    @Test func settlingBlendsOldAndNewPatterns() throws {
        var config = Self.idealConfig(inputs: 2, parameters: 0)
        config.settlingEnabled = true
        config.settleDelay = 0.002
        config.settleTau = 0.004
        var slm = PhaseSLM(config: config)
        slm.show([0, 0], at: 0)
        slm.show([64, 192], at: 1)
        let target = [slm.lut[64], slm.lut[192]]
        // Before t0 nothing has moved.
        #expect(slm.rawPhase(at: 1.001) == [0, 0])
        // At t0 + b the crystal has gone 1 − 1/e of the way.
        let p = slm.rawPhase(at: 1 + 0.002 + 0.004)
        for i in 0..<2 { #expect(abs(p[i] - (1 - exp(-1)) * target[i]) < 1e-12) }
        // A change mid-transition starts from where the crystal is.
        slm.show([0, 0], at: 1.006)
        let q = slm.rawPhase(at: 1.006 + 0.002 + 0.004)
        for i in 0..<2 { #expect(abs(q[i] - exp(-1) * (1 - exp(-1)) * target[i]) < 1e-12) }
        #expect(abs(slm.settledFraction(after: 0.002 + 4 * 0.004) - (1 - exp(-4))) < 1e-12)
    }

    @Test func framesSeeThePhaseAtMidExposure() throws {
        // Settled on x1, then x2 shown: the exposure sees φ1 + α·(φ2 − φ1) with
        // α = 1 − e^{−(delay + exposure/2 − t0)/b} (0 inside t0).
        for delay in [0.001, 0.004, nil] {
            var config = Self.idealConfig()
            config.settlingEnabled = true
            config.exposureDelay = delay
            var physics = try OpticsPhysics(config: config)
            let x1 = [0.5, -0.5, 0.5, -0.5, 0.5, -0.5]
            let x2 = [-0.9, 0.9, -0.9, 0.9, -0.9, 0.9]
            _ = physics.forward(Matrix(rows: 1, cols: 6, storage: x1))
            physics.advanceTime(seconds: 1)
            let y = physics.forward(Matrix(rows: 1, cols: 6, storage: x2))
            let mid = config.resolvedExposureDelay + config.exposure * 1e-6 / 2
            let alpha = mid <= config.settleDelay ? 0 : 1 - exp(-(mid - config.settleDelay) / config.settleTau)
            let params = physics.parameters.map(Double.init)
            let p1 = (x1.map { Double(OpticsPhysics.grey($0)) } + params).map { 2 * .pi * $0 / 256 }
            let p2 = (x2.map { Double(OpticsPhysics.grey($0)) } + params).map { 2 * .pi * $0 / 256 }
            let field = zip(p1, p2).map { a, b in (cos(a + alpha * (b - a)), sin(a + alpha * (b - a))) }
            let intensity = Self.expectedIntensity(physics, field: field)
            let c = physics.config
            let scale = c.quantumEfficiency * c.photonFlux * c.exposure * c.conversionGain
            for m in 0..<c.roiPixels {
                #expect(
                    abs(y[0, m] - (scale * intensity[m] + c.offset)) < 1e-9 * max(1, y[0, m]),
                    "delay \(String(describing: delay))")
            }
            if delay == 0.001 { #expect(alpha == 0) }
            if delay == nil { #expect(alpha > 1 - exp(-4)) }
        }
    }

    @Test func fringingMixesNeighbours() {
        var config = Self.idealConfig(inputs: 9, parameters: 0)
        config.gridWidth = 3
        config.crosstalkEnabled = true
        config.crosstalk = 0.1
        let slm = PhaseSLM(config: config)
        var phase = [Double](repeating: 0, count: 9)
        phase[4] = 1  // centre
        let f = slm.fringed(phase)
        #expect(abs(f[4] - 0.6) < 1e-12)
        for i in [1, 3, 5, 7] { #expect(abs(f[i] - 0.1) < 1e-12) }
        for i in [0, 2, 6, 8] { #expect(f[i] == 0) }
        let flat = slm.fringed(Array(repeating: 2.0, count: 9))
        #expect(flat.allSatisfy { abs($0 - 2) < 1e-12 }, "a uniform phase is unchanged")
    }

    @Test func poissonMeanEqualsVariance() {
        var rng = SeededRandom(seed: 9)
        for mean in [3.5, 400.0] {
            let n = 40_000
            let draws = (0..<n).map { _ in OpticsCamera.poisson(mean: mean, rng: &rng) }
            let m = draws.reduce(0, +) / Double(n)
            let v = draws.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(n - 1)
            #expect(abs(m - mean) < 4 * (mean / Double(n)).squareRoot())
            #expect(abs(v / mean - 1) < 0.05, "variance \(v) for mean \(mean)")
            #expect(draws.allSatisfy { $0 == $0.rounded() && $0 >= 0 })
        }
    }

    @Test func photonTransferCurveGivesTheGain() {
        var config = OpticsConfig()
        config.readNoise = 0
        config.quantisationEnabled = false
        let camera = OpticsCamera(config: config)
        var rng = SeededRandom(seed: 3)
        let flat = Array(repeating: 0.8, count: 20_000)[...]
        let dn = camera.digitise(flat, rng: &rng)
        let m = dn.reduce(0, +) / Double(dn.count)
        let v = dn.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(dn.count - 1)
        // Shot noise: var(DN) = g·(mean DN − offset).
        let g = v / (m - config.offset)
        #expect(abs(g / camera.dnPerElectron - 1) < 0.04)
    }

    @Test func quantisationAndSaturation() {
        var config = OpticsConfig()
        config.shotNoiseEnabled = false
        config.readNoiseEnabled = false
        var rng = SeededRandom(seed: 1)
        var camera = OpticsCamera(config: config)
        let values = camera.digitise([0.3, 1.7, 1e6][...], rng: &rng)
        #expect(values[0] == values[0].rounded() && values[1] == values[1].rounded())
        // Full well first: 10 000 e⁻ × 0.25 DN/e⁻ + 64.
        #expect(values[2] == 2564)
        config.gain = 24
        camera = OpticsCamera(config: config)
        #expect(camera.digitise([1e6][...], rng: &rng) == [4095], "the 12-bit ADC clips")
        config.bits = 8
        config.offset = 0
        camera = OpticsCamera(config: config)
        #expect(camera.digitise([1e6][...], rng: &rng) == [255])
        config.saturationEnabled = false
        config.quantisationEnabled = false
        camera = OpticsCamera(config: config)
        let raw = camera.digitise([0.3][...], rng: &rng)[0]
        #expect(raw != raw.rounded())
        #expect(abs(raw - camera.meanElectrons(intensity: 0.3) * camera.dnPerElectron) < 1e-9)
    }

    @Test func binningAveragesBlocks() {
        var config = OpticsConfig()
        config.cameraWidth = 4
        config.cameraHeight = 2
        config.binning = 2
        let camera = OpticsCamera(config: config)
        #expect(camera.bin([1, 2, 3, 4, 5, 6, 7, 8]) == [3.5, 5.5])
        #expect(config.features == 2)
    }

    @Test func mediumDecorrelatesWithItsCorrelationTime() throws {
        var config = Self.idealConfig(inputs: 40, parameters: 0)
        config.cameraWidth = 50
        config.cameraHeight = 20
        config.decorrelationEnabled = true
        config.decorrelationTime = 100
        config.decorrelationStep = 0.01
        var physics = try OpticsPhysics(config: config)
        let t0 = physics.medium.entries
        physics.advanceTime(seconds: 100)
        let t1 = physics.medium.entries
        #expect(physics.medium.updates == 100)
        // Re ⟨T(0)·T*(τ)⟩ / ⟨|T|²⟩ → e^{−1}.
        var dot = 0.0
        var norm = 0.0
        for i in stride(from: 0, to: t0.count, by: 2) {
            dot += t0[i] * t1[i] + t0[i + 1] * t1[i + 1]
            norm += t0[i] * t0[i] + t0[i + 1] * t0[i + 1]
        }
        #expect(abs(dot / norm - exp(-1)) < 0.03)
        let power = t1.map { $0 * $0 }.reduce(0, +) / Double(t1.count / 2)
        #expect(abs(power * 40 - 1) < 0.05, "E|T|² stays 1/N")
    }

    @Test func timestampsAndFrameIDsAdvance() throws {
        var physics = try OpticsPhysics(config: OpticsConfig())
        let frames = physics.frames(Matrix(rows: 3, cols: 64))
        #expect(frames.map(\.id) == [0, 1, 2])
        #expect(frames[1].timestamp > frames[0].timestamp && frames[2].timestamp > frames[1].timestamp)
        #expect(frames[0].pixels.count == 64 * 32)
    }

    @Test func stateRoundTripsAndContinuesIdentically() async throws {
        for big in [false, true] {
            var config = OpticsConfig()
            config.seed = 11
            if big {
                config.inputs = 300
                config.cameraWidth = 64
                config.cameraHeight = 64
            }
            let a = try OpticsTwin(config: config)
            let inputs = Matrix(rows: 3, cols: config.inputs, storage: (0..<(3 * config.inputs)).map { sin(Double($0)) })
            _ = try await a.uncheckedMeasure(inputs)
            try await a.advanceTime(seconds: 500)
            let state = await a.exportState()
            let b = try OpticsTwin(importing: state)
            #expect(await b.exportState() == state, "import → export is the identity")
            let ya = try await a.uncheckedMeasure(inputs)
            let yb = try await b.uncheckedMeasure(inputs)
            #expect(ya == yb)
            let document = try JSONSerialization.jsonObject(with: state) as? [String: Any]
            let t = document?["transmission"] as? [String: Any]
            #expect((t?["re"] != nil) == !big, "small matrices are written out, large ones as their recipe")
        }
    }

    @Test func hostileStatesAreRefused() throws {
        let good = try OpticsPhysics(config: Self.idealConfig()).exportState()
        var object = try #require(try JSONSerialization.jsonObject(with: good) as? [String: Any])
        var t = try #require(object["transmission"] as? [String: Any])
        t["re"] = [1.0, 2.0]
        object["transmission"] = t
        let bad = try JSONSerialization.data(withJSONObject: object)
        #expect(throws: OpticsError.self) { try OpticsPhysics(importing: bad) }
        #expect(throws: OpticsError.self) { try OpticsPhysics(importing: Data("{}".utf8)) }
        var config = Self.idealConfig()
        config.cameraWidth = 100_000
        #expect(throws: OpticsError.self) { try OpticsPhysics(config: config) }
    }

    @Test func twinRefusesUnsafeValuesAndCountsThem() async throws {
        let twin = try OpticsTwin(config: Self.idealConfig())
        await #expect(throws: OpticsError.self) { try await twin.uncheckedProgram([0, 256, 3]) }
        await #expect(throws: OpticsError.self) { try await twin.uncheckedMeasure(Matrix(rows: 1, cols: 6, repeating: 1.5)) }
        await #expect(throws: OpticsError.self) { try await twin.setCamera(exposure: 1e9) }
        await #expect(throws: OpticsError.self) { try await twin.setCamera(gain: 30) }
        #expect(await twin.violations() == 4)
        #expect(try await twin.uncheckedProgram([0.4, 254.6, 3]) == [0, 255, 3])
        #expect(await twin.readParameters() == [0, 255, 3])
    }
}

extension OpticsPhysics {
    mutating func programChecked(_ grey: [UInt8]) throws { program(grey) }
}
