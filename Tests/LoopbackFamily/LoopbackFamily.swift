import Foundation
import PNNCalibration
import PNNCore
import PNNLink
import PNNWire

/// A test-only device family added through the registry API alone: a one-parameter
/// loopback board (outputs = g·θ·inputs, g a hidden gain error near 1). It has a command
/// set, host driver, emulator, conformance checks, a `sim:loopback` twin and a trivial
/// calibration procedure, and no line of library code names it.
public enum LoopbackFamily: DeviceFamilyDriver {
    public static let family = "loopback"
    public static var schemaHash: UInt32 { LoopbackCommand.schemaHash }

    public static func commandName(_ type: FrameType) -> String { LoopbackCommand.name(of: type) }

    public static func substrate(on connection: LinkConnection) async throws -> any Substrate {
        try LoopbackBoard(connection: connection)
    }

    public static var conformanceChecks: [ConformanceCheck] { LoopbackChecks.all }

    /// Default lines: 8 (XOR with its quadratic encoding needs 6, padded with 0 V lines).
    public static let defaultLines = 8

    public static var emulatorOptions: [FamilyOption] {
        [FamilyOption("lines", .integer(1...256), help: "Input lines, one output each (default \(defaultLines)).")]
    }

    public static func emulator(_ settings: EmulatorSettings) throws -> any DeviceEndpoint {
        let geometry = LoopbackGeometry(lines: settings.options.integer("lines") ?? defaultLines)
        return LoopbackEmulator(
            physics: LoopbackPhysics(geometry: geometry, seed: settings.seed, ideal: settings.ideal),
            serial: settings.serial ?? "EMU-\(settings.seed)")
    }

    /// Ping figures and one measurement of every line at +0.1·vMax (no stream: the board has none).
    public static func healthCheck(_ substrate: any Substrate) async throws -> HealthReport {
        guard let board = substrate as? LoopbackBoard else {
            throw SubstrateError.malformedReply("health check needs a loopback board driver")
        }
        let ping = try await board.client().measurePing()
        let g = board.geometry
        let probe = Matrix(rows: 1, cols: g.lines, repeating: 0.1 * g.vMax)
        let outputs = try await board.measure(probe)
        let status = try await board.status()
        return HealthReport(
            roundTrip: ping.roundTrip, requestsPerSecond: ping.perSecond, streamBytesPerSecond: 0, streamFramesPerSecond: 0,
            streamFramesLost: 0, outputs: outputs.storage, outputUnit: PhysicalUnit.volt.symbol,
            counters: ["violations": Int(status.violations), "vectors": Int(status.vectors)])
    }

    public static var twins: [TwinEntry] {
        [
            TwinEntry(
                name: "sim:loopback", summary: "test-only one-parameter loopback board (outputs = g·θ·inputs)",
                options: [FamilyOption("ideal", .flag, help: "No gain error, no read noise.")],
                build: buildTwin, exportState: exportTwin)
        ]
    }

    /// Lines from the `[twin]` table (`lines`), else sized to the task, else the default.
    static func buildTwin(_ request: TwinRequest) throws -> BuiltTwin {
        var lines = request.geometry.map { max($0.inputs, $0.outputs) } ?? defaultLines
        if let config = request.config, config != .object([:]) {
            for key in config.keys where key != "lines" { throw TwinError.unknownSetting(twin: "sim:loopback", key: key) }
            if case .number(let n) = config["lines"] {
                guard n >= 1, n <= 256, n == n.rounded() else {
                    throw TwinError.invalid(twin: "sim:loopback", why: "twin.lines must be a whole number 1…256")
                }
                lines = Int(n)
            }
        }
        let physics = LoopbackPhysics(
            geometry: LoopbackGeometry(lines: lines), seed: request.seed, ideal: request.options.flag("ideal"))
        return BuiltTwin(
            substrate: LoopbackTwin(physics: physics, seed: request.seed), config: .object(["lines": .number(Double(lines))]))
    }

    static func exportTwin(_ substrate: any Substrate) async throws -> Data {
        guard let twin = substrate as? LoopbackTwin else { throw TwinError.notThisTwin("sim:loopback") }
        return try await twin.exportState()
    }

    public static var calibration: (any CalibrationProcedure)? { LoopbackCalibration() }

    /// A twin's gain error, or an emulated board's read through its `emulatorTruth` verb.
    public static func hiddenTruth(of substrate: any Substrate) async throws -> Data? {
        if let twin = substrate as? LoopbackTwin { return try await twin.exportState() }
        if let board = substrate as? LoopbackBoard, board.isEmulator {
            return try JSONEncoder().encode(LoopbackTruth(gain: try await board.emulatorGain(), lines: board.geometry.lines))
        }
        return nil
    }
}

extension LoopbackFamily {
    /// Every frame type of the command set (to check it stays clear of the other families').
    public static var allCommandTypes: [FrameType] { LoopbackCommand.all.map(\.0) }
}
