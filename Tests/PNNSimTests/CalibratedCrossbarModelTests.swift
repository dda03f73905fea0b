import Foundation
import PNNCore
import PNNSim
import Testing

/// `CalibratedCrossbarModel`: the crossbar as a calibration measured it (windows, stuck
/// devices, column ADC gains and offsets, dead columns, clipping), forward and VJP.
@Suite struct CalibratedCrossbarModelTests {
    static let rows = 4, outputs = 3

    static func model(
        gain: [Double]? = nil, offset: [Double]? = nil, stuck: Set<Int> = [], window: (Double, Double) = (0.25, 25),
        fullScale: Double? = nil
    ) throws -> CalibratedCrossbarModel {
        let devices = 2 * rows * outputs
        var lo = [Double](repeating: window.0, count: devices), hi = [Double](repeating: window.1, count: devices)
        for d in stuck {
            lo[d] = 3 + Double(d) * 0.1
            hi[d] = lo[d]
        }
        return try CalibratedCrossbarModel(
            rows: rows, outputs: outputs, gMin: lo, gMax: hi, stuck: (0..<devices).map { stuck.contains($0) },
            adcGain: gain ?? [Double](repeating: 1, count: 2 * outputs),
            adcOffset: offset ?? [Double](repeating: 0, count: 2 * outputs), fullScale: fullScale)
    }

    static let theta = (0..<(2 * rows * outputs)).map { 2 + 9 * abs(sin(1.7 * Double($0))) }
    static let x = Matrix(rows: 5, cols: rows, storage: (0..<(5 * rows)).map { 0.3 * cos(0.9 * Double($0)) })
    static let v = Matrix(rows: 5, cols: outputs, storage: (0..<(5 * outputs)).map { sin(2.3 * Double($0) + 0.4) })

    /// With exact converters, every device free and no clipping it is the ideal model.
    @Test func withAPerfectCalibrationItIsTheIdealModel() throws {
        let m = try Self.model()
        let ideal = CrossbarModel(rows: Self.rows, outputs: Self.outputs)
        let (y, z) = (m.forward(theta: Self.theta, inputs: Self.x), ideal.forward(theta: Self.theta, inputs: Self.x))
        for (p, q) in zip(y.storage, z.storage) { #expect(abs(p - q) < 1e-12) }
        let a = m.vjp(theta: Self.theta, inputs: Self.x, cotangent: Self.v)
        let b = ideal.vjp(theta: Self.theta, inputs: Self.x, cotangent: Self.v)
        for (p, q) in zip(a.theta, b.theta) { #expect(abs(p - q) < 1e-12) }
        for (p, q) in zip(a.inputs.storage, b.inputs.storage) { #expect(abs(p - q) < 1e-12) }
    }

    /// Gains, offsets, a stuck device and a dead column: the VJP is the transpose of the
    /// model's own Jacobian (central differences), and differs from the ideal model's.
    @Test func theVJPMatchesFiniteDifferencesOfTheCalibratedForward() throws {
        let gain = [1.2, 0.8, 0, 1.1, 0.9, 1.3]  // column 2 (output 1's G+) dead
        let m = try Self.model(gain: gain, offset: [0.3, -0.2, 0, 0.1, 0, -0.4], stuck: [5, 13])
        let (gTheta, gX) = m.vjp(theta: Self.theta, inputs: Self.x, cotangent: Self.v)
        func objective(_ theta: [Double], _ x: Matrix) -> Double {
            zip(m.forward(theta: theta, inputs: x).storage, Self.v.storage).reduce(0) { $0 + $1.0 * $1.1 }
        }
        let h = 1e-5
        for d in Self.theta.indices {
            var up = Self.theta, down = Self.theta
            up[d] += h
            down[d] -= h
            let fd = (objective(up, Self.x) - objective(down, Self.x)) / (2 * h)
            #expect(abs(fd - gTheta[d]) < 1e-6, "device \(d): \(fd) vs \(gTheta[d])")
        }
        for k in Self.x.storage.indices {
            var up = Self.x, down = Self.x
            up.storage[k] += h
            down.storage[k] -= h
            let fd = (objective(Self.theta, up) - objective(Self.theta, down)) / (2 * h)
            #expect(abs(fd - gX.storage[k]) < 1e-6, "input \(k): \(fd) vs \(gX.storage[k])")
        }
        #expect(gTheta[5] == 0 && gTheta[13] == 0, "stuck devices get no gradient")
        for i in 0..<Self.rows { #expect(gTheta[i * 2 * Self.outputs + 2] == 0, "dead column 2, row \(i)") }
        let ideal = CrossbarModel(rows: Self.rows, outputs: Self.outputs).vjp(
            theta: Self.theta, inputs: Self.x, cotangent: Self.v)
        #expect(zip(ideal.theta, gTheta).contains { abs($0 - $1) > 1e-3 })
    }

    /// A stuck device holds its level and a working one its window's end, whatever the
    /// target; outside its window the gradient passes straight through.
    @Test func devicesHoldTheirWindowAndStuckLevel() throws {
        let m = try Self.model(stuck: [0], window: (1, 10))
        var theta = Self.theta
        theta[0] = 20
        theta[1] = 40
        let g = m.conductances(theta)
        #expect(g.storage[0] == 3 && g.storage[1] == 10)
        let inside = m.vjp(theta: Self.theta, inputs: Self.x, cotangent: Self.v).theta
        let outside = m.vjp(theta: theta, inputs: Self.x, cotangent: Self.v).theta
        #expect(outside[0] == 0 && outside[1] == inside[1] && inside[1] != 0)
    }

    /// A reading clipped at full scale carries no gradient, and the forward pass clips it.
    @Test func clippedReadingsCarryNoGradient() throws {
        let m = try Self.model(offset: [100, 0, 0, 0, 0, 0], fullScale: 40)
        let y = m.forward(theta: Self.theta, inputs: Self.x)
        for b in 0..<Self.x.rows {
            // Output 0's G− column reads Σᵢ xᵢ·G−ᵢ₀ (gain 1, no offset); its G+ column clips at 40.
            let minus = (0..<Self.rows).reduce(0.0) { $0 + Self.x[b, $1] * Self.theta[$1 * 2 * Self.outputs + 1] }
            #expect(abs(y[b, 0] - (40 - minus)) < 1e-9)
        }
        let g = m.vjp(theta: Self.theta, inputs: Self.x, cotangent: Self.v).theta
        for i in 0..<Self.rows { #expect(g[i * 2 * Self.outputs] == 0) }
    }

    @Test func mismatchedCalibrationsAreRefused() {
        #expect(throws: CrossbarModelError.self) {
            try CalibratedCrossbarModel(
                rows: 2, outputs: 1, gMin: [0, 0, 0], gMax: [1, 1, 1], stuck: [false, false, false], adcGain: [1, 1],
                adcOffset: [0, 0], fullScale: nil)
        }
        #expect(throws: CrossbarModelError.self) {
            try CalibratedCrossbarModel(
                rows: 1, outputs: 1, gMin: [2, 0], gMax: [1, 1], stuck: [false, false], adcGain: [1, 1], adcOffset: [0, 0],
                fullScale: nil)
        }
    }
}
