import Foundation
import PNNCore

/// The optical twin's complete state as JSON, checkable outside pnnlab: the settings, the
/// SLM (LUT, pattern, settling start), the trainable grey levels, the clock, the camera's
/// frame counter and noise stream, and the transmission matrix — its entries when it has
/// at most `explicitLimit` of them, otherwise the recipe (seed and decorrelation jumps) that
/// rebuilds it exactly. Import → export is the identity; a restored twin produces the
/// same frames as the original.
public struct OpticsStateDocument: Codable, Sendable, Equatable {
    public var format: String
    public var version: Int
    public var config: OpticsConfig
    public var slm: PhaseSLM
    public var parameters: [UInt8]
    public var clock: Double
    public var frameCounter: UInt64
    public var noise: SeededRandom
    public var violations: Int
    public var transmission: Transmission

    /// The medium: recipe always, entries (row-major, macro-pixel × ROI pixel) when small enough.
    public struct Transmission: Codable, Sendable, Equatable {
        public var sources: Int
        public var pixels: Int
        public var seed: UInt64
        /// Decorrelation jumps taken, in steps; each step keeps correlation `rho`.
        public var jumps: [Int]
        public var rho: Double
        public var re: [Double]?
        public var im: [Double]?
    }

    enum CodingKeys: String, CodingKey {
        case format, version, config, slm, parameters, noise, violations, transmission
        case clock = "clock_s"
        case frameCounter = "frame_counter"
    }

    public static let formatName = "pnnlab.optics-state"
    /// Largest matrix written out entry by entry (16 MB of numbers as JSON, roughly).
    public static let explicitLimit = 1 << 20

    public init(_ physics: OpticsPhysics) {
        format = Self.formatName
        version = 1
        config = physics.config
        slm = physics.slm
        parameters = physics.parameters
        clock = physics.clock
        frameCounter = physics.frameCounter
        noise = physics.noise
        violations = physics.violations
        let t = physics.medium
        var re: [Double]?
        var im: [Double]?
        if t.sources * t.pixels <= Self.explicitLimit {
            re = stride(from: 0, to: t.entries.count, by: 2).map { t.entries[$0] }
            im = stride(from: 1, to: t.entries.count, by: 2).map { t.entries[$0] }
        }
        transmission = Transmission(
            sources: t.sources, pixels: t.pixels, seed: t.seed, jumps: t.jumps, rho: physics.stepRho, re: re, im: im)
    }

    /// The physics this document describes, after checking it is consistent.
    public func physics() throws(OpticsError) -> OpticsPhysics {
        guard format == Self.formatName, version == 1 else {
            throw .invalidState("not a \(Self.formatName) version 1 document (format \(format), version \(version))")
        }
        if let why = config.problem() { throw .invalidState(why) }
        let n = config.macroPixels
        let m = config.roiPixels
        guard slm.count == n, slm.startPhase.count == n, slm.lut.count == 256, slm.gridWidth == config.resolvedGridWidth,
            slm.gridHeight == config.gridHeight
        else { throw .invalidState("the SLM block does not match \(n) macro-pixels on a \(config.resolvedGridWidth)-wide grid") }
        guard slm.lut.allSatisfy(\.isFinite), slm.startPhase.allSatisfy(\.isFinite), slm.switchTime.isFinite,
            slm.crosstalk.isFinite, slm.crosstalk >= 0, slm.crosstalk <= 0.2, slm.settleTau > 0, slm.settleDelay >= 0
        else { throw .invalidState("the SLM block holds a non-finite or out-of-range value") }
        guard parameters.count == config.parameters else {
            throw .invalidState("\(parameters.count) trainable grey levels for \(config.parameters) macro-pixels")
        }
        guard clock.isFinite, clock >= 0 else { throw .invalidState("clock_s must be a finite time ≥ 0") }
        guard violations >= 0 else { throw .invalidState("violations must be ≥ 0") }
        let t = transmission
        guard t.sources == n, t.pixels == m, t.seed == config.seed else {
            throw .invalidState(
                "the transmission block is \(t.sources)×\(t.pixels) (seed \(t.seed)); the settings need \(n)×\(m)")
        }
        guard t.jumps.allSatisfy({ $0 > 0 }), t.jumps.count <= 1 << 20, t.rho.isFinite, t.rho > 0, t.rho <= 1 else {
            throw .invalidState("the decorrelation record is malformed")
        }
        let medium: TransmissionMatrix
        if let re = t.re, let im = t.im {
            guard re.count == n * m, im.count == n * m, re.allSatisfy(\.isFinite), im.allSatisfy(\.isFinite) else {
                throw .invalidState("the transmission entries must be \(n * m) finite real and imaginary parts")
            }
            var e = [Double](repeating: 0, count: 2 * n * m)
            for i in 0..<(n * m) {
                e[2 * i] = re[i]
                e[2 * i + 1] = im[i]
            }
            medium = TransmissionMatrix(sources: n, pixels: m, entries: e, seed: t.seed, jumps: t.jumps)
        } else {
            guard t.re == nil, t.im == nil else { throw .invalidState("transmission needs both re and im, or neither") }
            medium = TransmissionMatrix(sources: n, pixels: m, seed: t.seed, jumps: t.jumps, rho: t.rho)
        }
        return OpticsPhysics(
            config: config, slm: slm, medium: medium, parameters: parameters, clock: clock, frameCounter: frameCounter,
            noise: noise, violations: violations)
    }
}

extension OpticsPhysics {
    /// The full state as pretty, key-sorted JSON.
    public func exportState() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return (try? encoder.encode(OpticsStateDocument(self))) ?? Data()
    }

    /// Restores a state written by `exportState()`.
    public init(importing data: Data) throws(OpticsError) {
        let document: OpticsStateDocument
        do {
            document = try JSONDecoder().decode(OpticsStateDocument.self, from: data)
        } catch {
            throw .invalidState("unreadable JSON (\(error))")
        }
        self = try document.physics()
    }
}
