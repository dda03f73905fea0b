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
    /// Opens `device` (a `sim:` twin, a registered name, a port or a `remote://` device), runs its family's
    /// procedure (where the device is, for a device that calibrates in place) with `optionWords` (`--trials 24`), leaves the device safe, stores the
    /// profile and compares with the hidden truth when the device has one.
    public static func run(
        device: String, seed: UInt64, optionWords: [String], baud: Int, store: RunStore,
        registry: FamilyRegistry = .standard, recordTo record: String? = nil,
        progress: @escaping @Sendable (Int, Int, String) -> Void
    ) async throws -> CalibrationReport {
        // A twin's family is known by name; any other device (a registered name, a port, a
        // `remote://` device) says what it is once opened.
        let opened: DeviceCatalog.Opened
        let family: any DeviceFamilyDriver.Type
        let procedure: any CalibrationProcedure
        let open = {
            try await DeviceCatalog.open(
                device, twin: .init(seed: seed), baud: baud, store: store, registry: registry, recordTo: record)
        }
        if device.hasPrefix("sim:") {
            guard let twin = registry.twin(named: device) else {
                throw DeviceError.unknownTwin(name: device, known: registry.twinNames)
            }
            family = twin.family
            procedure = try configuredProcedure(of: family, optionWords: optionWords, registry: registry)
            opened = try await open()
        } else {
            opened = try await open()
            family = opened.family
            do {
                procedure = try configuredProcedure(of: family, optionWords: optionWords, registry: registry)
            } catch {
                if let c = opened.connected { await c.connection.close() }
                throw error
            }
        }
        defer { if let c = opened.connected { Task { await c.connection.close() } } }
        let substrate = opened.substrate
        let profile: CalibrationProfile
        var truth: [CalibrationFigure]?
        if let served = substrate as? any CalibratesInPlace {
            // The far end runs the procedure next to the device and compares with its truth.
            let result = try await served.calibrateInPlace(optionWords: optionWords, progress: progress)
            profile = result.profile
            truth = result.truth
        } else {
            try await substrate.enterSafeState()
            do {
                profile = try await procedure.run(on: substrate, progress: progress)
            } catch {
                try? await substrate.enterSafeState()
                throw error
            }
            try await substrate.enterSafeState()
            if let state = try await family.hiddenTruth(of: substrate) {
                truth = try procedure.compare(profile, truth: state)
            }
        }
        let id = try store.saveCalibration(
            CalibrationRecord(
                family: profile.family, serial: profile.serial, procedure: profile.procedure,
                version: profile.procedureVersion, createdAt: profile.createdAt, profileJSON: profile.json()))
        return CalibrationReport(
            calibrationId: id, device: device, family: profile.family, serial: profile.serial,
            procedure: profile.procedure, procedureVersion: profile.procedureVersion, createdAt: profile.createdAt,
            headline: try procedure.headline(profile), truthFigures: truth, profile: profile)
    }

    /// The family's procedure, configured with `optionWords` (`--trials 24`); refuses a
    /// family with none, or options the procedure does not declare.
    public static func configuredProcedure(
        of family: any DeviceFamilyDriver.Type, optionWords: [String], registry: FamilyRegistry
    ) throws -> any CalibrationProcedure {
        guard let procedure = family.calibration else {
            let with = registry.families.filter { $0.calibration != nil }.map { $0.family }
            throw RunError.invalid(
                "family '\(family.family)' has no calibration procedure yet"
                    + (with.isEmpty ? "" : " (families with one: \(with.joined(separator: ", ")))"))
        }
        let values = try FamilyOptionValues(
            parsing: optionWords, declared: procedure.options, context: "the \(family.family) calibration")
        return try procedure.configured(values)
    }
}
