import Foundation
import PNNSim
import Synchronization

/// What light falls on an emulated camera's sensor, and the simulated clock the camera
/// shares with the rest of its optical bench. A camera on its own looks at a static speckle
/// (``StaticSpeckleScene``); in `pnnlab emulate optics` the scene is the SLM's shown phase
/// through the scattering medium, and its trigger line is the SLM's "pattern settled" output.
public protocol CameraScene: Sendable {
    /// Simulated time now, s.
    func now() -> Double
    /// Lets simulated time pass up to `t` (never backwards).
    func advance(to t: Double)
    /// Intensity on every sensor pixel (unit mean speckle, row-major, sensor width × height)
    /// seen by an exposure of `duration` s starting at `start` s.
    func intensities(start: Double, duration: Double) -> [Double]
    /// The first pulse on trigger line 1 strictly after `t` and at or before `limit`, if any
    /// (nil: none due, or no line wired).
    func linePulse(after t: Double, upTo limit: Double) -> Double?
}

/// A camera on its own: the speckle of a flat field through a seeded scattering medium, the
/// same at every moment; no trigger line is wired.
public final class StaticSpeckleScene: CameraScene {
    private let clock = Mutex<Double>(1)
    private let frame: [Double]

    /// The speckle of `sources` flat macro-pixels on a `width` × `height` sensor.
    public init(width: Int, height: Int, sources: Int = 256, seed: UInt64) {
        let medium = TransmissionMatrix(sources: sources, pixels: width * height, seed: seed)
        var field = [Double](repeating: 0, count: 2 * sources)
        for i in 0..<sources { field[2 * i] = 1 }
        frame = medium.intensities(field, rows: 1)
    }

    public func now() -> Double { clock.withLock { $0 } }
    public func advance(to t: Double) { clock.withLock { $0 = max($0, t) } }
    public func intensities(start: Double, duration: Double) -> [Double] { frame }
    public func linePulse(after t: Double, upTo limit: Double) -> Double? { nil }
}
