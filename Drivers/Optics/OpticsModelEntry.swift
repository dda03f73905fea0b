import PNNCore
import PNNSim

extension OpticsFamily {
    /// The differentiable model of an opened optics device: for `sim:optics`, the twin's own
    /// noiseless physics as it is now (`OpticsModel`: its LUT, fringing, transmission matrix,
    /// camera scale and binning). A rig over links (an attached SLM and camera) has none: its
    /// transmission matrix has never been measured (a transmission-matrix calibration is not
    /// built), so the deep methods refuse it with the reason.
    public static func model(of substrate: any Substrate) async throws -> (any SubstrateModel)? {
        if let twin = substrate as? OpticsTwin { return OpticsModel(physics: await twin.snapshot()) }
        throw OpticsModelError.unmeasuredMedium(substrate.descriptor.identity.summary)
    }
}

/// Why an optics device has no differentiable model, in words.
public enum OpticsModelError: Error, Equatable, CustomStringConvertible {
    /// A rig's transmission matrix is unknown to the host.
    case unmeasuredMedium(String)

    public var description: String {
        switch self {
        case .unmeasuredMedium(let device):
            return
                "the optics model needs the medium's transmission matrix, and \(device) is a rig whose matrix has not been "
                + "measured (no transmission-matrix calibration is built); use sim:optics, or --method readout|spsa|gradient on the rig"
        }
    }
}
