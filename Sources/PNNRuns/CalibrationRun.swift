import Foundation
import PNNCalibration
import PNNCore
import PNNDevices
import PNNLink
import PNNStore

/// What `pnnlab calibrate` reports (and prints with `--json`): the stored profile's identity,
/// its headline figures, the errors against the hidden truth where it is known, and the
/// family's full result.
public struct CalibrationReport: Sendable, Encodable {
    /// Row id in the store's calibration table.
    public var calibrationId: Int64
    public var device: String
    public var family: String
    public var serial: String
    public var procedure: String
    public var procedureVersion: Int
    public var createdAt: Date
    /// Headline figures, for tables (JSON carries them as `figures`, key → value).
    public var headline: [CalibrationFigure]
    /// Errors against the hidden truth (twins and emulated boards), for tables; nil on real
    /// hardware (JSON: `truth`, key → value).
    public var truthFigures: [CalibrationFigure]?
    /// The profile (its `payload` is the family's result).
    public var profile: CalibrationProfile

    enum CodingKeys: String, CodingKey {
        case calibrationId, device, family, serial, procedure, procedureVersion, createdAt, figures, truth, result
        case twinFidelity
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(calibrationId, forKey: .calibrationId)
        try c.encode(device, forKey: .device)
        try c.encode(family, forKey: .family)
        try c.encode(serial, forKey: .serial)
        try c.encode(procedure, forKey: .procedure)
        try c.encode(procedureVersion, forKey: .procedureVersion)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(Dictionary(uniqueKeysWithValues: headline.map { ($0.key, $0.value) }), forKey: .figures)
        // Twin fidelity (DESIGN.md "Calibration"), for families whose procedure measures it.
        try c.encodeIfPresent(headline.first { $0.key == "twin_fidelity" }?.value, forKey: .twinFidelity)
        try c.encodeIfPresent(
            truthFigures.map { Dictionary(uniqueKeysWithValues: $0.map { ($0.key, $0.value) }) }, forKey: .truth)
        try c.encode(profile.payload, forKey: .result)
    }
}

/// Runs a family's calibration procedure on a device and stores the profile: the one path
/// `pnnlab calibrate` takes, for every family that registers a procedure.
public enum CalibrationRun {
    /// Opens `device` (a `sim:` twin, a registered name or a port), runs its family's
    /// procedure with `optionWords` (`--trials 24`), leaves the device safe, stores the
    /// profile and compares with the hidden truth when the device has one.
    public static func run(
        device: String, seed: UInt64, optionWords: [String], baud: Int, store: RunStore,
        registry: FamilyRegistry = .standard, recordTo record: String? = nil,
        progress: @escaping @Sendable (Int, Int, String) -> Void
    ) async throws -> CalibrationReport {
        let family: any DeviceFamilyDriver.Type
        if device.hasPrefix("sim:") {
            guard let twin = registry.twin(named: device) else {
                throw DeviceError.unknownTwin(name: device, known: registry.twinNames)
            }
            family = twin.family
        } else {
            family = try await familyAnswering(device, baud: baud, store: store, registry: registry)
        }
        guard var procedure = family.calibration else {
            let with = registry.families.filter { $0.calibration != nil }.map { $0.family }
            throw RunError.invalid(
                "family '\(family.family)' has no calibration procedure yet"
                    + (with.isEmpty ? "" : " (families with one: \(with.joined(separator: ", ")))"))
        }
        let values = try FamilyOptionValues(
            parsing: optionWords, declared: procedure.options, context: "the \(family.family) calibration")
        procedure = try procedure.configured(values)
        let opened = try await DeviceCatalog.open(
            device, twin: .init(seed: seed), baud: baud, store: store, registry: registry, recordTo: record)
        defer { if let c = opened.connected { Task { await c.connection.close() } } }
        let substrate = opened.substrate
        try await substrate.enterSafeState()
        let profile: CalibrationProfile
        do {
            profile = try await procedure.run(on: substrate, progress: progress)
        } catch {
            try? await substrate.enterSafeState()
            throw error
        }
        try await substrate.enterSafeState()
        let id = try store.saveCalibration(
            CalibrationRecord(
                family: profile.family, serial: profile.serial, procedure: profile.procedure,
                version: profile.procedureVersion, createdAt: profile.createdAt, profileJSON: profile.json()))
        var truth: [CalibrationFigure]?
        if let state = try await family.hiddenTruth(of: substrate) {
            truth = try procedure.compare(profile, truth: state)
        }
        return CalibrationReport(
            calibrationId: id, device: device, family: profile.family, serial: profile.serial,
            procedure: profile.procedure, procedureVersion: profile.procedureVersion, createdAt: profile.createdAt,
            headline: try procedure.headline(profile), truthFigures: truth, profile: profile)
    }

    /// The family of the board at a registered name or port (from the store, or a hello).
    static func familyAnswering(_ device: String, baud: Int, store: RunStore, registry: FamilyRegistry) async throws
        -> any DeviceFamilyDriver.Type
    {
        if let record = try store.device(named: device), let f = registry.family(named: record.identity.family) {
            return f
        }
        let (address, _) = try DeviceCatalog.resolve(device, baud: baud, store: store, registry: registry)
        let connected = try await DeviceCatalog.connect(address, registry: registry)
        await connected.connection.close()
        return connected.driver
    }
}
