import PNNCore
import PNNLink
import PNNWire

/// The loopback family's command set (frame types 0x60–0x65, outside the crossbar's
/// 0x40–0x4C and the CLLN's 0x50–0x5E), shared by the host driver and the emulator.
/// A test-only family: a board with `lines` input lines and as many outputs, each output
/// the gain θ times its input (y = g·θ·x, where g is the board's hidden gain error).
///
/// Units on the wire: volts (V) for inputs and outputs, θ dimensionless; every value is an
/// IEEE-754 binary64, little-endian.
public enum LoopbackCommand {
    /// Counters and state of the board.
    public static let identify = FrameType(rawValue: 0x60)
    /// Set θ; replies with the value now held.
    public static let setGain = FrameType(rawValue: 0x61)
    /// Read θ back.
    public static let readGain = FrameType(rawValue: 0x62)
    /// Apply input vectors and read the outputs, averaged over repeats.
    public static let measure = FrameType(rawValue: 0x63)
    /// Measure with θ held at a given value for this request only (one Jacobian probe).
    public static let probe = FrameType(rawValue: 0x64)
    /// Emulator only: the hidden gain error g (the truth a calibration is compared with).
    public static let emulatorTruth = FrameType(rawValue: 0x65)
    /// Ground every line, θ back to its lowest value.
    public static let safeState = FrameType(rawValue: 0x66)

    /// Every command with its name, in code order.
    public static let all: [(FrameType, String)] = [
        (identify, "identify"), (setGain, "setGain"), (readGain, "readGain"), (measure, "measure"), (probe, "probe"),
        (emulatorTruth, "emulatorTruth"), (safeState, "safeState"),
    ]

    /// The human name of a loopback command type.
    public static func name(of type: FrameType) -> String {
        all.first { $0.0 == type }?.1 ?? "\(type)"
    }

    /// Hello capability bit set by an emulated board.
    public static let emulatorBit: UInt32 = HelloReply.emulatorBit

    /// Canonical schema text: one line per command, payloads as field:type lists.
    public static let schemaText = """
        pnnlab loopback command set v1 (test-only); f64 = binary64 LE; units V, theta dimensionless
        descriptor: lines u16, thetaMin f64, thetaMax f64, thetaResolution f64, vMax f64, maxBatch u16
        0x60 identify: - -> theta f64, vectors u32, violations u32, safe u8
        0x61 setGain: theta f64 -> theta f64
        0x62 readGain: - -> theta f64
        0x63 measure: repeats u16, n u16, v f64[n*lines] -> y f64[n*lines]
        0x64 probe: theta f64, repeats u16, n u16, v f64[n*lines] -> y f64[n*lines]
        0x65 emulatorTruth: - -> gain f64 (emulators only)
        0x66 safeState: - -> -
        """

    /// CRC-32 of ``schemaText``.
    public static let schemaHash: UInt32 = CRC32.checksum(Array(schemaText.utf8))
}

/// Lines and safe ranges of a loopback board, sent as the hello's descriptor.
public struct LoopbackGeometry: Sendable, Equatable {
    /// Input lines (and outputs: one per line).
    public var lines: Int
    /// Safe range of θ and the smallest step the board resolves.
    public var thetaMin: Double
    public var thetaMax: Double
    public var thetaResolution: Double
    /// Inputs must stay within ±vMax, V.
    public var vMax: Double
    /// Largest number of vectors in one request.
    public var maxBatch: Int

    public init(
        lines: Int = 8, thetaMin: Double = 0.1, thetaMax: Double = 2, thetaResolution: Double = 1e-3, vMax: Double = 1
    ) {
        self.lines = lines
        self.thetaMin = thetaMin
        self.thetaMax = thetaMax
        self.thetaResolution = thetaResolution
        self.vMax = vMax
        // A request (header + 8-byte values) must fit a 4096-byte control frame.
        self.maxBatch = max(1, 4_000 / (8 * lines))
    }

    /// Descriptor bytes.
    public func encode() -> [UInt8] {
        var w = PayloadWriter()
        w.u16(UInt16(lines))
        w.f64(thetaMin)
        w.f64(thetaMax)
        w.f64(thetaResolution)
        w.f64(vMax)
        w.u16(UInt16(maxBatch))
        return w.bytes
    }

    /// Parses descriptor bytes.
    public static func decode(_ bytes: [UInt8]) throws(PayloadError) -> LoopbackGeometry {
        var r = PayloadReader(bytes)
        var g = LoopbackGeometry(
            lines: Int(try r.u16("lines")), thetaMin: try r.f64("thetaMin"), thetaMax: try r.f64("thetaMax"),
            thetaResolution: try r.f64("thetaResolution"), vMax: try r.f64("vMax"))
        g.maxBatch = Int(try r.u16("maxBatch"))
        try r.expectEnd()
        guard g.lines >= 1, g.maxBatch >= 1, g.thetaMin < g.thetaMax, g.thetaResolution > 0, g.vMax > 0 else {
            throw .invalidValue(field: "descriptor", reason: "empty board or inverted ranges")
        }
        return g
    }

    /// The substrate descriptor for a board with this geometry.
    public func substrateDescriptor(identity: DeviceIdentity) -> SubstrateDescriptor {
        SubstrateDescriptor(
            identity: identity,
            parameters: ParameterSpace(
                count: 1, lower: thetaMin, upper: thetaMax, resolution: thetaResolution, unit: .dimensionless),
            inputs: ChannelSpace(count: lines, lower: -vMax, upper: vMax, resolution: 0, unit: .volt),
            outputs: ChannelSpace(
                count: lines, lower: -thetaMax * vMax * 2, upper: thetaMax * vMax * 2, resolution: 0, unit: .volt),
            capabilities: [], maxBatch: maxBatch)
    }
}

/// Board status returned by `identify`.
public struct LoopbackStatus: Sendable, Equatable {
    public var theta: Double
    public var vectors: UInt32
    /// Out-of-range values the board received and refused.
    public var violations: UInt32
    public var safe: Bool

    public init(theta: Double, vectors: UInt32, violations: UInt32, safe: Bool) {
        self.theta = theta
        self.vectors = vectors
        self.violations = violations
        self.safe = safe
    }

    public func encode() -> [UInt8] {
        var w = PayloadWriter()
        w.f64(theta)
        w.u32(vectors)
        w.u32(violations)
        w.u8(safe ? 1 : 0)
        return w.bytes
    }

    public static func decode(_ payload: [UInt8]) throws(PayloadError) -> LoopbackStatus {
        var r = PayloadReader(payload)
        let s = LoopbackStatus(
            theta: try r.f64("theta"), vectors: try r.u32("vectors"), violations: try r.u32("violations"),
            safe: try r.u8("safe") != 0)
        try r.expectEnd()
        return s
    }
}

/// The physics shared by the emulator and the in-process twin: y = g·θ·x per line, plus
/// seeded Gaussian read noise.
public struct LoopbackPhysics: Sendable {
    public let geometry: LoopbackGeometry
    /// Hidden gain error g (1 on an ideal board).
    public let gain: Double
    /// Read noise, V rms.
    public let readNoise: Double
    public var theta: Double
    public private(set) var vectors = 0
    private var rng: SeededRandom

    /// A board with a seeded gain error within ±5 % and 0.1 mV read noise, or an ideal one.
    public init(geometry: LoopbackGeometry = .init(), seed: UInt64, ideal: Bool = false) {
        var rng = SeededRandom.derived(seed: seed, stream: 0x100B)
        self.geometry = geometry
        self.gain = ideal ? 1 : 1 + 0.1 * (rng.uniform() - 0.5)
        self.readNoise = ideal ? 0 : 1e-4
        self.theta = geometry.thetaMin
        self.rng = rng
    }

    /// Outputs for `inputs` (rows = vectors) at `theta`, averaged over `repeats` reads.
    public mutating func forward(_ inputs: Matrix, theta: Double, repeats: Int) -> Matrix {
        var out = Matrix(rows: inputs.rows, cols: inputs.cols)
        for i in out.storage.indices {
            var sum = 0.0
            for _ in 0..<repeats { sum += gain * theta * inputs.storage[i] + (readNoise > 0 ? readNoise * rng.normal() : 0) }
            out.storage[i] = sum / Double(repeats)
        }
        vectors += inputs.rows * repeats
        return out
    }
}
