import PNNCore
import PNNSim
import PNNWire

/// The crossbar family descriptor carried in the hello reply: geometry, safe ranges and
/// buffer sizes. The host derives the `SubstrateDescriptor` from it, so the host-side
/// safety checks use exactly the ranges the board declared.
public struct CrossbarGeometry: Sendable, Equatable, Codable {
    /// Input lines (rows).
    public var rows: Int
    /// Logical outputs; each is a differential pair of physical columns (G+, G−).
    public var outputs: Int
    /// Programmable conductance window, µS.
    public var gMin: Double
    public var gMax: Double
    /// Program-and-verify tolerance, µS.
    public var tolerance: Double
    /// Largest read voltage magnitude on any row, V.
    public var vReadMax: Double
    /// DAC step, V (0 when unquantised).
    public var dacStep: Double
    /// ADC full scale, µA.
    public var fullScale: Double
    /// ADC step, µA (0 when unquantised).
    public var adcStep: Double
    /// Largest programming pulse amplitude, V.
    public var vPulseMax: Double
    /// Allowed pulse widths, ns.
    public var widthMin: Double
    public var widthMax: Double
    /// Most input vectors in one slot.
    public var maxBatch: Int
    /// Most (index, target) pairs in one `programVerify`/`probe`/`queueTargets` request.
    public var maxTargets: Int

    /// Physical columns (2 per output).
    public var columns: Int { 2 * outputs }
    /// Devices (= parameters).
    public var devices: Int { rows * columns }

    /// The geometry of a twin configuration, with buffers sized to fit 4 KiB control frames.
    public init(config: CrossbarConfig) {
        rows = config.rows
        outputs = config.outputs
        gMin = config.gMin
        gMax = config.gMax
        tolerance = config.tolerance
        vReadMax = config.vReadMax
        dacStep = config.dacStep ?? 0
        fullScale = config.effectiveFullScale
        adcStep = config.adcStep ?? 0
        vPulseMax = 3
        widthMin = 10
        widthMax = 1_000_000
        let payload = 4_089 - 16
        maxBatch = max(1, min(1024, payload / (8 * max(outputs, 1)), payload / (8 * max(rows, 1))))
        maxTargets = (payload - 8) / 12
    }

    /// Hello descriptor bytes.
    public func encode() -> [UInt8] {
        var w = PayloadWriter()
        w.u16(UInt16(rows))
        w.u16(UInt16(outputs))
        w.f64s([gMin, gMax, tolerance, vReadMax, dacStep, fullScale, adcStep, vPulseMax, widthMin, widthMax])
        w.u16(UInt16(maxBatch))
        w.u16(UInt16(maxTargets))
        return w.bytes
    }

    /// Parses and sanity-checks hello descriptor bytes.
    public static func decode(_ bytes: [UInt8]) throws(PayloadError) -> CrossbarGeometry {
        var r = PayloadReader(bytes)
        var g = CrossbarGeometry(config: CrossbarConfig.ideal)
        g.rows = Int(try r.u16("rows"))
        g.outputs = Int(try r.u16("outputs"))
        let v = try r.f64s(10, field: "ranges")
        (g.gMin, g.gMax, g.tolerance, g.vReadMax, g.dacStep) = (v[0], v[1], v[2], v[3], v[4])
        (g.fullScale, g.adcStep, g.vPulseMax, g.widthMin, g.widthMax) = (v[5], v[6], v[7], v[8], v[9])
        g.maxBatch = Int(try r.u16("maxBatch"))
        g.maxTargets = Int(try r.u16("maxTargets"))
        try r.expectEnd()
        guard g.rows > 0, g.outputs > 0, g.maxBatch > 0, g.maxTargets > 0, v.allSatisfy(\.isFinite),
            g.gMin >= 0, g.gMax > g.gMin, g.vReadMax > 0
        else { throw .invalidValue(field: "descriptor", reason: "inconsistent geometry or ranges") }
        return g
    }

    /// The substrate descriptor a host builds for this board.
    public func substrateDescriptor(identity: DeviceIdentity, capabilities: Capabilities) -> SubstrateDescriptor {
        SubstrateDescriptor(
            identity: identity,
            parameters: ParameterSpace(
                count: devices, lower: gMin, upper: gMax, resolution: tolerance, unit: .microsiemens,
                naming: .differentialCrossbar(rows: rows, cols: outputs)),
            inputs: ChannelSpace(count: rows, lower: -vReadMax, upper: vReadMax, resolution: dacStep, unit: .volt),
            outputs: ChannelSpace(count: outputs, lower: -fullScale, upper: fullScale, resolution: adcStep, unit: .microampere),
            capabilities: capabilities, maxBatch: maxBatch)
    }
}
