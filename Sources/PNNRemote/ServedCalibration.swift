import Foundation
import GRPCCore
import PNNCalibration
import PNNCore
import PNNDevices
import PNNRuns

extension ServedDevice {
    /// Runs the device's family calibration procedure here, next to the device, with the
    /// write lease: from the safe state, every value through the device's own checks, back
    /// to the safe state (also when the procedure fails). Other callers wait until it ends.
    /// Returns the profile and, where the device has a hidden truth, its errors against it.
    public func calibrate(
        optionWords: [String], lease id: String, registry: FamilyRegistry = .standard,
        progress: @escaping @Sendable (Int, Int, String) -> Void
    ) async throws -> InPlaceCalibration {
        try requireLease(id, for: "calibration")
        let familyName = substrate.descriptor.identity.family
        guard let family = registry.family(named: familyName) else {
            throw RemoteError.unknownFamily(device: name, family: familyName, known: registry.names)
        }
        let procedure = try CalibrationRun.configuredProcedure(of: family, optionWords: optionWords, registry: registry)
        return try await exclusive { substrate in
            try await substrate.enterSafeState()
            let profile: CalibrationProfile
            do {
                profile = try await procedure.run(on: substrate, progress: progress)
            } catch {
                try? await substrate.enterSafeState()
                throw error
            }
            try await substrate.enterSafeState()
            let truth = try await family.hiddenTruth(of: substrate).map { try procedure.compare(profile, truth: $0) }
            return InPlaceCalibration(profile: profile, truth: truth)
        }
    }
}

extension DevicesService {
    func calibrate(
        request: Pnnlab_V1_CalibrateRequest, response: RPCWriter<Pnnlab_V1_CalibrateUpdate>, context: ServerContext
    ) async throws {
        let device = try device(request.device)
        // Progress from the procedure (synchronous callbacks) reaches the client in order.
        let (updates, sink) = AsyncStream<Pnnlab_V1_CalibrateUpdate>.makeStream(bufferingPolicy: .bufferingNewest(64))
        let writer = Task {
            for await update in updates { try? await response.write(update) }
        }
        let result: InPlaceCalibration
        do {
            result = try await served {
                try await device.calibrate(optionWords: request.optionWords, lease: request.leaseID) { done, total, what in
                    var update = Pnnlab_V1_CalibrateUpdate()
                    update.done = UInt32(clamping: done)
                    update.total = UInt32(clamping: total)
                    update.what = what
                    sink.yield(update)
                }
            }
        } catch {
            sink.finish()
            await writer.value
            throw error
        }
        sink.finish()
        await writer.value
        var last = Pnnlab_V1_CalibrateUpdate()
        last.profileJson = result.profile.json()
        last.truthKnown = result.truth != nil
        last.truth = (result.truth ?? []).map(Pnnlab_V1_CalibrationFigure.init)
        try await response.write(last)
    }
}

extension Pnnlab_V1_CalibrationFigure {
    init(_ figure: CalibrationFigure) {
        self.init()
        key = figure.key
        label = figure.label
        value = figure.value
        display = figure.display
    }

    var figure: CalibrationFigure { CalibrationFigure(key: key, label: label, value: value, display: display) }
}
