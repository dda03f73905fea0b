import CLLNDriver
import CVPhotonicDriver
import CameraDriver
import CrossbarDriver
import OpticsDriver
import PNNLink
import SpringDriver

/// The device families this pnnlab can drive: the one place that names every family.
/// A new family adds one entry to `builtIn` (and its targets to Package.swift).
public enum DeviceFamilies {
    /// Every family shipped with pnnlab — one line per family.
    public static let builtIn: [any DeviceFamilyDriver.Type] = [
        CrossbarFamily.self, CLLNFamily.self, OpticsFamily.self, SLMFamily.self,
        CVPhotonicFamily.self, SpringFamily.self, CameraFamily.self,
    ]
}
