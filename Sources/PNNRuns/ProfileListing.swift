import Foundation
import PNNCalibration
import PNNCore
import PNNDevices
import PNNStore

/// One stored calibration profile as `pnnlab profiles` lists it (and prints with `--json`):
/// which device, which procedure, when, its headline figures, and whether it is stale.
public struct ProfileSummary: Sendable, Encodable, Equatable {
    /// Row id in the store's calibration table (what `--profile ID` and `profiles show` take).
    public var calibrationId: Int64
    public var family: String
    public var model: String
    public var serial: String
    /// Registered device names (`pnnlab attach`) with this serial.
    public var deviceNames: [String]
    public var procedure: String
    public var procedureVersion: Int
    public var createdAt: Date
    /// Age when listed, days.
    public var ageDays: Double
    /// Headline figures (name → value; units in the names).
    public var figures: [String: Double]
    /// Whether the profile should no longer be trusted as a description of its device.
    public var stale: Bool
    /// Why it is stale, one sentence each (empty when it is not).
    public var staleReasons: [String]
}

/// One profile in full: its summary and the family's result document.
public struct ProfileDetail: Sendable, Encodable {
    public var summary: ProfileSummary
    /// The family's result (a JSON object with snake_case keys).
    public var result: JSONValue

    enum CodingKeys: String, CodingKey { case summary, result }
}

/// Lists and shows stored calibration profiles, flagging stale ones: older than a chosen
/// age, superseded by a newer profile of the same device, made by an older version of the
/// family's procedure, or followed by training runs on the device (a board's history can
/// move its constants: conductances drift, learning rates wear).
public enum ProfileListing {
    /// Default age beyond which a profile is stale, days.
    public static let defaultMaxAgeDays = 30.0

    /// Profiles newest first, optionally of one serial and/or family.
    public static func list(
        store: RunStore, serial: String? = nil, family: String? = nil, maxAgeDays: Double = defaultMaxAgeDays,
        registry: FamilyRegistry = .standard, now: Date = Date()
    ) throws -> [ProfileSummary] {
        guard maxAgeDays.isFinite, maxAgeDays > 0 else {
            throw RunError.invalid("--max-age-days must be a positive number of days, not \(maxAgeDays)")
        }
        let records = try store.calibrations(serial: serial).filter { family == nil || $0.family == family }
        let all = try store.calibrations()
        let devices = try store.devices()
        let runs = try store.runs()
        return try records.map { record in
            try summarize(record, all: all, devices: devices, runs: runs, maxAgeDays: maxAgeDays, registry: registry, now: now)
        }
    }

    /// One profile by id, in full.
    public static func show(
        id: Int64, store: RunStore, maxAgeDays: Double = defaultMaxAgeDays, registry: FamilyRegistry = .standard,
        now: Date = Date()
    ) throws -> ProfileDetail {
        guard maxAgeDays.isFinite, maxAgeDays > 0 else {
            throw RunError.invalid("--max-age-days must be a positive number of days, not \(maxAgeDays)")
        }
        let all = try store.calibrations()
        guard let record = all.first(where: { $0.id == id }) else {
            let known = all.compactMap(\.id).sorted().map(String.init)
            throw RunError.invalid(
                "no calibration profile \(id) in the store"
                    + (known.isEmpty
                        ? " (it holds none; `pnnlab calibrate DEVICE` makes one)"
                        : " (stored: \(known.suffix(12).joined(separator: ", ")))"))
        }
        let summary = try summarize(
            record, all: all, devices: try store.devices(), runs: try store.runs(), maxAgeDays: maxAgeDays,
            registry: registry, now: now)
        let profile = try CalibrationProfile.decode(record.profileJSON)
        return ProfileDetail(summary: summary, result: profile.payload)
    }

    static func summarize(
        _ record: CalibrationRecord, all: [CalibrationRecord], devices: [DeviceRecord], runs: [RunSummary],
        maxAgeDays: Double, registry: FamilyRegistry, now: Date
    ) throws -> ProfileSummary {
        let profile = try CalibrationProfile.decode(record.profileJSON)
        let age = now.timeIntervalSince(record.createdAt) / 86_400
        var reasons: [String] = []
        if age > maxAgeDays {
            reasons.append(String(format: "measured %.0f days ago (older than %g days)", age, maxAgeDays))
        }
        if let newer = all.first(where: {
            $0.family == record.family && $0.serial == record.serial && $0.createdAt > record.createdAt
        }), let newerID = newer.id {
            reasons.append("superseded by profile \(newerID) of the same device")
        }
        if let current = registry.family(named: record.family)?.calibration, current.name == record.procedure,
            current.version > record.version
        {
            reasons.append("made by version \(record.version) of \(record.procedure); the current version is \(current.version)")
        }
        let trainedSince = runs.filter {
            // A `sim:` run trains a fresh twin in its own process: it moves no device.
            !$0.run.deviceName.hasPrefix("sim:") && $0.run.identity.family == record.family
                && $0.run.identity.serial == record.serial && $0.run.createdAt > record.createdAt && $0.stepCount > 0
        }
        if !trainedSince.isEmpty {
            let steps = trainedSince.reduce(0) { $0 + $1.stepCount }
            reasons.append(
                "the device has trained since (\(trainedSince.count) runs, \(steps) steps): its constants may have moved")
        }
        return ProfileSummary(
            calibrationId: record.id ?? 0, family: record.family, model: profile.model, serial: record.serial,
            deviceNames: devices.filter { $0.identity.serial == record.serial && $0.identity.family == record.family }
                .map(\.name).sorted(),
            procedure: record.procedure, procedureVersion: record.version, createdAt: record.createdAt, ageDays: age,
            figures: profile.summary, stale: !reasons.isEmpty, staleReasons: reasons)
    }
}
