import Foundation
import PNNCore

/// The complete state of a simulated memristor crossbar as a value type: configuration,
/// per-device constants, programmed conductances, faults, simulated clock, noise stream
/// and statistics. Synchronous and fast; `CrossbarTwin` wraps it as a `Substrate`.
///
/// Devices are indexed like the parameters: index = (row·outputs + j)·2 + (0 for G+,
/// 1 for G−), which is also the row-major position in the rows × 2·outputs conductance
/// matrix (physical column 2j + s).
///
/// Physics (units µS, V, µA, s):
/// - soft-bounds pulses: SET moves G by αset·(Gmax_dev − G), RESET by −αreset·(G − Gmin_dev),
///   each step scaled by (1 + writeNoise·N(0,1)) and clipped to the device window; a pulse
///   acts on the present (drifted) conductance and restarts the device's drift clock;
/// - drift: G(t) = Gp·((t − tp)/t0)^(−ν) for t − tp > t0, else Gp (stuck devices do not drift);
/// - a device read returns G(t)·(1 + readNoise·N(0,1));
/// - stuck devices sit at their Gmin or Gmax and ignore pulses; dead ADC columns read 0;
/// - each physical column's ADC reads gain·I + offset before quantisation (gain 1, offset 0
///   unless `adcGainSpread` / `adcOffsetSpread` are set); single-device reads (`read`, verify
///   reads) do not pass through the column ADCs.
///
/// The forward pass reuses its drifted-conductance matrix until the clock has moved more
/// than `driftCacheTolerance` × max(youngest device age, t0) (exact while no device is
/// older than t0), so its conductances can lag exact drift by about that fraction × ν,
/// relative; `trueConductances()` is always exact. All vectors of one batch see the
/// conductances at the batch's start time.
///
/// Encodes (as `Codable`, see `exportState()`) to a readable JSON document with
/// snake_case keys and conductances as arrays in µS.
public struct CrossbarPhysics: Sendable {
    /// The configuration the array was built from.
    public let config: CrossbarConfig
    /// Lower end of each device's own conductance window, µS.
    public internal(set) var deviceGMin: [Double]
    /// Upper end of each device's own conductance window, µS.
    public internal(set) var deviceGMax: [Double]
    /// Each device's SET step fraction αset.
    public internal(set) var alphaSet: [Double]
    /// Each device's RESET step fraction αreset.
    public internal(set) var alphaReset: [Double]
    /// Each device's drift exponent ν (≥ 0).
    public internal(set) var driftExponent: [Double]
    /// Whether each device is stuck (at its Gmin or Gmax, where `programmed` holds it).
    public internal(set) var stuck: [Bool]
    /// Conductance each device was left at by its last pulse (before drift), µS.
    public internal(set) var programmed: [Double]
    /// Simulated time of each device's last programming event, s.
    public internal(set) var programmedAt: [Double]
    /// Last program-and-verify target requested for each device, µS.
    public internal(set) var targets: [Double]
    /// Dead physical ADC columns (configured plus random failures), ascending.
    public internal(set) var deadColumns: [Int]
    /// Gain of each physical column's ADC (1 = exact): a column reads gain·I + offset.
    public internal(set) var adcGain: [Double]
    /// Offset of each physical column's ADC, µA.
    public internal(set) var adcOffset: [Double]
    /// Simulated clock, s.
    public internal(set) var clock: Double = 0
    /// Runtime noise stream (write, read and MVM noise).
    var rng: SeededRandom
    /// Counters; `simulatedSeconds` is filled in by `statistics`.
    var counters = CrossbarStatistics()
    /// Drifted conductances reused by `forward`; rebuilt from the state when needed.
    var cache: ForwardCache?
    /// Reused buffers of the forward pass (not part of the state).
    var scratch = ForwardScratch()

    /// Format name of the JSON state document.
    public static let stateFormat = "pnnsim.crossbar-state"
    /// Version of the JSON state document format.
    public static let stateVersion = 1

    /// Builds ("fabricates") the array described by `config`. Device constants, faults and
    /// initial conductances come from streams derived from `config.seed`, each device
    /// consuming the same draws whatever the configuration, so switching one
    /// non-ideality off leaves the others unchanged. Throws when the configuration
    /// describes no physical array (see `CrossbarConfig.validate()`).
    public init(config: CrossbarConfig) throws(CrossbarConfigError) {
        try config.validate()
        self.config = config
        let n = config.deviceCount
        var fab = SeededRandom.derived(seed: config.seed, stream: 1)
        var gMinD = [Double](repeating: 0, count: n)
        var gMaxD = gMinD, aSet = gMinD, aReset = gMinD, nu = gMinD, g = gMinD
        var stuckMask = [Bool](repeating: false, count: n)
        for d in 0..<n {
            let lo = config.gMin * max(0.2, 1 + config.windowSpread * fab.normal())
            let hi = max(config.gMax * max(0.2, 1 + config.windowSpread * fab.normal()), 1.5 * lo)
            gMinD[d] = lo
            gMaxD[d] = hi
            aSet[d] = min(1, config.alphaSet * max(0.1, 1 + config.alphaSpread * fab.normal()))
            aReset[d] = min(1, config.alphaReset * max(0.1, 1 + config.alphaSpread * fab.normal()))
            nu[d] = max(0, config.driftNuMean + config.driftNuSpread * fab.normal())
            let stuckDraw = fab.uniform(), stuckHigh = fab.uniform() < 0.5, position = fab.uniform()
            if stuckDraw < config.stuckFraction {
                stuckMask[d] = true
                g[d] = stuckHigh ? hi : lo
            } else if let g0 = config.initialConductance {
                g[d] = min(max(g0, lo), hi)
            } else {
                g[d] = lo + position * (hi - lo)
            }
        }
        var adc = SeededRandom.derived(seed: config.seed, stream: 3)
        var dead = Set(config.deadColumns)
        for c in 0..<config.physicalColumns where adc.uniform() < config.adcFailureRate { dead.insert(c) }
        deviceGMin = gMinD
        deviceGMax = gMaxD
        alphaSet = aSet
        alphaReset = aReset
        driftExponent = nu
        stuck = stuckMask
        programmed = g
        programmedAt = [Double](repeating: 0, count: n)
        targets = g
        deadColumns = dead.sorted()
        // Own stream, so switching the ADC errors on leaves every other draw unchanged.
        var converter = SeededRandom.derived(seed: config.seed, stream: 4)
        var gains = [Double](repeating: 1, count: config.physicalColumns)
        var offsets = [Double](repeating: 0, count: config.physicalColumns)
        for c in 0..<config.physicalColumns {
            let (g, o) = (converter.normal(), converter.normal())
            gains[c] = max(0.2, 1 + config.adcGainSpread * g)
            offsets[c] = config.adcOffsetSpread * config.effectiveFullScale * o
        }
        adcGain = gains
        adcOffset = offsets
        rng = SeededRandom.derived(seed: config.seed, stream: 2)
    }

    /// Whether any column's ADC has a gain or offset error.
    var hasConverterErrors: Bool { adcGain.contains { $0 != 1 } || adcOffset.contains { $0 != 0 } }

    /// Number of devices (= parameters).
    public var deviceCount: Int { programmed.count }

    /// Counters so far, with the simulated time.
    public var statistics: CrossbarStatistics {
        var s = counters
        s.simulatedSeconds = clock
        return s
    }

    /// Identity, parameter space (nominal window, program-and-verify resolution), input
    /// and output channels (with DAC and ADC steps) and capabilities of this array.
    public var descriptor: SubstrateDescriptor {
        let fs = config.effectiveFullScale
        return SubstrateDescriptor(
            identity: DeviceIdentity(
                family: "crossbar", model: "crossbar-twin", serial: "sim-\(config.seed)", firmware: "pnnsim-0.1"),
            parameters: ParameterSpace(
                count: config.deviceCount, lower: config.gMin, upper: config.gMax, resolution: config.tolerance,
                unit: .microsiemens, naming: .differentialCrossbar(rows: config.rows, cols: config.outputs)),
            inputs: ChannelSpace(
                count: config.rows, lower: -config.vReadMax, upper: config.vReadMax, resolution: config.dacStep ?? 0,
                unit: .volt),
            outputs: ChannelSpace(
                count: config.outputs, lower: -fs, upper: fs, resolution: config.adcStep ?? 0, unit: .microampere),
            capabilities: [.resettable, .drifting], maxBatch: 4096)
    }

    /// Conductance of device `d` at simulated time `t`, noise-free, with drift.
    @inline(__always) func drifted(_ d: Int, at t: Double) -> Double {
        let gp = programmed[d]
        let nu = driftExponent[d]
        let age = t - programmedAt[d]
        if stuck[d] || nu == 0 || age <= config.driftT0 { return gp }
        return gp * exp(-nu * log(age / config.driftT0))
    }

    /// Every device's present conductance without read noise (drift included), µS.
    /// A simulation-only view, for tests and for checking the physics.
    public func trueConductances() -> [Double] {
        (0..<deviceCount).map { drifted($0, at: clock) }
    }

    /// Lets `seconds` of simulated time pass (devices drift; nothing is measured).
    public mutating func advanceTime(seconds: Double) {
        precondition(seconds.isFinite && seconds >= 0, "time only moves forward")
        clock += seconds
    }

    /// Restores every device to its as-fabricated conductance (stuck devices stay stuck)
    /// and restarts drift; the clock, noise stream and counters carry on.
    public mutating func resetToInitialState() {
        // The configuration was validated when this state was built or imported.
        guard let fresh = try? CrossbarPhysics(config: config) else { return }
        programmed = fresh.programmed
        targets = fresh.targets
        programmedAt = [Double](repeating: clock, count: deviceCount)
        cache = nil
    }

    /// Column `column`'s ADC breaks: it reads 0 from now on (kept by a reset, exported).
    /// `column` must be in 0..<config.physicalColumns (callers check it).
    public mutating func breakColumn(_ column: Int) {
        if !deadColumns.contains(column) { deadColumns = (deadColumns + [column]).sorted() }
    }

    mutating func recordViolation() { counters.violations += 1 }
    mutating func recordSafeStateEntry() { counters.safeStateEntries += 1 }
}
