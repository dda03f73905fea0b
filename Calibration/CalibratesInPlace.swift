import PNNCore

/// A device that runs its family's calibration procedure where it is attached — a device
/// served by `pnnlab serve` — instead of being driven one operation at a time by the caller:
/// the procedure's thousands of small reads and pulses stay on the server's link, the server
/// checks every value against the device's safe ranges, and only progress and the profile
/// travel. `pnnlab calibrate` uses it for every device that offers it.
public protocol CalibratesInPlace: Substrate {
    /// Runs the family's procedure configured with `optionWords` (`--trials 24`) next to
    /// the device, which it leaves in its safe state; `progress` gets (done, total, what).
    func calibrateInPlace(optionWords: [String], progress: @escaping @Sendable (Int, Int, String) -> Void)
        async throws -> InPlaceCalibration
}

/// What a calibration run where the device is returns: the profile and, when the far end
/// knows the device's hidden truth (a twin or an emulated board), the profile's errors
/// against it.
public struct InPlaceCalibration: Sendable {
    public var profile: CalibrationProfile
    public var truth: [CalibrationFigure]?

    public init(profile: CalibrationProfile, truth: [CalibrationFigure]?) {
        self.profile = profile
        self.truth = truth
    }
}
