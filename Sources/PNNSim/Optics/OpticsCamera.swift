import Foundation
import PNNCore

/// One camera frame: its counter, when its exposure started, and the ROI's pixels in DN
/// (row-major, ROI width × height).
public struct CameraFrame: Sendable, Equatable, Codable {
    public var id: UInt64
    /// Start of the exposure, µs of simulated time.
    public var timestamp: UInt64
    public var width: Int
    public var height: Int
    public var pixels: [Double]

    public init(id: UInt64, timestamp: UInt64, width: Int, height: Int, pixels: [Double]) {
        self.id = id
        self.timestamp = timestamp
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}

/// The camera's sensor model: per pixel, with intensity I (unit mean speckle = 1),
/// exposure t (µs) and dark current D (e⁻/s),
///
///     e⁻ = min(Poisson(QE·Φ·I·t + D·t·10⁻⁶), full well)
///     DN = clip(round(g·e⁻ + N(0, σ_read) + offset), 0, 2^bits − 1),  g = conversion gain·10^(gain/20)
///
/// (DESIGN.md, "SLM + camera optics"), every term switchable: without shot noise the
/// electrons are their mean; without saturation neither the full well nor the ADC clips;
/// without quantisation DN is not rounded. Poisson draws use Knuth's product method below a
/// mean of 30 and the normal approximation N(λ, λ) above it.
public struct OpticsCamera: Sendable, Equatable, Codable {
    public var config: OpticsConfig
    /// Frames taken so far (the next frame's id).
    public var frameCounter: UInt64

    public init(config: OpticsConfig, frameCounter: UInt64 = 0) {
        self.config = config
        self.frameCounter = frameCounter
    }

    /// DN per electron at the current gain.
    public var dnPerElectron: Double { config.conversionGain * pow(10, config.gain / 20) }

    /// Mean electrons for intensity `i` (no noise, no saturation).
    public func meanElectrons(intensity i: Double) -> Double {
        let photons = config.photonFlux * max(i, 0) * config.exposure
        let dark = config.darkSignalEnabled ? config.darkCurrent * config.exposure * 1e-6 : 0
        return config.quantumEfficiency * photons + dark
    }

    /// Digital numbers for one frame of intensities (ROI pixels, row-major).
    public func digitise(_ intensities: ArraySlice<Double>, rng: inout SeededRandom) -> [Double] {
        let c = config
        let g = dnPerElectron
        let top = c.maxDN
        var out = [Double](repeating: 0, count: intensities.count)
        var k = 0
        for i in intensities {
            var e = meanElectrons(intensity: i)
            if c.shotNoiseEnabled { e = Self.poisson(mean: e, rng: &rng) }
            if c.saturationEnabled { e = min(e, c.fullWell) }
            var dn = g * e + c.offset
            if c.readNoiseEnabled, c.readNoise > 0 { dn += c.readNoise * rng.normal() }
            if c.quantisationEnabled { dn = dn.rounded() }
            if c.saturationEnabled { dn = min(max(dn, 0), top) }
            out[k] = dn
            k += 1
        }
        return out
    }

    /// Bins a ROI frame `binning`×`binning` into features (each the mean DN of its bin);
    /// ROI rows and columns beyond a whole bin are dropped.
    public func bin(_ pixels: [Double]) -> [Double] {
        let b = max(config.binning, 1)
        let w = config.resolvedROIWidth
        let fw = w / b
        let fh = config.resolvedROIHeight / b
        if b == 1 { return pixels }
        var out = [Double](repeating: 0, count: fw * fh)
        let scale = 1 / Double(b * b)
        for fy in 0..<fh {
            for fx in 0..<fw {
                var s = 0.0
                for dy in 0..<b { for dx in 0..<b { s += pixels[(fy * b + dy) * w + fx * b + dx] } }
                out[fy * fw + fx] = s * scale
            }
        }
        return out
    }

    /// A Poisson draw with mean `mean`.
    public static func poisson(mean: Double, rng: inout SeededRandom) -> Double {
        guard mean > 0 else { return 0 }
        if mean >= 30 { return max(0, (mean + mean.squareRoot() * rng.normal()).rounded()) }
        let limit = exp(-mean)
        var k = 0.0
        var p = rng.uniform()
        while p > limit {
            k += 1
            p *= rng.uniform()
        }
        return k
    }
}
