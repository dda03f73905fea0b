import PNNWire

/// The CLLN board's command set (frame types 0x50–0x5E), shared by the host driver and the
/// emulator. docs/protocol.md §14 is the normative text; `schemaText` is its canonical
/// summary and its CRC-32 is the schema hash exchanged in the hello.
///
/// Units on the wire: volts (V), seconds (s); every physical value is an IEEE-754
/// binary64, little-endian. Gate voltages are listed in trainable-edge order.
public enum CLLNCommand {
    /// Counters and state of the board.
    public static let identify = FrameType(rawValue: 0x50)
    /// One page of the binary topology (nodes, edges, inputs and roles, outputs).
    public static let topology = FrameType(rawValue: 0x51)
    /// Hold source voltages on the input nodes of both networks.
    public static let setSources = FrameType(rawValue: 0x52)
    /// Output boundary condition: mode, η and one target per output.
    public static let setClamp = FrameType(rawValue: 0x53)
    /// Read node voltages of the free or the clamped network.
    public static let readNodes = FrameType(rawValue: 0x54)
    /// Read gate voltages.
    public static let readGates = FrameType(rawValue: 0x55)
    /// Free outputs for a batch of source vectors (the held sources are restored after).
    public static let measure = FrameType(rawValue: 0x56)
    /// Switch learning on for a duration with the present sources and clamp.
    public static let learn = FrameType(rawValue: 0x57)
    /// Program gate voltages of a range of trainable edges.
    public static let writeGates = FrameType(rawValue: 0x58)
    /// Reset every trainable edge to one gate voltage.
    public static let resetGates = FrameType(rawValue: 0x59)
    /// One chunk of the binary dataset.
    public static let loadDataset = FrameType(rawValue: 0x5A)
    /// Start the loaded dataset's schedule; records follow on stream 2 until an end frame.
    public static let runSchedule = FrameType(rawValue: 0x5B)
    /// Stop a running schedule (an end frame `aborted` follows).
    public static let abortSchedule = FrameType(rawValue: 0x5C)
    /// Stop any schedule, learning off, clamp free, sources at 0 V.
    public static let safeState = FrameType(rawValue: 0x5D)
    /// Emulators only: one page of the twin's full state as JSON (hidden A0 and B).
    public static let debugState = FrameType(rawValue: 0x5E)

    /// Every command with its name, in code order.
    public static let all: [(FrameType, String)] = [
        (identify, "identify"), (topology, "topology"), (setSources, "setSources"), (setClamp, "setClamp"),
        (readNodes, "readNodes"), (readGates, "readGates"), (measure, "measure"), (learn, "learn"),
        (writeGates, "writeGates"), (resetGates, "resetGates"), (loadDataset, "loadDataset"),
        (runSchedule, "runSchedule"), (abortSchedule, "abortSchedule"), (safeState, "safeState"),
        (debugState, "debugState"),
    ]

    /// The human name of a CLLN command type.
    public static func name(of type: FrameType) -> String {
        all.first { $0.0 == type }?.1 ?? "\(type)"
    }

    /// Stream ID of schedule records and the end frame.
    public static let recordStream: UInt8 = 2
    /// Largest data part of a paged reply or a dataset chunk, bytes.
    public static let pageBytes = 4_000
    /// Largest number of f64 values in one request or reply.
    public static let maxValues = 500

    /// Canonical schema text: one line per command, payloads as field:type lists.
    public static let schemaText = """
        pnnlab clln command set v1; f64 = binary64 LE; units V s
        descriptor: nodes u16, edges u16, trainable u16, inputs u16, outputs u16, vPlus f64 V, vMinus f64 V, \
        gateMax f64 V, gateStep f64 V, inputLow f64 V, inputHigh f64 V, outputLow f64 V, outputHigh f64 V, \
        maxLearn f64 s, maxBatch u16, maxDatasetBytes u32, topologyBytes u32, topologyCRC u32
        topology bytes: nodes u16, edges u16, (a u16, b u16, trainable u8)[edges], inputs u16, \
        (node u16, role u8, k u8)[inputs], outputs u16, (plus u16, minus u16)[outputs]; \
        role 0 variable 1 inverted 2 V+ 3 V-; minus 0xFFFF = single-ended
        dataset bytes: inputs u16, outputs u16, tasks u16, (classification u8, nameLength u8, name u8[nameLength], \
        points u32, (v f64[inputs], label f64[outputs])[points])[tasks]
        schedule: method u8 (0 coupled 1 overclamp 2 ep), hinge u8, eta f64, L0 f64 V, step f64 s, period f64 s, \
        periods u32, recordEvery u32, recordTail u32, traceEvery u32, startPeriod u32, r0 f64 s/V (0 = default)
        record: kind u8, period u32, task i32, time f64 s, r0 f64, steps u64, skipped u64, n u16, gates f64[n], \
        tasks u16, (points u16, outputs u16, O f64[points*outputs])[tasks], m u16, errors f64[m]
        0x50 identify: - -> violations u32, learns u32, learnSeconds f64, vectors u32, datasetPoints u32, running u8, \
        records u32, safe u8
        0x51 topology: offset u32 -> total u32, bytes u8[<=4000]
        0x52 setSources: v f64[inputs] -> -
        0x53 setClamp: mode u8, eta f64, targets f64[outputs] -> -
        0x54 readNodes: side u8, first u16, n u16 -> v f64[n]
        0x55 readGates: first u16, n u16 -> g f64[n]
        0x56 measure: n u16, v f64[n*inputs] -> O f64[n*outputs]
        0x57 learn: seconds f64 -> -
        0x58 writeGates: first u16, n u16, g f64[n] -> -
        0x59 resetGates: g f64 -> -
        0x5A loadDataset: total u32, crc u32, offset u32, bytes u8[<=4000] -> held u32, points u32
        0x5B runSchedule: schedule -> -; stream 2: 0, record u32, part u16, parts u16, bytes | 1, records u32, \
        outcome u8 (0 done 1 aborted 2 failed), message utf8
        0x5C abortSchedule: - -> records u32
        0x5D safeState: - -> -
        0x5E debugState: offset u32 -> total u32, bytes u8[<=4000]
        errors: 0x0200 noDataset, 0x0201 datasetCorrupt, 0x0202 scheduleRunning, 0x0203 solveFailed
        """

    /// CRC-32 of ``schemaText``.
    public static let schemaHash: UInt32 = CRC32.checksum(Array(schemaText.utf8))
}

/// Family error codes of the CLLN board (0x0200–0x02FF).
extension WireErrorCode {
    /// `runSchedule` before a complete, valid dataset was loaded.
    public static let noDataset = WireErrorCode(rawValue: 0x0200)
    /// The reassembled dataset fails its CRC-32 or does not parse; it was discarded.
    public static let datasetCorrupt = WireErrorCode(rawValue: 0x0201)
    /// A command that changes or reads the physics arrived while a schedule is running.
    public static let scheduleRunning = WireErrorCode(rawValue: 0x0202)
    /// The network's node voltages could not be solved (non-physical state); nothing changed.
    public static let solveFailed = WireErrorCode(rawValue: 0x0203)
}

/// Board status returned by `identify`.
public struct CLLNStatus: Sendable, Equatable, Codable {
    /// Out-of-range values the board received and refused.
    public var violations: UInt32
    /// Learning intervals run (single `learn` commands and schedule steps).
    public var learns: UInt32
    /// Total learning time, seconds.
    public var learnSeconds: Double
    /// Source vectors measured by `measure`.
    public var vectors: UInt32
    /// Points of the loaded dataset (0: none).
    public var datasetPoints: UInt32
    /// Whether a schedule is running.
    public var running: Bool
    /// Records streamed by the running or last schedule.
    public var records: UInt32
    /// Whether the board is in its safe state (sources 0 V, clamp free, no schedule).
    public var safe: Bool

    public init(
        violations: UInt32, learns: UInt32, learnSeconds: Double, vectors: UInt32, datasetPoints: UInt32,
        running: Bool, records: UInt32, safe: Bool
    ) {
        self.violations = violations
        self.learns = learns
        self.learnSeconds = learnSeconds
        self.vectors = vectors
        self.datasetPoints = datasetPoints
        self.running = running
        self.records = records
        self.safe = safe
    }

    /// Reply payload (30 bytes).
    public func encode() -> [UInt8] {
        var w = PayloadWriter()
        w.u32(violations)
        w.u32(learns)
        w.f64(learnSeconds)
        w.u32(vectors)
        w.u32(datasetPoints)
        w.u8(running ? 1 : 0)
        w.u32(records)
        w.u8(safe ? 1 : 0)
        return w.bytes
    }

    /// Parses a reply payload.
    public static func decode(_ payload: [UInt8]) throws(PayloadError) -> CLLNStatus {
        var r = PayloadReader(payload)
        let s = CLLNStatus(
            violations: try r.u32("violations"), learns: try r.u32("learns"), learnSeconds: try r.f64("learnSeconds"),
            vectors: try r.u32("vectors"), datasetPoints: try r.u32("datasetPoints"), running: try r.u8("running") != 0,
            records: try r.u32("records"), safe: try r.u8("safe") != 0)
        try r.expectEnd()
        return s
    }
}
