import CBLAS
import Foundation
import PNNCore
import PNNSim

/// The optics twin's transmission product |E·T|² (and its whole forward pass: SLM,
/// product, camera) against a raw `cblas_zgemm` of the same shape, split over the same
/// cores in row blocks.
func opticsBenchmarks(into report: inout BenchReport, quick: Bool) throws {
    let sources = 785 + 64
    let pixels = 2048
    let batch = quick ? 256 : 1024
    let medium = TransmissionMatrix(sources: sources, pixels: pixels, seed: 5)
    var rng = SeededRandom(seed: 9)
    let fields = (0..<(2 * batch * sources)).map { _ in rng.normal() }
    let flops = 8.0 * Double(batch) * Double(sources) * Double(pixels)
    let product = bestTime(repeats: 5) { _ = medium.intensities(fields, rows: batch) }
    let raw = bestTime(repeats: 5) { rawZgemm(fields, medium.entries, rows: batch, k: sources, n: pixels) }
    report.add(
        "optics twin transmission product |E·T|², batch \(batch), \(sources) macro-pixels × \(pixels) pixels",
        flops / product / 1e9, unit: "GFLOP/s", baseline: flops / raw / 1e9, baselineName: "raw cblas_zgemm",
        goal: "≥ 0.8 of raw")
    var config = OpticsConfig()
    config.inputs = 785
    var physics = try OpticsPhysics(config: config)
    let inputs = Matrix(rows: batch, cols: 785, storage: (0..<(batch * 785)).map { _ in 2 * rng.uniform() - 1 })
    let forward = bestTime(repeats: 3) { _ = physics.forward(inputs) }
    report.add(
        "optics twin forward (SLM, product, camera noise and ADC), batch \(batch), every effect on",
        flops / forward / 1e9, unit: "GFLOP/s", baseline: flops / raw / 1e9, baselineName: "raw cblas_zgemm")
}

/// C = A·B (complex, interleaved, row-major) in row blocks over the cores, OpenBLAS single-threaded per block.
private func rawZgemm(_ a: [Double], _ b: [Double], rows: Int, k: Int, n: Int) {
    BLASThreads.configure()
    var c = [Double](repeating: 0, count: 2 * rows * n)
    let parts = max(1, min(ProcessInfo.processInfo.activeProcessorCount, rows / 32))
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
                let p = RawPointers(a: pa.baseAddress!, b: pb.baseAddress!, c: pc.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: parts) { part in
                    let lo = rows * part / parts
                    let hi = rows * (part + 1) / parts
                    var alpha: (Double, Double) = (1, 0)
                    var beta: (Double, Double) = (0, 0)
                    withUnsafePointer(to: &alpha) { al in
                        withUnsafePointer(to: &beta) { be in
                            cblas_zgemm(
                                CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(hi - lo), Int32(n), Int32(k), al,
                                p.a + 2 * lo * k, Int32(k), p.b, Int32(n), be, p.c + 2 * lo * n, Int32(n))
                        }
                    }
                }
            }
        }
    }
}

private struct RawPointers: @unchecked Sendable {
    let a: UnsafePointer<Double>
    let b: UnsafePointer<Double>
    let c: UnsafeMutablePointer<Double>
}
