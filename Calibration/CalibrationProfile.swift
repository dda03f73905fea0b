import Foundation
import PNNCore

/// A versioned calibration profile tied to one device (family + serial): who was measured,
/// by which procedure and version, when, a few headline figures, and the family's payload
/// (JSON). Stored in the run store and writable to a file.
public struct CalibrationProfile: Sendable, Codable, Equatable {
    /// Version of this envelope format.
    public static let formatVersion = 2

    public var formatVersion: Int
    public var family: String
    public var model: String
    public var serial: String
    public var firmware: String
    /// Procedure name and version, e.g. `clln-learning-rule` 1.
    public var procedure: String
    public var procedureVersion: Int
    public var createdAt: Date
    /// Headline figures (name → value) for listings.
    public var summary: [String: Double]
    /// The family's result (a JSON object with snake_case keys, embedded as such in files and `--json`).
    public var payload: JSONValue

    public init(
        identity: DeviceIdentity, procedure: String, procedureVersion: Int, summary: [String: Double], payload: JSONValue,
        createdAt: Date = Date()
    ) {
        formatVersion = Self.formatVersion
        family = identity.family
        model = identity.model
        serial = identity.serial
        firmware = identity.firmware
        self.procedure = procedure
        self.procedureVersion = procedureVersion
        self.createdAt = createdAt
        self.summary = summary
        self.payload = payload
    }

    /// Key-sorted JSON.
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// Decodes a profile, refusing other format versions.
    public static func decode(_ json: String) throws(CalibrationError) -> CalibrationProfile {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        var profile: CalibrationProfile
        do {
            profile = try decoder.decode(CalibrationProfile.self, from: Data(json.utf8))
        } catch {
            throw .unreadable("it is not a calibration profile (\(CalibrationError.plain(error)))")
        }
        // Format 1 kept the payload as JSON text inside a string.
        if profile.formatVersion == 1, case .string(let text) = profile.payload {
            guard let tree = try? JSONValue(parsing: Data(text.utf8)) else { throw .unreadable("payload is not JSON") }
            profile.payload = tree
            profile.formatVersion = formatVersion
        }
        guard profile.formatVersion == formatVersion else {
            throw .formatVersion(found: profile.formatVersion, supported: formatVersion)
        }
        return profile
    }

    /// The device this profile was measured on.
    public var identity: DeviceIdentity {
        DeviceIdentity(family: family, model: model, serial: serial, firmware: firmware)
    }

    /// The payload, after checking the profile belongs to `identity`.
    public func payload<T: Decodable>(_ type: T.Type, for identity: DeviceIdentity) throws(CalibrationError) -> T {
        guard identity.family == family, identity.serial == serial else {
            throw .wrongDevice(profile: "\(family) \(serial)", device: "\(identity.family) \(identity.serial)")
        }
        do {
            return try payload.decode(T.self, snakeCase: true)
        } catch {
            throw .unreadable("payload: \(error)")
        }
    }
}

/// Calibration failures, phrased for the person at the bench.
public enum CalibrationError: Error, Equatable, CustomStringConvertible {
    case noProcedure(family: String)
    case wrongDevice(profile: String, device: String)
    case formatVersion(found: Int, supported: Int)
    case unreadable(String)
    case measurementFailed(String)

    /// A decoding error as a short phrase (never Foundation's debug text).
    static func plain(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "unreadable" }
        func path(_ c: DecodingError.Context) -> String { c.codingPath.map(\.stringValue).joined(separator: ".") }
        switch error {
        case .keyNotFound(let key, _): return "missing \(key.stringValue)"
        case .typeMismatch(_, let c), .valueNotFound(_, let c): return "wrong type at \(path(c))"
        case .dataCorrupted(let c): return c.codingPath.isEmpty ? "not JSON" : "bad value at \(path(c))"
        @unknown default: return "unreadable"
        }
    }

    public var description: String {
        switch self {
        case .noProcedure(let family):
            return "family '\(family)' has no calibration procedure yet"
        case .wrongDevice(let profile, let device):
            return "calibration profile is for \(profile), not for this device (\(device))"
        case .formatVersion(let found, let supported):
            return "calibration profile format \(found) is not supported (this pnnlab reads format \(supported))"
        case .unreadable(let why):
            return "calibration profile cannot be read: \(why)"
        case .measurementFailed(let why):
            return "calibration failed: \(why)"
        }
    }
}

/// A family's calibration procedure: measures a device through its `Substrate` (and
/// capability) entry points only and returns a profile. Families supply theirs through the
/// device registry; the framework here names none.
public protocol CalibrationProcedure: Sendable {
    /// Procedure name and version recorded in the profile.
    var name: String { get }
    var version: Int { get }
    /// What the procedure measures, one line, for help and listings.
    var summary: String { get }
    /// Options a user may set (`--trials 24`).
    var options: [FamilyOption] { get }
    /// The procedure with `values` applied (validated when they were parsed).
    func configured(_ values: FamilyOptionValues) throws -> Self
    /// Measures `substrate` and returns the profile; `progress` gets (done, total, what).
    func run(on substrate: any Substrate, progress: @escaping @Sendable (Int, Int, String) -> Void) async throws
        -> CalibrationProfile
    /// The profile's errors against the hidden truth (a twin's or an emulator's exported
    /// state, as the family exports it), as named figures with units.
    func compare(_ profile: CalibrationProfile, truth: Data) throws -> [CalibrationFigure]
    /// Headline figures of a profile for display (name with units → value).
    func headline(_ profile: CalibrationProfile) throws -> [CalibrationFigure]
}

/// One named figure of a calibration: a key with its unit in the name (`a0_relative_rms`,
/// `b_rms_v_per_s`), a label for tables and a formatted value.
public struct CalibrationFigure: Sendable, Codable, Equatable {
    /// snake_case key with units, for JSON.
    public var key: String
    /// Human label, for tables.
    public var label: String
    public var value: Double
    /// The value formatted with its unit, for tables.
    public var display: String

    public init(key: String, label: String, value: Double, display: String) {
        self.key = key
        self.label = label
        self.value = value
        self.display = display
    }
}
