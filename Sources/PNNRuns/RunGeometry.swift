import Foundation
import PNNCore
import PNNDevices
import PNNStore

/// What a stored run's device looked like, for plots and exports: its descriptor (parameter
/// space with units and naming, channels) and, where known, its stuck devices. Read without
/// touching any hardware: a `sim:` twin is rebuilt from the settings the run recorded (pure
/// computation); a board's descriptor comes from `pnnlab attach`'s record and its stuck
/// devices from its newest stored calibration.
public struct RunGeometry: Sendable {
    /// The device's descriptor; nil when it is not recorded (a board given by port, never attached).
    public var descriptor: SubstrateDescriptor?
    /// Parameter indices of devices that do not move (stuck), when known.
    public var stuckParameters: [Int]?
    /// Where `stuckParameters` came from, in words (e.g. "the twin's fabrication, seed 7").
    public var stuckSource: String?

    public init(descriptor: SubstrateDescriptor?, stuckParameters: [Int]?, stuckSource: String?) {
        self.descriptor = descriptor
        self.stuckParameters = stuckParameters
        self.stuckSource = stuckSource
    }

    /// Row, column and sign (+1 for G+, −1 for G−) of every parameter of a differential
    /// crossbar; nil for other parameter namings.
    public var crossbarLayout: (rows: Int, cols: Int, row: [Int], column: [Int], sign: [Int])? {
        guard let d = descriptor, case .differentialCrossbar(let rows, let cols) = d.parameters.naming else { return nil }
        let p = d.parameters.count
        let pair = (0..<p).map { $0 / 2 }
        return (rows, cols, pair.map { $0 / cols }, pair.map { $0 % cols }, (0..<p).map { $0 % 2 == 0 ? 1 : -1 })
    }

    /// The geometry of run `record` (a Jacobian or contrastive run).
    public static func load(_ record: RunRecord, store: RunStore, registry: FamilyRegistry = .standard) async -> RunGeometry {
        if record.deviceName.hasPrefix("sim:") {
            if let twin = await twinGeometry(record, registry: registry) { return twin }
            return RunGeometry(descriptor: nil, stuckParameters: nil, stuckSource: nil)
        }
        var descriptor: SubstrateDescriptor?
        if let device = try? store.device(named: record.deviceName),
            let d = try? JSONDecoder().decode(SubstrateDescriptor.self, from: Data(device.descriptorJSON.utf8))
        {
            descriptor = d
        }
        var geometry = RunGeometry(descriptor: descriptor, stuckParameters: nil, stuckSource: nil)
        if let profile = try? store.latestCalibration(serial: record.identity.serial, family: record.identity.family),
            let stuck = stuckDevices(profileJSON: profile.profileJSON)
        {
            geometry.stuckParameters = stuck
            geometry.stuckSource = "calibration \(profile.id ?? 0) of \(record.identity.serial)"
        }
        return geometry
    }

    /// The stuck devices a calibration profile lists (`payload.stuck_devices`), if any.
    public static func stuckDevices(profileJSON: String) -> [Int]? {
        guard let v = try? JSONValue(parsing: Data(profileJSON.utf8)), case .array(let a)? = v["payload"]?["stuck_devices"]
        else { return nil }
        return a.compactMap { if case .number(let x) = $0 { Int(x) } else { nil } }
    }

    /// A twin run: the twin rebuilt from its recorded settings; its stuck devices from its
    /// exported state (`stuck_devices`), when the family exports them.
    static func twinGeometry(_ record: RunRecord, registry: FamilyRegistry) async -> RunGeometry? {
        guard let (_, entry) = registry.twin(named: record.deviceName) else { return nil }
        let stored: TwinSpec?
        let seed: UInt64
        if let plan = try? RunPlan.from(json: record.configJSON) {
            (stored, seed) = (plan.twin, plan.seed)
        } else if let plan = ContrastivePlan.from(json: record.configJSON) {
            (stored, seed) = (plan.twin, plan.seed)
        } else {
            return nil
        }
        guard let stored,
            let opened = try? await DeviceCatalog.open(
                record.deviceName, twin: .init(seed: seed, stored: stored), registry: registry)
        else { return nil }
        var geometry = RunGeometry(descriptor: opened.substrate.descriptor, stuckParameters: nil, stuckSource: nil)
        if let data = try? await entry.exportState(opened.substrate), let state = try? JSONValue(parsing: data),
            case .array(let a)? = state["stuck_devices"]
        {
            geometry.stuckParameters = a.compactMap { if case .number(let x) = $0 { Int(x) } else { nil } }
            geometry.stuckSource = "the twin's fabrication, seed \(seed)"
        }
        return geometry
    }
}
