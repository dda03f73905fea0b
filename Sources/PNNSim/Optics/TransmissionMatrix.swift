import CBLAS
import Foundation
import PNNCore

/// The scattering medium: a complex Gaussian transmission matrix T from SLM macro-pixels to
/// camera (ROI) pixels, entries i.i.d. with Re, Im ~ N(0, 1/(2N)) so that E|Tₖₘ|² = 1/N and
/// a field of unit-amplitude macro-pixels gives unit mean speckle intensity.
///
/// Decorrelation is a discretised Ornstein–Uhlenbeck process: at every multiple of the step
/// Δ = `step`·τ of simulated time, T ← ρ·T + √(1−ρ²)·G with ρ = e^{−Δ/τ} and G a fresh
/// matrix of the same law, so ⟨Tₖₘ(t)·T*ₖₘ(t+Δ)⟩ = e^{−Δ/τ}/N and the speckle statistics stay
/// stationary. Several pending steps are taken as one jump of k steps (ρᵏ), each jump
/// drawing G from its own seeded stream, so T at any time is a function of the seed and the
/// jump sizes (`jumps`), which is how large states are exported.
public struct TransmissionMatrix: Sendable, Equatable {
    /// Macro-pixels (rows) and camera pixels (columns).
    public let sources: Int
    public let pixels: Int
    /// Row-major interleaved complex entries (re, im), 2·sources·pixels doubles.
    public private(set) var entries: [Double]
    /// Seed of the initial matrix and of every update.
    public let seed: UInt64
    /// Decorrelation jumps applied so far, in steps each.
    public private(set) var jumps: [Int]
    /// Decorrelation steps applied so far.
    public var updates: Int { jumps.reduce(0, +) }

    /// A fresh seeded matrix.
    public init(sources: Int, pixels: Int, seed: UInt64) {
        self.sources = sources
        self.pixels = pixels
        self.seed = seed
        self.jumps = []
        var rng = SeededRandom.derived(seed: seed, stream: 0x7_0000)
        entries = Self.gaussianEntries(&rng, count: sources * pixels, sources: sources)
    }

    /// A matrix with given entries (an imported state, or a test's known T).
    public init(sources: Int, pixels: Int, entries: [Double], seed: UInt64 = 0, jumps: [Int] = []) {
        precondition(entries.count == 2 * sources * pixels, "2·sources·pixels interleaved values")
        self.sources = sources
        self.pixels = pixels
        self.entries = entries
        self.seed = seed
        self.jumps = jumps
    }

    /// The seeded matrix after the given decorrelation jumps, each step of correlation `rho`.
    public init(sources: Int, pixels: Int, seed: UInt64, jumps: [Int], rho: Double) {
        self.init(sources: sources, pixels: pixels, seed: seed)
        for k in jumps { decorrelate(steps: k, rho: rho) }
    }

    private static func gaussianEntries(_ rng: inout SeededRandom, count: Int, sources: Int) -> [Double] {
        let sd = (1 / (2 * Double(max(sources, 1)))).squareRoot()
        var out = [Double](repeating: 0, count: 2 * count)
        for i in out.indices { out[i] = sd * rng.normal() }
        return out
    }

    /// `steps` decorrelation steps at once: T ← ρᵏ·T + √(1−ρ²ᵏ)·G.
    public mutating func decorrelate(steps: Int, rho: Double) {
        guard steps > 0 else { return }
        var rng = SeededRandom.derived(seed: seed, stream: 0x7_0001 &+ UInt64(jumps.count))
        let fresh = Self.gaussianEntries(&rng, count: sources * pixels, sources: sources)
        let r = pow(rho, Double(steps))
        let s = (max(0, 1 - r * r)).squareRoot()
        for i in entries.indices { entries[i] = r * entries[i] + s * fresh[i] }
        jumps.append(steps)
    }

    /// Entry (k, m) as (re, im).
    public func entry(_ k: Int, _ m: Int) -> (re: Double, im: Double) {
        let i = 2 * (k * pixels + m)
        return (entries[i], entries[i + 1])
    }

    /// Fields at the camera for `rows` SLM fields: C = E·T through `cblas_zgemm` (large
    /// batches split into row blocks across cores, OpenBLAS single-threaded per block as
    /// `BLASThreads` arranges). `fields` is row-major interleaved complex, rows × sources;
    /// the result rows × pixels.
    public func propagate(_ fields: [Double], rows: Int) -> [Double] {
        precondition(fields.count == 2 * rows * sources, "one complex field per macro-pixel per row")
        var out = [Double](repeating: 0, count: 2 * rows * pixels)
        guard rows > 0, pixels > 0, sources > 0 else { return out }
        BLASThreads.configure()
        let work = rows.multipliedReportingOverflow(by: pixels * sources).partialValue
        let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let parts = work >= BLASThreads.splitThreshold ? max(1, min(cores, rows / 32)) : 1
        let (n, k) = (pixels, sources)
        fields.withUnsafeBufferPointer { a in
            entries.withUnsafeBufferPointer { t in
                out.withUnsafeMutableBufferPointer { c in
                    let base = ProductPointers(a: a.baseAddress!, t: t.baseAddress!, c: c.baseAddress!)
                    DispatchQueue.concurrentPerform(iterations: parts) { part in
                        let lo = rows * part / parts
                        let hi = rows * (part + 1) / parts
                        guard hi > lo else { return }
                        var alpha: (Double, Double) = (1, 0)
                        var beta: (Double, Double) = (0, 0)
                        withUnsafePointer(to: &alpha) { al in
                            withUnsafePointer(to: &beta) { be in
                                cblas_zgemm(
                                    CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(hi - lo), Int32(n), Int32(k),
                                    UnsafeRawPointer(al), UnsafeRawPointer(base.a + 2 * lo * k), Int32(k),
                                    UnsafeRawPointer(base.t), Int32(n), UnsafeRawPointer(be),
                                    UnsafeMutableRawPointer(base.c + 2 * lo * n), Int32(n))
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Intensities |E·T|² for `rows` fields (rows × pixels, row-major).
    public func intensities(_ fields: [Double], rows: Int) -> [Double] {
        let c = propagate(fields, rows: rows)
        var out = [Double](repeating: 0, count: rows * pixels)
        for i in out.indices { out[i] = c[2 * i] * c[2 * i] + c[2 * i + 1] * c[2 * i + 1] }
        return out
    }
}

/// The operands of one product, handed to concurrent row blocks that write disjoint rows of `c`.
private struct ProductPointers: @unchecked Sendable {
    let a: UnsafePointer<Double>
    let t: UnsafePointer<Double>
    let c: UnsafeMutablePointer<Double>
}
