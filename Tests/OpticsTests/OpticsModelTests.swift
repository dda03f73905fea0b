import Foundation
import OpticsDriver
import PNNCore
import PNNSim
import Testing

/// The optics family's differentiable model (`OpticsModel`): its forward pass against the
/// twin's noiseless measurement, its vector–Jacobian product against central finite
/// differences, and the family's refusal of a device it has no medium for.
@Suite struct OpticsModelTests {
    /// A small twin with every non-ideality at its default (nonlinear LUT, fringing,
    /// noise…): 12 inputs on a 4-wide grid, a 6×4 camera binned 2×2 (6 features).
    static func config(_ layout: OpticsLayout, binary: Bool = false) -> OpticsConfig {
        var c = OpticsConfig()
        c.inputs = 12
        c.layout = layout
        c.parameters = layout == .overlay ? 9 : 5
        c.gridWidth = 4
        c.cameraWidth = 6
        c.cameraHeight = 4
        c.binning = 2
        c.seed = 21
        if binary { c.inputMode = .binary }
        return c
    }

    static let cases: [(OpticsLayout, Bool)] = [(.overlay, false), (.sideBySide, false), (.sideBySide, true)]

    /// Inputs on the grey grid (v = g/127.5 − 1) and integer grey levels: exactly what the
    /// twin shows, so the model must equal its ideal outputs.
    @Test(arguments: cases)
    func forwardIsTheTwinsNoiselessMeasurement(layout: OpticsLayout, binary: Bool) throws {
        var physics = try OpticsPhysics(config: Self.config(layout, binary: binary))
        var rng = SeededRandom(seed: 4)
        let grey = (0..<physics.config.parameters).map { _ in UInt8(truncatingIfNeeded: rng.next() >> 56) }
        physics.program(grey)
        let x = Matrix(rows: 7, cols: 12, storage: (0..<84).map { _ in Double(rng.next() >> 56) / 127.5 - 1 })
        let model = OpticsModel(physics: physics)
        let y = model.forward(theta: grey.map(Double.init), inputs: x)
        let ideal = physics.idealFeatures(x)
        #expect(y.rows == 7 && y.cols == 6 && model.outputCount == 6)
        let worst = zip(y.storage, ideal.storage).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 1
        #expect(worst < 1e-9, "largest relative difference \(worst)")
        // The outputs depend on the grey levels (the check could fail).
        var other = grey.map(Double.init)
        other[0] = Double((Int(grey[0]) + 64) % 256)
        let moved = model.forward(theta: other, inputs: x)
        #expect(zip(moved.storage, y.storage).contains { abs($0 - $1) > 1 })
        // Grey levels wrap modulo 256, as the overlay's addition does.
        let wrapped = model.forward(theta: grey.map { Double($0) + 256 }, inputs: x)
        #expect(zip(wrapped.storage, y.storage).allSatisfy { abs($0 - $1) < 1e-9 * max(1, abs($1)) })
    }

    /// vᵀ·J·u from the vjp against (f(p + h·u) − f(p − h·u))/(2h)·v for random directions u
    /// in θ and in x, at continuous grey levels (away from the LUT's knots, where the
    /// linear interpolation has a kink), h = 10⁻⁴ grey level; relative tolerance 10⁻⁶.
    @Test(arguments: cases)
    func vjpMatchesCentralFiniteDifferences(layout: OpticsLayout, binary: Bool) throws {
        let physics = try OpticsPhysics(config: Self.config(layout, binary: binary))
        let model = OpticsModel(physics: physics)
        var rng = SeededRandom(seed: 9)
        let rows = 5
        let theta = (0..<model.parameterCount).map { _ in 255 * rng.uniform() }
        let x = Matrix(rows: rows, cols: 12, storage: (0..<(rows * 12)).map { _ in 1.6 * rng.uniform() - 0.8 })
        let v = Matrix(rows: rows, cols: model.outputCount, storage: (0..<(rows * model.outputCount)).map { _ in rng.normal() })
        let (gTheta, gx) = model.vjp(theta: theta, inputs: x, cotangent: v)
        #expect(gTheta.count == model.parameterCount && gx.rows == rows && gx.cols == 12)
        func loss(_ t: [Double], _ xs: Matrix) -> Double {
            zip(model.forward(theta: t, inputs: xs).storage, v.storage).reduce(0) { $0 + $1.0 * $1.1 }
        }
        // θ direction.
        let u = theta.map { _ in rng.normal() }
        let h = 1e-4
        let fdTheta =
            (loss(zip(theta, u).map { $0 + h * $1 }, x) - loss(zip(theta, u).map { $0 - h * $1 }, x)) / (2 * h)
        let anTheta = zip(gTheta, u).reduce(0) { $0 + $1.0 * $1.1 }
        #expect(abs(fdTheta) > 1, "the θ-derivative should not vanish (\(fdTheta))")
        #expect(abs(anTheta - fdTheta) <= 1e-6 * abs(fdTheta), "θ: vjp \(anTheta), finite differences \(fdTheta)")
        // x direction (h in grey levels: 127.5 grey levels per unit of input).
        let w = Matrix(rows: rows, cols: 12, storage: x.storage.map { _ in rng.normal() })
        let hx = h / 127.5
        var xp = x
        var xm = x
        for i in x.storage.indices {
            xp.storage[i] += hx * w.storage[i]
            xm.storage[i] -= hx * w.storage[i]
        }
        let fdX = (loss(theta, xp) - loss(theta, xm)) / (2 * hx)
        let anX = zip(gx.storage, w.storage).reduce(0) { $0 + $1.0 * $1.1 }
        if binary {
            // A 0/1 amplitude mask has no slope; the inputs stay on their side of 0.
            #expect(gx.storage.allSatisfy { $0 == 0 } && abs(fdX) < 1e-6)
        } else {
            #expect(abs(fdX) > 1, "the x-derivative should not vanish (\(fdX))")
            #expect(abs(anX - fdX) <= 1e-6 * abs(fdX), "x: vjp \(anX), finite differences \(fdX)")
        }
    }

    /// A deep cascade's unit gets exactly its width of camera features; the family's model
    /// of it has the twin's shape, and a device that is not the twin has none, with a reason.
    @Test func aCascadeUnitIsSizedToItsWidthAndModelled() async throws {
        let entry = try #require(OpticsFamily.twins.first)
        let built = try entry.build(TwinRequest(seed: 3, geometry: TwinGeometry(inputs: 9, outputs: 10, exactOutputs: true)))
        #expect(built.substrate.descriptor.outputs.count == 10 && built.substrate.descriptor.inputs.count == 9)
        let model = try #require(try await OpticsFamily.model(of: built.substrate))
        #expect(model.outputCount == 10 && model.inputCount == 9 && model.parameterCount == 9)
        // Without exactOutputs the camera keeps its 2048 features (readout runs).
        let readout = try entry.build(TwinRequest(seed: 3, geometry: TwinGeometry(inputs: 9, outputs: 10)))
        #expect(readout.substrate.descriptor.outputs.count == 2048)
        let notATwin = try CrossbarTwin(config: CrossbarConfig())
        await #expect(throws: OpticsModelError.self) { _ = try await OpticsFamily.model(of: notATwin) }
    }
}
