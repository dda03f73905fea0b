import CameraDriver
import Foundation
import PNNCore

extension OpticsRig {
    /// The SLM's step response seen by the camera over the links, what the settle
    /// calibration fits (the rig's counterpart of `OpticsTwin.stepResponse`): for each delay,
    /// `repeats` times, the trainable region shows `from` until settled, then `to` is shown and
    /// the camera — software trigger, sent right after the show, TriggerDelay = the delay —
    /// exposes `exposure` µs. Frames averaged over the repeats, in sensor DN, unbinned. The
    /// trigger follows the show by one command's latency, which a host cannot shorten: on a
    /// real rig this bounds the shortest delay measured (the emulated rig shares one clock).
    /// The rig's own triggering is restored afterwards.
    public func stepResponse(from: [UInt8], to: [UInt8], delays: [Double], exposure e: Double, repeats: Int) async throws
        -> [[Double]]
    {
        let p = descriptor.parameters.count
        guard from.count == p, to.count == p else {
            throw OpticsRigError.badSetting("a step response needs \(p) grey levels before and after")
        }
        guard delays.allSatisfy({ $0.isFinite && $0 >= 0 && $0 * 1e6 <= CameraInfo.maxTriggerDelay }), (1...64).contains(repeats)
        else {
            throw OpticsRigError.badSetting(
                "delays must lie within 0…\(CameraInfo.maxTriggerDelay / 1e6) s and repeats within 1…64")
        }
        guard e.isFinite, camera.info.exposure.contains(e) else {
            throw OpticsRigError.badSetting(
                "exposure \(e) µs is outside the camera's \(camera.info.exposure.lowerBound)…\(camera.info.exposure.upperBound) µs"
            )
        }
        if !prepared { try await prepare() }
        let blank = [UInt8](repeating: 0, count: inputs)
        func pattern(_ region: [UInt8]) -> [UInt8] { self.pattern(input: blank, parameters: region) }
        let (before, after) = (pattern(from), pattern(to))
        let slots = (a: nextSlot, b: (nextSlot + 1) % slm.info.slots)
        nextSlot = (nextSlot + 2) % slm.info.slots
        try await slm.upload(before, slot: slots.a)
        try await slm.upload(after, slot: slots.b)
        // Software trigger for the scan; the rig's triggering comes back with prepare().
        prepared = false
        try await camera.set(.triggerSource, 0)
        try await camera.set(.exposureTime, e)
        var frames: [[Double]] = []
        do {
            for d in delays {
                try await camera.set(.triggerDelay, d * 1e6)
                var sum: [Double] = []
                for _ in 0..<repeats {
                    try await slm.show(slot: slots.a, wait: true)
                    _ = try await camera.flush()
                    try await slm.show(slot: slots.b, wait: false)
                    _ = try await camera.triggerSoftware()
                    let frame = try await camera.grab()
                    let scale = pow(2, Double(camera.info.bits - frame.info.format.bits))
                    if sum.isEmpty { sum = [Double](repeating: 0, count: frame.pixels.count) }
                    guard frame.pixels.count == sum.count else {
                        throw OpticsRigError.badSetting("the camera changed its frame size during the scan")
                    }
                    for i in sum.indices { sum[i] += frame.pixels[i] * scale / Double(repeats) }
                }
                frames.append(sum)
            }
        } catch {
            _ = try? await camera.set(.triggerDelay, 0)
            throw error
        }
        try await camera.set(.triggerDelay, 0)
        return frames
    }
}
