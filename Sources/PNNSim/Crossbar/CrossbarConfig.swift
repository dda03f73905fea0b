/// Everything that defines a simulated memristor crossbar: its size, the device physics and
/// the peripheral circuits (DAC, ADC), plus the seed all randomness derives from.
///
/// The defaults describe a PCM-like array with every non-ideality on at a realistic level;
/// `CrossbarConfig.ideal` (or `idealised()`) turns every one of them off for exact tests.
///
/// Layout: `rows` input lines × `2·outputs` physical columns. Output j is a differential
/// pair: physical column 2j holds G+, column 2j+1 holds G−, and the logical output is
/// I(2j) − I(2j+1) in µA, with I_col = Σᵢ Vᵢ·Gᵢ,col (V in volts, G in µS).
///
/// Read noise in a batched MVM: every device read carries relative noise σ = `readNoise`,
/// so a physical column's current has variance σ²·Σᵢ Vᵢ²·Gᵢ,col². With `exactReadNoise`
/// that sum is computed exactly (a second matrix product on squared values, doubling the
/// cost); by default it is replaced by the mean-field estimate (Σᵢ Vᵢ²)·meanᵢ(Gᵢ,col²),
/// one normal draw per physical column per input vector, which keeps the forward pass
/// close to the cost of one raw matrix product.
///
/// Units: conductance µS, voltage V, current µA, time s. When decoded from JSON every
/// field is optional and missing fields take their defaults.
public struct CrossbarConfig: Codable, Sendable, Equatable {
    // MARK: Geometry

    /// Input lines (word lines), one per input channel.
    public var rows: Int = 5
    /// Logical outputs; the array has `2·outputs` physical columns.
    public var outputs: Int = 3

    // MARK: Conductance window and programming

    /// Nominal lower end of the conductance window, µS (also the lowest safe target).
    public var gMin: Double = 0.25
    /// Nominal upper end of the conductance window, µS (also the highest safe target).
    public var gMax: Double = 25
    /// Device-to-device spread of each window end (relative standard deviation).
    public var windowSpread: Double = 0.05
    /// Soft-bounds SET step: a SET pulse moves G by αset·(Gmax_dev − G).
    public var alphaSet: Double = 0.03
    /// Soft-bounds RESET step: a RESET pulse moves G by −αreset·(G − Gmin_dev).
    public var alphaReset: Double = 0.05
    /// Device-to-device spread of αset and αreset (relative standard deviation).
    public var alphaSpread: Double = 0.3
    /// Cycle-to-cycle write noise: relative standard deviation of every pulse's step.
    public var writeNoise: Double = 0.2
    /// Program-and-verify tolerance, µS: programming stops once a read is this close.
    public var tolerance: Double = 0.25
    /// Program-and-verify gives up after this many pulses on one device.
    public var maxPulses: Int = 100
    /// When true, program-and-verify places the device exactly on its target (clipped to
    /// its window) with one verify read and no pulses. Off for realistic devices.
    public var exactProgramming: Bool = false
    /// Conductance every device starts at, µS (clipped to its window); `nil` draws each
    /// device uniformly from its own window.
    public var initialConductance: Double? = nil

    // MARK: Reading

    /// Shot-to-shot read noise: relative standard deviation of one device read.
    public var readNoise: Double = 0.02
    /// Compute batched read noise exactly (second matrix product) instead of mean-field.
    public var exactReadNoise: Bool = false

    // MARK: Drift (PCM-like)

    /// Drift reference time t0, s: G(t) = Gp·((t − tp)/t0)^(−ν) once t − tp > t0.
    public var driftT0: Double = 20
    /// Mean drift exponent ν over devices.
    public var driftNuMean: Double = 0.05
    /// Device-to-device standard deviation of ν (draws are clipped at 0).
    public var driftNuSpread: Double = 0.01
    /// The forward pass reuses its drifted-conductance matrix until the clock has moved
    /// more than this fraction of the youngest device's age (ages below t0 count as t0),
    /// which bounds the relative error of a reused conductance by about this fraction × ν.
    public var driftCacheTolerance: Double = 0.01

    // MARK: Simulated time

    /// Simulated seconds per input vector measured.
    public var readTimePerVector: Double = 1e-4
    /// Simulated seconds per programming pulse.
    public var pulseTime: Double = 1e-6
    /// Simulated seconds per single-device (verify) read.
    public var verifyReadTime: Double = 1e-5

    // MARK: Faults

    /// Fraction of devices stuck at their Gmin or Gmax (50/50); stuck devices never move.
    public var stuckFraction: Double = 0.01
    /// Physical ADC columns that are known dead (read 0), in 0..<2·outputs.
    public var deadColumns: [Int] = []
    /// Probability that each physical column's ADC is dead (drawn from the seed).
    public var adcFailureRate: Double = 0.005

    /// Column-to-column spread of the ADC gain (relative standard deviation): each physical
    /// column reads gain·I + offset before quantisation. Off (0) by default.
    public var adcGainSpread: Double = 0
    /// Column-to-column spread of the ADC offset, as a fraction of the full scale (standard
    /// deviation). Off (0) by default.
    public var adcOffsetSpread: Double = 0

    // MARK: Peripherals

    /// Largest safe read voltage, V: inputs must lie in [−vReadMax, vReadMax].
    public var vReadMax: Double = 0.3
    /// DAC resolution in bits over [−vReadMax, vReadMax]; `nil` is an ideal DAC.
    public var dacBits: Int? = 8
    /// ADC resolution in bits over ±full scale; `nil` is an ideal ADC (no quantisation).
    /// Every ADC, ideal or not, saturates: a column current beyond ±full scale reads
    /// ±full scale, and the output it belongs to is flagged saturated.
    public var adcBits: Int? = 10
    /// ADC full scale per physical column, µA; `nil` = vReadMax·gMax·rows/2.
    public var fullScale: Double? = nil

    // MARK: Randomness

    /// Seed of every random stream (device constants, faults, runtime noise).
    public var seed: UInt64 = 1

    /// The default, realistic PCM-like array of the given size.
    public init(rows: Int = 5, outputs: Int = 3, seed: UInt64 = 1) {
        self.rows = rows
        self.outputs = outputs
        self.seed = seed
    }

    /// The default-sized array with every non-ideality switched off.
    public static let ideal = CrossbarConfig().idealised()

    /// This configuration with every non-ideality switched off: no spreads, no write or
    /// read noise, no drift, no faults, ideal DAC and ADC (no gain or offset error), exact programming. Geometry,
    /// window, step sizes, timing and seed are kept.
    public func idealised() -> CrossbarConfig {
        var c = self
        c.windowSpread = 0
        c.alphaSpread = 0
        c.writeNoise = 0
        c.exactProgramming = true
        c.readNoise = 0
        c.driftNuMean = 0
        c.driftNuSpread = 0
        c.stuckFraction = 0
        c.deadColumns = []
        c.adcFailureRate = 0
        c.adcGainSpread = 0
        c.adcOffsetSpread = 0
        c.dacBits = nil
        c.adcBits = nil
        return c
    }

    // MARK: Derived quantities

    /// Physical columns: two per logical output.
    public var physicalColumns: Int { 2 * outputs }
    /// Devices in the array (= parameters).
    public var deviceCount: Int { rows * physicalColumns }
    /// ADC full scale in µA actually used.
    public var effectiveFullScale: Double { fullScale ?? vReadMax * gMax * Double(rows) / 2 }
    /// DAC step, V (mid-tread: 0 V is a level); `nil` for an ideal DAC.
    public var dacStep: Double? { dacBits.map { vReadMax / Double(Self.levels(bits: $0)) } }
    /// ADC step, µA (mid-tread); `nil` for an ideal ADC.
    public var adcStep: Double? { adcBits.map { effectiveFullScale / Double(Self.levels(bits: $0)) } }

    /// Positive levels of a signed mid-tread converter: 2^(bits−1) − 1.
    static func levels(bits: Int) -> Int { (1 << (bits - 1)) - 1 }
}
