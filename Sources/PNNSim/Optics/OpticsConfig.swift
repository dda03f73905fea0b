/// Everything that defines a simulated SLM + scattering medium + camera rig: geometry, the
/// SLM's response, the medium's stability, the camera's sensor and the seed all randomness
/// derives from.
///
/// Geometry: the SLM is a grid of `gridWidth` macro-pixels per row (each `macroPixelSize`²
/// SLM pixels showing one grey level). The first `inputs` macro-pixels (row-major) form the
/// input region. `layout` says where the `parameters` trainable grey levels go: side by side,
/// the next `parameters` macro-pixels; overlay, added (mod 256) to the grey levels of the
/// first `parameters` input macro-pixels (a phase mask in the input plane). The medium maps every
/// macro-pixel to every camera pixel of the ROI; ROI pixels are binned `binning`×`binning`
/// into output features.
///
/// Every non-ideality has a switch, is on by default at a realistic level (README of the
/// optics family says where each level comes from), and `idealised()` turns all of them off.
/// Units: time s (camera exposure µs, GenICam's unit), phase rad, camera signal DN,
/// charge e⁻. When decoded from JSON every field is optional and missing fields keep their defaults.
public struct OpticsConfig: Codable, Sendable, Equatable {
    // MARK: Geometry

    /// Input macro-pixels (one per input channel).
    public var inputs: Int = 64
    /// Trainable macro-pixels (one parameter each, an integer grey level).
    public var parameters: Int = 64
    /// Macro-pixels per SLM row; nil: ⌈√(inputs + parameters)⌉.
    public var gridWidth: Int? = nil
    /// SLM pixels per macro-pixel side (reported in the SLM's size; fringing is modelled per macro-pixel).
    public var macroPixelSize: Int = 8
    /// How the input region encodes data: grey-level phase, or binary amplitude (DMD/OPU-like).
    public var inputMode: OpticsInputMode = .phase
    /// Where the trainable grey levels are shown: beside the inputs, or added to them.
    /// The struct's default (and a decoded settings table or state without `layout`) is
    /// side by side, the layout every state and run was made with before layouts existed;
    /// `sim:optics` builds overlay unless told otherwise (Drivers/Optics/README.md).
    public var layout: OpticsLayout = .sideBySide
    /// Seed of the transmission matrix, the camera noise and every spread.
    public var seed: UInt64 = 1

    // MARK: SLM response

    /// Nonlinear grey → phase lookup table on; off: φ = 2π·g/256 (an ideal linear SLM).
    public var lutEnabled: Bool = true
    /// Phase at grey 255 in units of 2π (the LUT's stroke).
    public var lutStroke: Double = 1.05
    /// Curvature of the LUT: φ(g) = 2π·stroke·(g/255)^γ.
    public var lutGamma: Double = 1.25
    /// Fringing crosstalk on: each macro-pixel's phase mixes with its 4 neighbours.
    public var crosstalkEnabled: Bool = true
    /// Weight of each neighbour's phase (fringe width / macro-pixel width).
    public var crosstalk: Double = 0.04
    /// Liquid-crystal settling on: after a delay t0 the phase approaches the new pattern as 1 − e^{−(t−t0)/b}.
    public var settlingEnabled: Bool = true
    /// Settle delay t0, s.
    public var settleDelay: Double = 0.002
    /// Settle time constant b, s.
    public var settleTau: Double = 0.004
    /// Time from showing a pattern to the start of the exposure, s; nil: t0 + 4b (the settle time).
    public var exposureDelay: Double? = nil

    // MARK: Scattering medium

    /// Slow decorrelation of the transmission matrix on.
    public var decorrelationEnabled: Bool = true
    /// Correlation time of the medium, s: ⟨T(t)·T*(t+Δ)⟩ ∝ e^{−Δ/τ}.
    public var decorrelationTime: Double = 86_400
    /// The matrix is updated in steps of this fraction of the correlation time.
    public var decorrelationStep: Double = 1e-3

    // MARK: Camera

    /// Sensor size, pixels (2048 pixels: enough independent speckle features for
    /// Fashion-MNIST's readout, small enough for a 60 000-sample Gram matrix).
    public var cameraWidth: Int = 64
    public var cameraHeight: Int = 32
    /// Region of interest (offset and size, pixels); nil sizes take the whole sensor.
    public var roiX: Int = 0
    public var roiY: Int = 0
    public var roiWidth: Int? = nil
    public var roiHeight: Int? = nil
    /// ROI pixels binned per feature along each axis (features are the bin's mean DN).
    public var binning: Int = 1
    /// ADC bits (8–16; machine-vision cameras offer 8, 10, 12).
    public var bits: Int = 12
    /// Exposure, µs (GenICam ExposureTime).
    public var exposure: Double = 1000
    /// Photons per pixel per µs at unit mean speckle intensity (laser power and optics).
    public var photonFlux: Double = 2.5
    /// Quantum efficiency (electrons per photon).
    public var quantumEfficiency: Double = 0.6
    /// Conversion gain at 0 dB, DN per electron.
    public var conversionGain: Double = 0.25
    /// Analog gain, dB (GenICam Gain); DN per electron = conversionGain·10^(gain/20).
    public var gain: Double = 0
    /// Black level, DN.
    public var offset: Double = 64
    /// Full-well capacity, e⁻ (saturation of the pixel before the ADC).
    public var fullWell: Double = 10_000
    /// Dark current, e⁻/s per pixel.
    public var darkCurrent: Double = 20
    /// Read noise, DN rms.
    public var readNoise: Double = 1.0
    /// Frame readout time after the exposure, s.
    public var readoutTime: Double = 0.001
    public var shotNoiseEnabled: Bool = true
    public var darkSignalEnabled: Bool = true
    public var readNoiseEnabled: Bool = true
    public var saturationEnabled: Bool = true
    public var quantisationEnabled: Bool = true

    public init() {}

    /// Every non-ideality off: linear LUT, no crosstalk, instant settling, a frozen medium,
    /// a noise-free camera without saturation or quantisation. Geometry, seed and
    /// signal levels are kept.
    public func idealised() -> OpticsConfig {
        var c = self
        c.lutEnabled = false
        c.crosstalkEnabled = false
        c.settlingEnabled = false
        c.decorrelationEnabled = false
        c.shotNoiseEnabled = false
        c.darkSignalEnabled = false
        c.readNoiseEnabled = false
        c.saturationEnabled = false
        c.quantisationEnabled = false
        return c
    }

    /// Macro-pixels on the SLM (input and trainable regions; overlay: the input region only).
    public var macroPixels: Int { layout == .overlay ? inputs : inputs + parameters }

    /// The macro-pixel trainable grey level `j` is shown on (row-major index).
    public func macroPixel(ofParameter j: Int) -> Int { layout == .overlay ? j : inputs + j }

    /// The SLM pattern (one grey level per macro-pixel) showing input grey levels `input`
    /// (one per input macro-pixel) with the trainable grey levels `parameters`: side by side
    /// the two regions one after the other; overlay each trainable grey level added to its
    /// input macro-pixel's, modulo 256 (the LUT's grey range, as an SLM wraps a phase mask).
    public func pattern(input: [UInt8], parameters grey: [UInt8]) -> [UInt8] {
        precondition(input.count == inputs && grey.count == parameters, "one grey level per input and trainable macro-pixel")
        var out = [UInt8](repeating: 0, count: macroPixels)
        for (i, g) in input.enumerated() { out[i] = g }
        for (j, g) in grey.enumerated() {
            let k = macroPixel(ofParameter: j)
            out[k] = layout == .overlay ? out[k] &+ g : g
        }
        return out
    }
    /// Macro-pixels per row.
    public var resolvedGridWidth: Int {
        if let gridWidth { return gridWidth }
        var w = 1
        while w * w < macroPixels { w += 1 }
        return w
    }
    /// Macro-pixel rows.
    public var gridHeight: Int { (macroPixels + resolvedGridWidth - 1) / max(resolvedGridWidth, 1) }
    public var resolvedROIWidth: Int { roiWidth ?? (cameraWidth - roiX) }
    public var resolvedROIHeight: Int { roiHeight ?? (cameraHeight - roiY) }
    /// Camera pixels simulated (the ROI).
    public var roiPixels: Int { resolvedROIWidth * resolvedROIHeight }
    /// Output features: binned ROI pixels.
    public var features: Int { (resolvedROIWidth / max(binning, 1)) * (resolvedROIHeight / max(binning, 1)) }
    /// Time from showing a pattern to the exposure's start, s.
    public var resolvedExposureDelay: Double { exposureDelay ?? (settleDelay + 4 * settleTau) }
    /// Largest DN the ADC reports.
    public var maxDN: Double { Double((1 << bits) - 1) }
}

/// Where an optical rig shows its trainable grey levels.
public enum OpticsLayout: String, Codable, Sendable, CaseIterable {
    /// On the input macro-pixels themselves: shown grey = (input grey + trainable grey) mod
    /// 256, a trainable phase mask in the input plane. Class score k = |Σᵢ Tₖᵢ e^{i φ(xᵢ + θᵢ)}|²:
    /// every trainable phase reshapes how every input reaches every pixel.
    case overlay
    /// On macro-pixels of their own after the input region: camera field aₖ(x) + bₖ(θ), so a
    /// class score has two real degrees of freedom however many phases are trained (the
    /// issue's original layout; what `--method readout` and the calibrations were measured on).
    case sideBySide = "side-by-side"
}

/// How the SLM's input region carries data.
public enum OpticsInputMode: String, Codable, Sendable, CaseIterable {
    /// Grey level → phase through the LUT (an LCOS SLM).
    case phase
    /// Amplitude 1 where the input is above mid-range, else 0 (a DMD, LightOn's OPU encoding).
    case binary
}
