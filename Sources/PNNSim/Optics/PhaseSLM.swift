import Foundation

/// A phase-only liquid-crystal SLM at macro-pixel resolution: grey levels → phase through a
/// lookup table, fringing crosstalk between neighbouring macro-pixels, and liquid-crystal
/// settling after every pattern change.
///
/// Settling: a pattern shown at time tₛ replaces the phase φ₀ the liquid crystal held at
/// that moment; at time t the crystal holds φ₀ + α(t)·(φ_target − φ₀) with
/// α = 0 for t − tₛ < t0 and α = 1 − e^{−(t − tₛ − t0)/b} after (seed 003 / slmsuite's step
/// response). Fringing acts on the settled (unwrapped) phase:
/// φ'ᵢ = (1 − n·κ)·φᵢ + κ·Σ_neighbours φⱼ, n the number of neighbours on the grid.
public struct PhaseSLM: Codable, Sendable, Equatable {
    /// Macro-pixels per row and rows.
    public var gridWidth: Int
    public var gridHeight: Int
    /// Grey level → phase, rad (256 entries).
    public var lut: [Double]
    /// Neighbour weight κ (0: no crosstalk).
    public var crosstalk: Double
    /// Settle delay t0 and time constant b, s; `settling` false switches to instant changes.
    public var settling: Bool
    public var settleDelay: Double
    public var settleTau: Double
    /// The pattern commanded last (grey level per macro-pixel).
    public var grey: [UInt8]
    /// The liquid crystal's phase when the current pattern was commanded, rad.
    public var startPhase: [Double]
    /// When the current pattern was commanded, s of simulated time.
    public var switchTime: Double
    /// Patterns shown so far.
    public var patternsShown: UInt64

    enum CodingKeys: String, CodingKey {
        case lut, crosstalk, settling, grey
        case gridWidth = "grid_width"
        case gridHeight = "grid_height"
        case settleDelay = "settle_delay_s"
        case settleTau = "settle_tau_s"
        case startPhase = "start_phase"
        case switchTime = "switch_time_s"
        case patternsShown = "patterns_shown"
    }

    /// An SLM showing a blank (grey 0) pattern, settled, at time 0.
    public init(config: OpticsConfig) {
        gridWidth = config.resolvedGridWidth
        gridHeight = config.gridHeight
        lut = Self.lut(stroke: config.lutEnabled ? config.lutStroke : 1, gamma: config.lutEnabled ? config.lutGamma : 1)
        if !config.lutEnabled { lut = (0..<256).map { 2 * .pi * Double($0) / 256 } }
        crosstalk = config.crosstalkEnabled ? config.crosstalk : 0
        settling = config.settlingEnabled
        settleDelay = config.settleDelay
        settleTau = config.settleTau
        grey = Array(repeating: 0, count: config.macroPixels)
        startPhase = Array(repeating: lut[0], count: config.macroPixels)
        switchTime = -1e9
        patternsShown = 0
    }

    /// The nonlinear table φ(g) = 2π·stroke·(g/255)^γ.
    public static func lut(stroke: Double, gamma: Double) -> [Double] {
        (0..<256).map { 2 * .pi * stroke * pow(Double($0) / 255, gamma) }
    }

    /// Macro-pixels on the SLM.
    public var count: Int { grey.count }

    /// Settled fraction α(Δ) a time Δ after a pattern change.
    public func settledFraction(after elapsed: Double) -> Double {
        guard settling else { return 1 }
        let t = elapsed - settleDelay
        return t <= 0 ? 0 : 1 - exp(-t / settleTau)
    }

    /// The liquid crystal's phase at time `t`, before fringing, rad.
    public func rawPhase(at t: Double) -> [Double] {
        let a = settledFraction(after: t - switchTime)
        if a >= 1 { return grey.map { lut[Int($0)] } }
        var out = startPhase
        for i in out.indices { out[i] += a * (lut[Int(grey[i])] - startPhase[i]) }
        return out
    }

    /// The displayed phase at time `t`: settled phase blurred by fringing, rad.
    public func phase(at t: Double) -> [Double] { fringed(rawPhase(at: t)) }

    /// Commands a new pattern at time `t`.
    public mutating func show(_ pattern: [UInt8], at t: Double) {
        precondition(pattern.count == grey.count, "one grey level per macro-pixel")
        startPhase = rawPhase(at: t)
        grey = pattern
        switchTime = t
        patternsShown &+= 1
    }

    /// Replaces the lookup table (the `load LUT` verb).
    public mutating func loadLUT(_ table: [Double]) {
        precondition(table.count == 256, "a LUT has 256 entries")
        lut = table
    }

    /// Fringing: each phase mixes with its up to 4 grid neighbours with weight κ.
    public func fringed(_ phase: [Double]) -> [Double] {
        guard crosstalk > 0 else { return phase }
        let n = phase.count
        var out = phase
        for i in 0..<n {
            let r = i / gridWidth
            let c = i % gridWidth
            var sum = 0.0
            var k = 0
            if c > 0 {
                sum += phase[i - 1]
                k += 1
            }
            if c + 1 < gridWidth, i + 1 < n {
                sum += phase[i + 1]
                k += 1
            }
            if r > 0 {
                sum += phase[i - gridWidth]
                k += 1
            }
            if i + gridWidth < n {
                sum += phase[i + gridWidth]
                k += 1
            }
            out[i] = (1 - Double(k) * crosstalk) * phase[i] + crosstalk * sum
        }
        return out
    }
}
