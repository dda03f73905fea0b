import Foundation
import PNNCore

/// The JSON form of a `CrossbarPhysics`: everything needed to continue the simulation
/// exactly, laid out so a person (or numpy) can check the physics independently.
/// Per-device arrays are in parameter order, index = (row·outputs + j)·2 + (0 for G+, 1 for G−).
struct CrossbarStateDocument: Codable {
    var format: String
    var formatVersion: Int
    var units: [String: String]
    var deviceIndexing: String
    var config: CrossbarConfig
    var clock: Double
    var deviceGMin: [Double]
    var deviceGMax: [Double]
    var alphaSet: [Double]
    var alphaReset: [Double]
    var driftNu: [Double]
    var stuckDevices: [Int]
    var programmed: [Double]
    var programmedAt: [Double]
    var targets: [Double]
    var deadColumns: [Int]
    /// Per physical column; absent in documents written before the ADC errors existed (gain 1, offset 0).
    var adcGain: [Double]?
    var adcOffset: [Double]?
    var statistics: CrossbarStatistics
    var runtimeRNG: SeededRandom
    var forwardCache: CacheMark?

    /// When the forward pass last evaluated drift, and the device ages it saw; the
    /// conductances themselves are recomputed on import.
    struct CacheMark: Codable {
        var time: Double
        var minAge: Double
        var maxAge: Double
        enum CodingKeys: String, CodingKey {
            case time = "time_s"
            case minAge = "min_age_s"
            case maxAge = "max_age_s"
        }
    }

    enum CodingKeys: String, CodingKey {
        case format, units, config, statistics, targets
        case formatVersion = "format_version"
        case deviceIndexing = "device_indexing"
        case clock = "clock_s"
        case deviceGMin = "device_g_min_uS"
        case deviceGMax = "device_g_max_uS"
        case alphaSet = "alpha_set"
        case alphaReset = "alpha_reset"
        case driftNu = "drift_nu"
        case stuckDevices = "stuck_devices"
        case programmed = "programmed_uS"
        case programmedAt = "programmed_at_s"
        case deadColumns = "dead_adc_columns"
        case adcGain = "adc_gain"
        case adcOffset = "adc_offset_uA"
        case runtimeRNG = "runtime_rng_state"
        case forwardCache = "forward_cache"
    }

    /// The most input lines (rows) an imported array may have.
    static let maximumRows = 4096
    /// The most outputs (differential column pairs) an imported array may have.
    static let maximumOutputs = 2048

    /// Sizes and magnitudes an imported configuration must respect before anything is
    /// allocated or simulated: at most ``maximumRows`` × ``maximumOutputs`` (the emulator's limits),
    /// conductances up to 10 mS, at most 100 000 pulses per write, times up to 1 s per read
    /// or pulse. Values beyond these describe no bench array and would overflow the physics.
    static func checkBounds(_ c: CrossbarConfig) throws(CrossbarConfigError) {
        func fail(_ field: String, _ value: Any, _ requirement: String) -> CrossbarConfigError {
            .invalid(field: field, value: "\(value)", requirement: requirement)
        }
        guard c.rows <= maximumRows else { throw fail("rows", c.rows, "an imported array has at most \(maximumRows) rows") }
        guard c.outputs <= maximumOutputs else {
            throw fail("outputs", c.outputs, "an imported array has at most \(maximumOutputs) outputs")
        }
        guard c.gMax <= 1e4 else { throw fail("gMax", c.gMax, "must be at most 10000 µS (10 mS)") }
        guard c.maxPulses <= 100_000 else { throw fail("maxPulses", c.maxPulses, "must be at most 100000") }
        let bounded: [(String, Double, Double, String)] = [
            ("windowSpread", c.windowSpread, 10, ""), ("alphaSpread", c.alphaSpread, 10, ""),
            ("writeNoise", c.writeNoise, 10, ""), ("readNoise", c.readNoise, 10, ""),
            ("driftNuSpread", c.driftNuSpread, 10, ""), ("driftCacheTolerance", c.driftCacheTolerance, 10, ""),
            ("tolerance", c.tolerance, 1e4, " µS"), ("initialConductance", c.initialConductance ?? 0, 1e4, " µS"),
            ("driftT0", c.driftT0, 1e9, " s"), ("readTimePerVector", c.readTimePerVector, 1, " s"),
            ("pulseTime", c.pulseTime, 1, " s"), ("verifyReadTime", c.verifyReadTime, 1, " s"),
            ("vReadMax", c.vReadMax, 100, " V"), ("fullScale", c.fullScale ?? 0, 1e9, " µA"),
            ("adcGainSpread", c.adcGainSpread, 10, ""), ("adcOffsetSpread", c.adcOffsetSpread, 10, ""),
        ]
        for (field, value, limit, unit) in bounded where !(abs(value) <= limit) {
            throw fail(field, value, "must be at most \(limit)\(unit)")
        }
        guard abs(c.driftNuMean) <= 10 else { throw fail("driftNuMean", c.driftNuMean, "must be within ±10") }
    }

    /// Rejects documents that no physical array could have produced.
    func validate() throws(CrossbarStateError) {
        guard format == CrossbarPhysics.stateFormat, formatVersion == CrossbarPhysics.stateVersion else {
            throw .unsupportedFormat(format: format, version: formatVersion)
        }
        do {
            try Self.checkBounds(config)
            try config.validate()
        } catch { throw .invalidConfiguration(error) }
        // The clock first: it bounds the programming times below.
        guard clock.isFinite else { throw .notFinite(field: CodingKeys.clock.rawValue, index: 0) }
        guard clock >= 0, clock <= 1e12 else {
            throw .outOfRange(field: CodingKeys.clock.rawValue, index: 0, value: clock, lower: 0, upper: 1e12, unit: "s")
        }
        let n = config.deviceCount
        let gLimit = 2 * config.gMax
        let perDevice: [(String, [Double], ClosedRange<Double>, String)] = [
            (CodingKeys.deviceGMin.rawValue, deviceGMin, 0...gLimit, "µS"),
            (CodingKeys.deviceGMax.rawValue, deviceGMax, 0...gLimit, "µS"),
            (CodingKeys.programmed.rawValue, programmed, 0...gLimit, "µS"),
            (CodingKeys.targets.rawValue, targets, 0...gLimit, "µS"),
            (CodingKeys.alphaSet.rawValue, alphaSet, 0...1, "1"),
            (CodingKeys.alphaReset.rawValue, alphaReset, 0...1, "1"),
            (CodingKeys.driftNu.rawValue, driftNu, 0...10, "1"),
            (CodingKeys.programmedAt.rawValue, programmedAt, -1e12...clock, "s"),
        ]
        for (field, values, range, unit) in perDevice {
            guard values.count == n else { throw .lengthMismatch(field: field, expected: n, got: values.count) }
            for (i, v) in values.enumerated() {
                guard v.isFinite else { throw .notFinite(field: field, index: i) }
                guard range.contains(v) else {
                    throw .outOfRange(
                        field: field, index: i, value: v, lower: range.lowerBound, upper: range.upperBound, unit: unit)
                }
            }
        }
        for d in 0..<n where deviceGMin[d] >= deviceGMax[d] {
            throw .outOfRange(
                field: CodingKeys.deviceGMin.rawValue, index: d, value: deviceGMin[d], lower: 0, upper: deviceGMax[d],
                unit: "µS")
        }
        let indexChecks: [(String, [Int], Int)] = [
            (CodingKeys.stuckDevices.rawValue, stuckDevices, n),
            (CodingKeys.deadColumns.rawValue, deadColumns, config.physicalColumns),
        ]
        for (field, indices, count) in indexChecks {
            for (i, k) in indices.enumerated() where !(0..<count).contains(k) {
                throw .outOfRange(field: field, index: i, value: Double(k), lower: 0, upper: Double(count - 1), unit: "index")
            }
        }
        let columns = config.physicalColumns
        let fullScale = config.effectiveFullScale
        let perColumn: [(String, [Double]?, ClosedRange<Double>, String)] = [
            (CodingKeys.adcGain.rawValue, adcGain, 0.01...100, "1"),
            (CodingKeys.adcOffset.rawValue, adcOffset, -fullScale...fullScale, "µA"),
        ]
        for case (let field, let values?, let range, let unit) in perColumn {
            guard values.count == columns else { throw .lengthMismatch(field: field, expected: columns, got: values.count) }
            for (i, v) in values.enumerated() {
                guard v.isFinite else { throw .notFinite(field: field, index: i) }
                guard range.contains(v) else {
                    throw .outOfRange(
                        field: field, index: i, value: v, lower: range.lowerBound, upper: range.upperBound, unit: unit)
                }
            }
        }
        if let mark = forwardCache {
            guard mark.time.isFinite, mark.minAge.isFinite, mark.maxAge.isFinite, mark.time <= clock else {
                throw .outOfRange(
                    field: CodingKeys.forwardCache.rawValue, index: 0, value: mark.time, lower: 0, upper: clock, unit: "s")
            }
        }
    }
}

extension CrossbarPhysics: Codable {
    /// Decodes and validates a state document (throws `CrossbarStateError` when invalid).
    public init(from decoder: any Decoder) throws {
        let doc = try CrossbarStateDocument(from: decoder)
        try doc.validate()
        config = doc.config
        deviceGMin = doc.deviceGMin
        deviceGMax = doc.deviceGMax
        alphaSet = doc.alphaSet
        alphaReset = doc.alphaReset
        driftExponent = doc.driftNu
        var mask = [Bool](repeating: false, count: doc.programmed.count)
        for d in doc.stuckDevices { mask[d] = true }
        stuck = mask
        programmed = doc.programmed
        programmedAt = doc.programmedAt
        targets = doc.targets
        deadColumns = Array(Set(doc.deadColumns)).sorted()
        adcGain = doc.adcGain ?? [Double](repeating: 1, count: doc.config.physicalColumns)
        adcOffset = doc.adcOffset ?? [Double](repeating: 0, count: doc.config.physicalColumns)
        clock = doc.clock
        rng = doc.runtimeRNG
        counters = doc.statistics
        counters.simulatedSeconds = 0
        if let mark = doc.forwardCache { cache = buildCache(at: mark.time, ages: (mark.minAge, mark.maxAge)) }
    }

    /// Encodes the state document.
    public func encode(to encoder: any Encoder) throws {
        let doc = CrossbarStateDocument(
            format: Self.stateFormat, formatVersion: Self.stateVersion,
            units: ["conductance": "µS", "voltage": "V", "current": "µA", "time": "s"],
            deviceIndexing: "index = (row*outputs + j)*2 + (0 for G+, 1 for G-); physical column = 2j + (0|1)",
            config: config, clock: clock, deviceGMin: deviceGMin, deviceGMax: deviceGMax, alphaSet: alphaSet,
            alphaReset: alphaReset, driftNu: driftExponent, stuckDevices: stuck.indices.filter { stuck[$0] },
            programmed: programmed, programmedAt: programmedAt, targets: targets, deadColumns: deadColumns,
            adcGain: adcGain, adcOffset: adcOffset, statistics: statistics, runtimeRNG: rng,
            forwardCache: cache.map { CrossbarStateDocument.CacheMark(time: $0.time, minAge: $0.minAge, maxAge: $0.maxAge) })
        try doc.encode(to: encoder)
    }

    /// The full state as pretty-printed JSON (sorted keys).
    public func exportState() throws(CrossbarStateError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do { return try encoder.encode(self) } catch { throw .encodingFailed("\(error)") }
    }

    /// Loads a state written by `exportState()`, validating shapes, ranges and numbers.
    public init(importing data: Data) throws(CrossbarStateError) {
        do {
            self = try JSONDecoder().decode(CrossbarPhysics.self, from: data)
        } catch let error as CrossbarStateError {
            throw error
        } catch {
            throw .unreadable(CLLNState.explain(error))
        }
    }
}
