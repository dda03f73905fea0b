import Foundation
import PNNCore

/// Profiles drive twins: the steps every family's twin builder shares when a twin option
/// named `profile` handed it a stored calibration (`TwinRequest.profile`, resolved by the
/// device catalog from a calibration id or a profile file) — decode the document, check it
/// is this family's procedure, read its payload, and record which profile the twin imitates
/// in the twin's settings (so the run records it and `--resume` keeps it). The family then
/// builds its twin from the payload.
extension CalibrationProfile {
    /// The profile document `document` for twin `twin`, refused unless it is a `procedure`
    /// profile of `family`.
    public static func forTwin(_ document: JSONValue, twin: String, family: String, procedure: String) throws(TwinError)
        -> CalibrationProfile
    {
        try forTwin(document, twin: twin, family: family, procedures: [procedure])
    }

    /// The profile document `document` for twin `twin`, refused unless it is a profile of
    /// `family` made by one of `procedures` (a family whose calibration also stores its
    /// parts as procedures of their own).
    public static func forTwin(_ document: JSONValue, twin: String, family: String, procedures: [String])
        throws(TwinError) -> CalibrationProfile
    {
        let profile: CalibrationProfile
        do {
            profile = try CalibrationProfile.decode(document.jsonString())
        } catch {
            throw .invalid(twin: twin, why: "\(error)")
        }
        guard profile.family == family, procedures.contains(profile.procedure) else {
            let which = procedures.count == 1 ? "" : " (\(procedures.joined(separator: ", ")))"
            let article = family.first.map { "aeiou".contains($0) } == true ? "an" : "a"
            throw .invalid(
                twin: twin,
                why:
                    "the profile is a \(profile.family) \(profile.procedure) profile, not \(article) \(family) calibration\(which)"
            )
        }
        return profile
    }

    /// The payload as `T`, a failure phrased as the twin's.
    public func twinPayload<T: Decodable>(_ type: T.Type, twin: String) throws(TwinError) -> T {
        do {
            return try payload(T.self, for: identity)
        } catch {
            throw .invalid(twin: twin, why: "\(error)")
        }
    }

    /// Which profile a twin imitates, as recorded in its settings under `profile`: the
    /// device, the procedure and version, when it was measured, plus `extra` figures (the
    /// twin fidelity the procedure measured).
    public func twinSource(extra: [String: JSONValue] = [:]) -> JSONValue {
        var source: [String: JSONValue] = [
            "family": .string(family), "model": .string(model), "serial": .string(serial),
            "procedure": .string(procedure), "procedure_version": .number(Double(procedureVersion)),
            "created_at": .string(ISO8601DateFormatter().string(from: createdAt)),
        ]
        for (key, value) in extra { source[key] = value }
        return .object(source)
    }
}
