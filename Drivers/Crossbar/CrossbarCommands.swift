import PNNWire

/// The crossbar family's command set (frame types 0x40–0x4C), shared by the host driver
/// and the emulator. docs/protocol.md §13 is the normative text; `schemaText` is its
/// canonical summary and its CRC-32 is the schema hash exchanged in the hello.
///
/// Units on the wire: volts (V), microsiemens (µS), microamperes (µA), nanoseconds (ns);
/// every physical value is an IEEE-754 binary64, little-endian.
public enum CrossbarCommand {
    /// Counters and state of the board.
    public static let identify = FrameType(rawValue: 0x40)
    /// Row and column modes (drive/sense, ground, float).
    public static let configure = FrameType(rawValue: 0x41)
    /// Read conductances of a rectangle of devices at a read voltage.
    public static let read = FrameType(rawValue: 0x42)
    /// One programming pulse on one device.
    public static let pulse = FrameType(rawValue: 0x43)
    /// A pulse, then a read of the same device.
    public static let pulseRead = FrameType(rawValue: 0x44)
    /// Program-and-verify a list of devices to target conductances.
    public static let programVerify = FrameType(rawValue: 0x45)
    /// Upload (part of) an input batch into a slot.
    public static let loadInputs = FrameType(rawValue: 0x46)
    /// Apply a slot's inputs and read the output currents (the MVM), averaged over repeats.
    public static let measure = FrameType(rawValue: 0x47)
    /// Temporarily re-program some devices, measure a slot, restore: one Jacobian probe.
    public static let probe = FrameType(rawValue: 0x48)
    /// Queue conductance targets (not applied until `execute`).
    public static let queueTargets = FrameType(rawValue: 0x49)
    /// Program-and-verify every queued target.
    public static let execute = FrameType(rawValue: 0x4A)
    /// Push `frames` measurements of a slot as stream 1, then reply.
    public static let streamMeasure = FrameType(rawValue: 0x4B)
    /// Ground every line, drop the queue, stop streams.
    public static let safeState = FrameType(rawValue: 0x4C)

    /// Every command with its name, in code order.
    public static let all: [(FrameType, String)] = [
        (identify, "identify"), (configure, "configure"), (read, "read"), (pulse, "pulse"),
        (pulseRead, "pulseRead"), (programVerify, "programVerify"), (loadInputs, "loadInputs"),
        (measure, "measure"), (probe, "probe"), (queueTargets, "queueTargets"), (execute, "execute"),
        (streamMeasure, "streamMeasure"), (safeState, "safeState"),
    ]

    /// The human name of a crossbar command type.
    public static func name(of type: FrameType) -> String {
        all.first { $0.0 == type }?.1 ?? "\(type)"
    }

    /// Stream ID of `streamMeasure` frames.
    public static let measurementStream: UInt8 = 1
    /// Number of input slots a board must offer.
    public static let inputSlots = 4

    /// Canonical schema text: one line per command, payloads as field:type lists.
    public static let schemaText = """
        pnnlab crossbar command set v1; f64 = binary64 LE; units V uS uA ns
        descriptor: rows u16, outputs u16, gMin f64 uS, gMax f64 uS, tolerance f64 uS, vReadMax f64 V, \
        dacStep f64 V, fullScale f64 uA, adcStep f64 uA, vPulseMax f64 V, widthMin f64 ns, widthMax f64 ns, \
        maxBatch u16, maxTargets u16
        0x40 identify: - -> violations u32, pulses u32, verifies u32, vectors u64, queued u32, safe u8
        0x41 configure: rowModes u8[rows], colModes u8[2*outputs] -> -
        0x42 read: row0 u16, rows u16, col0 u16, cols u16, vRead f64 -> g f64[rows*cols]
        0x43 pulse: row u16, col u16, amplitude f64, width f64 -> -
        0x44 pulseRead: row u16, col u16, amplitude f64, width f64, vRead f64 -> g f64
        0x45 programVerify: n u16, (index u32, target f64)[n] -> (readBack f64, pulses u16, converged u8)[n]
        0x46 loadInputs: slot u8, total u16, first u16, n u16, v f64[n*rows] -> held u16
        0x47 measure: slot u8, repeats u16 -> i f64[total*outputs], saturated u16
        0x48 probe: slot u8, repeats u16, n u16, (index u32, target f64)[n] -> i f64[total*outputs], saturated u16
        0x49 queueTargets: first u32, n u16, target f64[n] -> queued u32
        0x4A execute: - -> programmed u32, pulses u32, unconverged u32
        0x4B streamMeasure: slot u8, repeats u16, frames u32 -> frames u32; stream 1: index u32, i f64[total*outputs], saturated u16
        0x4C safeState: - -> -
        errors: 0x0100 slotEmpty, 0x0101 queueIncomplete
        """

    /// CRC-32 of ``schemaText``.
    public static let schemaHash: UInt32 = CRC32.checksum(Array(schemaText.utf8))
}

/// The output currents of a `measure` or `probe` reply or a measurement stream frame
/// (docs/protocol.md §13.3): `i f64[total·outputs]`, vector-major, then `saturated u16`, how
/// many of those outputs had a column clipped at ±fullScale in some repeat. A saturated
/// output is a bound on the physical current, not a measurement of it.
public struct CrossbarReadings: Sendable, Equatable {
    /// Output currents, µA, vector-major (vector b, output j at b·outputs + j).
    public var currents: [Double]
    /// How many of `currents` are saturated (0 … currents.count).
    public var saturated: Int

    public init(currents: [Double], saturated: Int) {
        self.currents = currents
        self.saturated = saturated
    }

    /// Appends the currents and the saturation count.
    public func encode(into w: inout PayloadWriter) {
        w.f64s(currents)
        w.u16(UInt16(clamping: saturated))
    }

    /// Reads `count` currents and the saturation count; a count above `count` is refused.
    public static func decode(_ r: inout PayloadReader, count: Int) throws(PayloadError) -> CrossbarReadings {
        let currents = try r.f64s(count, field: "i")
        let saturated = Int(try r.u16("saturated"))
        guard saturated <= count else {
            throw .invalidValue(field: "saturated", reason: "\(saturated) saturated outputs among \(count)")
        }
        return CrossbarReadings(currents: currents, saturated: saturated)
    }

    /// Reply payload bytes for `count` currents.
    public static func byteCount(_ count: Int) -> Int { 8 * count + 2 }
}

/// Family error codes of the crossbar (0x0100–0x01FF).
extension WireErrorCode {
    /// `measure`/`probe`/`streamMeasure` named a slot with no complete input batch.
    public static let slotEmpty = WireErrorCode(rawValue: 0x0100)
    /// `execute` with targets missing from the queue.
    public static let queueIncomplete = WireErrorCode(rawValue: 0x0101)
}

/// Line modes for `configure`.
public enum CrossbarLineMode: UInt8, Sendable {
    /// Left floating (no current flows through the line).
    case float = 0
    /// Rows: driven by the input DAC. Columns: sensed by the ADC (virtual ground).
    case active = 1
    /// Tied to ground.
    case ground = 2
}

/// Board status returned by `identify`.
public struct CrossbarStatus: Sendable, Equatable, Codable {
    /// Out-of-range values the board received and refused.
    public var violations: UInt32
    /// Programming pulses applied since power-up.
    public var pulses: UInt32
    /// Program-and-verify operations.
    public var verifies: UInt32
    /// Input vectors applied.
    public var vectors: UInt64
    /// Targets waiting in the queue.
    public var queued: UInt32
    /// Whether the board is in its safe state (all lines grounded, nothing queued).
    public var safe: Bool

    public init(violations: UInt32, pulses: UInt32, verifies: UInt32, vectors: UInt64, queued: UInt32, safe: Bool) {
        self.violations = violations
        self.pulses = pulses
        self.verifies = verifies
        self.vectors = vectors
        self.queued = queued
        self.safe = safe
    }

    /// Reply payload.
    public func encode() -> [UInt8] {
        var w = PayloadWriter()
        w.u32(violations)
        w.u32(pulses)
        w.u32(verifies)
        w.u32(UInt32(truncatingIfNeeded: vectors))
        w.u32(UInt32(truncatingIfNeeded: vectors >> 32))
        w.u32(queued)
        w.u8(safe ? 1 : 0)
        return w.bytes
    }

    /// Parses a reply payload.
    public static func decode(_ payload: [UInt8]) throws(PayloadError) -> CrossbarStatus {
        var r = PayloadReader(payload)
        let s = CrossbarStatus(
            violations: try r.u32("violations"), pulses: try r.u32("pulses"), verifies: try r.u32("verifies"),
            vectors: UInt64(try r.u32("vectors")) | UInt64(try r.u32("vectors")) << 32,
            queued: try r.u32("queued"), safe: try r.u8("safe") != 0)
        try r.expectEnd()
        return s
    }
}
