import Foundation
import PNNCalibration
import PNNCore
import PNNDevices
import PNNStore

/// `pnnlab train --layers … --model-profile ID|FILE`: a unit's model (what PAT's backward
/// pass, DFA's local derivatives, in-silico training and PIB's hidden units go through) built
/// from a calibration profile of that unit's device instead of the family's ideal model. The
/// run records it in its plan: where it came from, which device and calibration, and the
/// document itself, so `--resume` rebuilds the same model.
public struct DeepModelProfile: Sendable, Codable, Equatable {
    /// What `--model-profile` named: `calibration N` for a stored one, else the file path.
    public var source: String
    /// Which device and calibration (family, model, serial, procedure and version, time).
    public var profile: JSONValue
    /// The profile document.
    public var document: JSONValue

    /// The `--model-profile` entry that keeps the family's ideal model for a unit.
    public static let idealWord = "ideal"

    /// Resolves `--model-profile`: one entry per unit, separated by commas — a stored
    /// calibration's id, a profile file (`pnnlab calibrate --out`) or `ideal`.
    public static func resolve(_ text: String, units: Int, store: RunStore?) throws(RunError) -> [DeepModelProfile?] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard parts.count == units, parts.allSatisfy({ !$0.isEmpty }) else {
            throw .invalid(
                "--model-profile takes one entry per unit (a calibration id, a profile file or '\(idealWord)'), separated by commas: "
                    + "got \(parts.count) for \(units) unit\(units == 1 ? "" : "s")")
        }
        return try parts.map { part throws(RunError) in
            part == idealWord ? nil : try load(part, store: store)
        }
    }

    /// One profile: a stored calibration by id, or a profile file.
    static func load(_ value: String, store: RunStore?) throws(RunError) -> DeepModelProfile {
        let text: String
        let source: String
        if let id = Int64(value) {
            guard let store else { throw .invalid("--model-profile \(id) needs the run store") }
            let record: CalibrationRecord?
            do {
                record = try store.calibrations().first { $0.id == id }
            } catch {
                throw .invalid("--model-profile \(id): the run store could not be read (\(error))")
            }
            guard let record else { throw .invalid("--model-profile: no stored calibration has id \(id) (see pnnlab calibrate)") }
            text = record.profileJSON
            source = "calibration \(id)"
        } else {
            guard let contents = try? String(contentsOfFile: value, encoding: .utf8) else {
                throw .invalid("--model-profile \(value) is neither a stored calibration id nor a readable file")
            }
            text = contents
            source = value
        }
        let profile: CalibrationProfile
        do {
            profile = try CalibrationProfile.decode(text)
        } catch {
            throw .invalid("--model-profile \(value): \(error)")
        }
        guard let document = try? JSONValue(parsing: Data(profile.json().utf8)) else {
            throw .invalid("--model-profile \(value) could not be recorded")
        }
        return DeepModelProfile(source: source, profile: profile.twinSource(), document: document)
    }
}

extension DeepPlan {
    /// The models each unit trains through: the family's ideal model, or for a unit with a
    /// `--model-profile` the model its family builds from that calibration — refused when
    /// the profile is another device's (serial), another family's or geometry's, or the
    /// family builds no model from a calibration.
    func trainingModels(devices: [DeviceCatalog.Opened], ideal: [any SubstrateModel]) throws -> [any SubstrateModel] {
        guard let modelProfiles else { return ideal }
        guard modelProfiles.count == devices.count else {
            throw RunError.invalid("the run recorded \(modelProfiles.count) model profiles for \(devices.count) units")
        }
        var models = ideal
        for (l, entry) in modelProfiles.enumerated() {
            guard let entry else { continue }
            let family = devices[l].family
            let descriptor = devices[l].substrate.descriptor
            do {
                let profile = try CalibrationProfile.decode(entry.document.jsonString())
                guard let model = try family.model(for: descriptor, profile: profile) else {
                    throw RunError.invalid(
                        "--model-profile: the \(family.family) family builds no model from a calibration; use '\(DeepModelProfile.idealWord)' for unit \(l + 1)"
                    )
                }
                guard model.inputCount == ideal[l].inputCount, model.outputCount == ideal[l].outputCount,
                    model.parameterCount == ideal[l].parameterCount
                else {
                    throw RunError.invalid("--model-profile \(entry.source) does not have unit \(l + 1)'s geometry")
                }
                models[l] = model
            } catch let error as RunError {
                throw error
            } catch {
                throw RunError.invalid("--model-profile \(entry.source) for unit \(l + 1): \(error)")
            }
        }
        return models
    }
}
