import PNNCore
import PNNLink
import PNNSim
import PNNWire

/// One programming pulse: a device (parameter order, docs/protocol.md §13.2) and its polarity.
public struct CrossbarPulse: Sendable, Equatable {
    /// Parameter index p = row·2·outputs + column.
    public var device: Int
    /// true: SET (positive amplitude, raises G); false: RESET.
    public var set: Bool

    public init(device: Int, set: Bool) {
        self.device = device
        self.set = set
    }
}

/// The pulse the calibration sends: SET and RESET amplitudes (V) and width (ns). The
/// soft-bounds constants a calibration reports describe this pulse.
public struct CrossbarPulseShape: Sendable, Codable, Equatable {
    /// SET amplitude, V (> 0).
    public var setAmplitude: Double
    /// RESET amplitude, V (< 0).
    public var resetAmplitude: Double
    /// Width, ns.
    public var width: Double

    public init(setAmplitude: Double = 2, resetAmplitude: Double = -2, width: Double = 100) {
        self.setAmplitude = setAmplitude
        self.resetAmplitude = resetAmplitude
        self.width = width
    }

    /// The shape with both amplitudes and the width brought inside the board's declared ranges.
    public func fitted(to g: CrossbarGeometry) -> CrossbarPulseShape {
        CrossbarPulseShape(
            setAmplitude: min(max(abs(setAmplitude), 1e-3), g.vPulseMax),
            resetAmplitude: -min(max(abs(resetAmplitude), 1e-3), g.vPulseMax),
            width: min(max(width, g.widthMin), g.widthMax))
    }
}

/// The crossbar's device-level verbs as a calibration uses them (docs/protocol.md §13:
/// identify, configure, read, pulseRead), implemented by the host driver over a link and by
/// the twin in process, so a procedure cannot tell them apart. Every value is checked
/// against the board's declared ranges before it is sent.
public protocol CrossbarVerbs: Substrate {
    /// Geometry and ranges of the array.
    func arrayGeometry() async -> CrossbarGeometry
    /// Counters and state (`identify`).
    func boardStatus() async throws -> CrossbarStatus
    /// Each pulse, then a read of the same device at the read voltage (`pulseRead`), in
    /// order (pipelined over a link); returns the reads, µS. Never repeated after a lost link.
    func pulseRead(_ pulses: [CrossbarPulse], shape: CrossbarPulseShape) async throws -> [Double]
    /// Every physical column's reading (batch × 2·outputs, µA): the G− column of each pair
    /// floated, then the G+ column (`configure` + `measure`), then every line active again.
    func measureColumns(_ inputs: Matrix) async throws -> Matrix
    /// Every row driven and every column sensed (the power-up line modes).
    func activateAllLines() async throws
    /// The time the devices live in, seconds from an arbitrary origin: the host's clock for a
    /// board, the simulated clock for a twin (drift calibration).
    func deviceSeconds() async throws -> Double
    /// Lets `seconds` pass with nothing sent: a board waits in real time, a twin advances its
    /// simulated clock.
    func wait(seconds: Double) async throws
}

/// The host's monotonic clock, for boards: seconds since this process first asked.
private let hostClockOrigin = ContinuousClock.now

extension CrossbarVerbs {
    public func deviceSeconds() async throws -> Double {
        let d = ContinuousClock.now - hostClockOrigin
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    public func wait(seconds: Double) async throws {
        guard seconds > 0 else { return }
        try await Task.sleep(for: .seconds(seconds))
    }
}

/// A calibration refused or stopped, phrased for the person at the bench.
public enum CrossbarCalibrationError: Error, Equatable, CustomStringConvertible {
    /// The device does not offer the crossbar's pulse and read verbs.
    case notACrossbar(device: String)
    /// The board did not reach its safe state (or keeps queued targets) after `safeState`.
    case notSafe(String)
    /// The planned pulses exceed the budget the user allowed.
    case overBudget(planned: Int, budget: Int)
    /// A value the procedure would send lies outside the board's declared range.
    case outOfRange(String)
    /// The link was lost during a pulse sequence: how many pulses landed is unknown.
    case linkLostWhilePulsing(String)
    /// Too few usable devices or columns to fit.
    case unusable(String)

    public var description: String {
        switch self {
        case .notACrossbar(let device):
            return "\(device) does not offer the crossbar's pulse and read verbs; the crossbar calibration needs them"
        case .notSafe(let why):
            return "the board is not in a known state, calibration refused: \(why)"
        case .overBudget(let planned, let budget):
            return "the calibration may send up to \(planned) pulses, more than the budget of \(budget) "
                + "(raise --pulse-budget or lower --max-pulses)"
        case .outOfRange(let what):
            return "calibration refused: \(what)"
        case .linkLostWhilePulsing(let why):
            return "the link was lost during a pulse sequence (\(why)); the devices' state is unknown — "
                + "calibrate again"
        case .unusable(let why):
            return "calibration failed: \(why)"
        }
    }
}

// MARK: The host driver

extension CrossbarBoard: CrossbarVerbs {
    public func arrayGeometry() async -> CrossbarGeometry { geometry }

    public func boardStatus() async throws -> CrossbarStatus { try await status() }

    public func pulseRead(_ pulses: [CrossbarPulse], shape: CrossbarPulseShape) async throws -> [Double] {
        let g = geometry
        for p in pulses where !(0..<g.devices).contains(p.device) {
            throw CrossbarCalibrationError.outOfRange("device \(p.device) does not exist (\(g.devices) devices)")
        }
        let amplitudes = [shape.setAmplitude, shape.resetAmplitude]
        guard amplitudes.allSatisfy({ $0.isFinite && $0 != 0 && abs($0) <= g.vPulseMax }),
            shape.setAmplitude > 0, shape.resetAmplitude < 0,
            shape.width.isFinite, shape.width >= g.widthMin, shape.width <= g.widthMax
        else {
            throw CrossbarCalibrationError.outOfRange(
                "pulse \(shape.setAmplitude) V / \(shape.resetAmplitude) V, \(shape.width) ns is outside the board's "
                    + "±\(g.vPulseMax) V, \(g.widthMin)…\(g.widthMax) ns")
        }
        let vRead = readVoltage
        // Pulses are not idempotent: de-duplicated retries within a session, never repeated
        // on a reopened link (how many landed would be unknown).
        do {
            return try await withReconnect(maxReconnects: 0) { client in
                var tickets: [WireClient.Ticket] = []
                tickets.reserveCapacity(pulses.count)
                for p in pulses {
                    var w = PayloadWriter()
                    w.u16(UInt16(p.device / g.columns))
                    w.u16(UInt16(p.device % g.columns))
                    w.f64(p.set ? shape.setAmplitude : shape.resetAmplitude)
                    w.f64(shape.width)
                    w.f64(vRead)
                    tickets.append(try await client.submit(CrossbarCommand.pulseRead, payload: w.bytes, retry: .deduplicated))
                }
                var reads: [Double] = []
                reads.reserveCapacity(pulses.count)
                for t in tickets {
                    reads += try ReplyPayload.doubles(try await client.reply(to: t), count: 1, request: "pulseRead")
                }
                return reads
            }
        } catch let error as LinkError where error.isConnectionLoss {
            throw CrossbarCalibrationError.linkLostWhilePulsing("\(error)")
        }
    }

    public func measureColumns(_ inputs: Matrix) async throws -> Matrix {
        let g = geometry
        var out = Matrix(rows: inputs.rows, cols: g.columns)
        for sign in 0..<2 {
            // Sense column 2j + sign of every pair; its partner floats and contributes 0 µA.
            try await configure(columns: (0..<g.columns).map { $0 % 2 == sign ? .active : .float })
            let m = try await measure(inputs)
            for b in 0..<inputs.rows {
                for j in 0..<g.outputs { out[b, 2 * j + sign] = sign == 0 ? m[b, j] : -m[b, j] }
            }
        }
        try await activateAllLines()
        return out
    }

    public func activateAllLines() async throws {
        try await configure(columns: Array(repeating: .active, count: geometry.columns))
    }

    /// `configure`: every row active, columns as given.
    private func configure(columns: [CrossbarLineMode]) async throws {
        var w = PayloadWriter()
        for _ in 0..<geometry.rows { w.u8(CrossbarLineMode.active.rawValue) }
        for mode in columns { w.u8(mode.rawValue) }
        let payload = w.bytes
        _ = try await withReconnect { client in
            try await client.request(CrossbarCommand.configure, payload: payload, retry: .idempotent)
        }
    }
}

// MARK: The twin

extension CrossbarTwin: CrossbarVerbs {
    public func arrayGeometry() async -> CrossbarGeometry { CrossbarGeometry(config: snapshot().config) }

    public func boardStatus() async throws -> CrossbarStatus {
        let s = statistics()
        return CrossbarStatus(
            violations: UInt32(clamping: s.violations), pulses: UInt32(clamping: s.pulses),
            verifies: UInt32(clamping: s.programAndVerifyCalls), vectors: UInt64(s.vectorsMeasured), queued: 0, safe: true)
    }

    public func pulseRead(_ pulses: [CrossbarPulse], shape: CrossbarPulseShape) async throws -> [Double] {
        var reads: [Double] = []
        reads.reserveCapacity(pulses.count)
        for p in pulses {
            try pulse(device: p.device, set: p.set)
            reads.append(try read(device: p.device))
        }
        return reads
    }

    public func measureColumns(_ inputs: Matrix) async throws -> Matrix { try measurePhysicalColumns(inputs) }

    public func activateAllLines() async throws {}

    public func deviceSeconds() async throws -> Double { statistics().simulatedSeconds }

    public func wait(seconds: Double) async throws {
        guard seconds > 0 else { return }
        try advanceTime(seconds: seconds)
    }
}
