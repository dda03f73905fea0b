import Foundation
import PNNCalibration
import PNNCore

extension RemoteSubstrate: CalibratesInPlace {
    /// Asks the server to run the family's procedure next to the device (with this client's
    /// lease) and waits for the profile, passing progress on as it arrives.
    public func calibrateInPlace(optionWords: [String], progress: @escaping @Sendable (Int, Int, String) -> Void)
        async throws -> InPlaceCalibration
    {
        var request = Pnnlab_V1_CalibrateRequest()
        request.device = address.name
        request.leaseID = leaseID
        request.optionWords = optionWords
        let connection = self.connection
        let last = try await call {
            try await connection.devices.calibrate(request, options: connection.options) { response in
                var last: Pnnlab_V1_CalibrateUpdate?
                for try await update in response.messages {
                    if update.profileJson.isEmpty {
                        progress(Int(update.done), Int(update.total), update.what)
                    } else {
                        last = update
                    }
                }
                return last
            }
        }
        guard let last else { throw RemoteError.malformed("the server ended the calibration without a profile") }
        let profile: CalibrationProfile
        do {
            profile = try CalibrationProfile.decode(last.profileJson)
        } catch {
            throw RemoteError.malformed("the server's calibration profile: \(error)")
        }
        guard profile.family == descriptor.identity.family, profile.serial == descriptor.identity.serial else {
            throw RemoteError.malformed(
                "the server calibrated \(profile.family) \(profile.serial), not this device (\(descriptor.identity.summary))")
        }
        return InPlaceCalibration(profile: profile, truth: last.truthKnown ? last.truth.map(\.figure) : nil)
    }
}

extension RemoteClampableSubstrate: CalibratesInPlace {}
extension RemoteSelfLearningSubstrate: CalibratesInPlace {}
extension RemoteStrainSubstrate: CalibratesInPlace {}

extension RemoteForwarding {
    public func calibrateInPlace(optionWords: [String], progress: @escaping @Sendable (Int, Int, String) -> Void)
        async throws -> InPlaceCalibration
    {
        try await base.calibrateInPlace(optionWords: optionWords, progress: progress)
    }
}
