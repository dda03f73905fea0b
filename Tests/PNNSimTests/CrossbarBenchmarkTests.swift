import Foundation
import PNNCore
import PNNSim
import Testing

/// Forward-pass speed against a raw dgemm of the same shape. Timing is only meaningful
/// in an optimised build, so this runs when PNNSIM_BENCH is set in a release build:
/// `PNNSIM_BENCH=1 swift test -c release --filter CrossbarBenchmark`.
@Suite struct CrossbarBenchmarkTests {
    static var enabled: Bool {
        #if DEBUG
            return false
        #else
            return ProcessInfo.processInfo.environment["PNNSIM_BENCH"] != nil
        #endif
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }

    @Test(.enabled(if: enabled))
    func forwardIsWithinEightyPercentOfRawDgemm() throws {
        var physics = try CrossbarPhysics(config: CrossbarConfig(rows: 1024, outputs: 64, seed: 7))
        let inputs = TestSupport.inputs(batch: 256, rows: 1024)
        let g = Matrix(rows: 1024, cols: 128, storage: physics.trueConductances())
        var c = Matrix(rows: 256, cols: 128)
        let clock = ContinuousClock()
        var raw = Double.infinity
        var twin = Double.infinity
        for _ in 0..<5 {
            _ = physics.forward(inputs)
            Matrix.gemm(inputs, g, into: &c)
        }
        for _ in 0..<7 {
            raw = min(raw, Self.seconds(clock.measure { for _ in 0..<10 { Matrix.gemm(inputs, g, into: &c) } }) / 10)
            twin = min(twin, Self.seconds(clock.measure { for _ in 0..<10 { _ = physics.forward(inputs) } }) / 10)
        }
        let ratio = raw / twin
        print(
            String(
                format: "crossbar forward 256×1024 · 1024×128: twin %.3f ms, raw dgemm %.3f ms, speed ratio %.2f", twin * 1e3,
                raw * 1e3, ratio))
        #expect(ratio >= 0.8)
    }
}
