extension OpticsConfig {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case inputs, parameters, seed, bits, gain, offset, binning
        case gridWidth = "grid_width"
        case macroPixelSize = "macro_pixel_size"
        case inputMode = "input_mode"
        case layout
        case lutEnabled = "lut"
        case lutStroke = "lut_stroke"
        case lutGamma = "lut_gamma"
        case crosstalkEnabled = "crosstalk_on"
        case crosstalk
        case settlingEnabled = "settling"
        case settleDelay = "settle_delay_s"
        case settleTau = "settle_tau_s"
        case exposureDelay = "exposure_delay_s"
        case decorrelationEnabled = "decorrelation"
        case decorrelationTime = "decorrelation_time_s"
        case decorrelationStep = "decorrelation_step"
        case cameraWidth = "camera_width"
        case cameraHeight = "camera_height"
        case roiX = "roi_x"
        case roiY = "roi_y"
        case roiWidth = "roi_width"
        case roiHeight = "roi_height"
        case exposure = "exposure_us"
        case photonFlux = "photon_flux_per_us"
        case quantumEfficiency = "quantum_efficiency"
        case conversionGain = "conversion_gain_dn_per_e"
        case fullWell = "full_well_e"
        case darkCurrent = "dark_current_e_per_s"
        case readNoise = "read_noise_dn"
        case readoutTime = "readout_time_s"
        case shotNoiseEnabled = "shot_noise"
        case darkSignalEnabled = "dark_signal"
        case readNoiseEnabled = "read_noise"
        case saturationEnabled = "saturation"
        case quantisationEnabled = "quantisation"
    }

    /// Every key a `[twin]` table of `sim:optics` may contain.
    public static var knownKeys: Set<String> { Set(CodingKeys.allCases.map(\.rawValue)) }

    /// Decodes a configuration; every missing field keeps its default.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        func take<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
            if let v = try c.decodeIfPresent(T.self, forKey: key) { value = v }
        }
        func takeOptional<T: Decodable>(_ key: CodingKeys, _ value: inout T?) throws {
            if let v = try c.decodeIfPresent(T.self, forKey: key) { value = v }
        }
        try take(.inputs, &inputs)
        try take(.parameters, &parameters)
        try take(.seed, &seed)
        try take(.bits, &bits)
        try take(.gain, &gain)
        try take(.offset, &offset)
        try take(.binning, &binning)
        try takeOptional(.gridWidth, &gridWidth)
        try take(.macroPixelSize, &macroPixelSize)
        try take(.inputMode, &inputMode)
        try take(.layout, &layout)
        try take(.lutEnabled, &lutEnabled)
        try take(.lutStroke, &lutStroke)
        try take(.lutGamma, &lutGamma)
        try take(.crosstalkEnabled, &crosstalkEnabled)
        try take(.crosstalk, &crosstalk)
        try take(.settlingEnabled, &settlingEnabled)
        try take(.settleDelay, &settleDelay)
        try take(.settleTau, &settleTau)
        try takeOptional(.exposureDelay, &exposureDelay)
        try take(.decorrelationEnabled, &decorrelationEnabled)
        try take(.decorrelationTime, &decorrelationTime)
        try take(.decorrelationStep, &decorrelationStep)
        try take(.cameraWidth, &cameraWidth)
        try take(.cameraHeight, &cameraHeight)
        try take(.roiX, &roiX)
        try take(.roiY, &roiY)
        try takeOptional(.roiWidth, &roiWidth)
        try takeOptional(.roiHeight, &roiHeight)
        try take(.exposure, &exposure)
        try take(.photonFlux, &photonFlux)
        try take(.quantumEfficiency, &quantumEfficiency)
        try take(.conversionGain, &conversionGain)
        try take(.fullWell, &fullWell)
        try take(.darkCurrent, &darkCurrent)
        try take(.readNoise, &readNoise)
        try take(.readoutTime, &readoutTime)
        try take(.shotNoiseEnabled, &shotNoiseEnabled)
        try take(.darkSignalEnabled, &darkSignalEnabled)
        try take(.readNoiseEnabled, &readNoiseEnabled)
        try take(.saturationEnabled, &saturationEnabled)
        try take(.quantisationEnabled, &quantisationEnabled)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(inputs, forKey: .inputs)
        try c.encode(parameters, forKey: .parameters)
        try c.encode(seed, forKey: .seed)
        try c.encode(bits, forKey: .bits)
        try c.encode(gain, forKey: .gain)
        try c.encode(offset, forKey: .offset)
        try c.encode(binning, forKey: .binning)
        try c.encodeIfPresent(gridWidth, forKey: .gridWidth)
        try c.encode(macroPixelSize, forKey: .macroPixelSize)
        try c.encode(inputMode, forKey: .inputMode)
        try c.encode(layout, forKey: .layout)
        try c.encode(lutEnabled, forKey: .lutEnabled)
        try c.encode(lutStroke, forKey: .lutStroke)
        try c.encode(lutGamma, forKey: .lutGamma)
        try c.encode(crosstalkEnabled, forKey: .crosstalkEnabled)
        try c.encode(crosstalk, forKey: .crosstalk)
        try c.encode(settlingEnabled, forKey: .settlingEnabled)
        try c.encode(settleDelay, forKey: .settleDelay)
        try c.encode(settleTau, forKey: .settleTau)
        try c.encodeIfPresent(exposureDelay, forKey: .exposureDelay)
        try c.encode(decorrelationEnabled, forKey: .decorrelationEnabled)
        try c.encode(decorrelationTime, forKey: .decorrelationTime)
        try c.encode(decorrelationStep, forKey: .decorrelationStep)
        try c.encode(cameraWidth, forKey: .cameraWidth)
        try c.encode(cameraHeight, forKey: .cameraHeight)
        try c.encode(roiX, forKey: .roiX)
        try c.encode(roiY, forKey: .roiY)
        try c.encodeIfPresent(roiWidth, forKey: .roiWidth)
        try c.encodeIfPresent(roiHeight, forKey: .roiHeight)
        try c.encode(exposure, forKey: .exposure)
        try c.encode(photonFlux, forKey: .photonFlux)
        try c.encode(quantumEfficiency, forKey: .quantumEfficiency)
        try c.encode(conversionGain, forKey: .conversionGain)
        try c.encode(fullWell, forKey: .fullWell)
        try c.encode(darkCurrent, forKey: .darkCurrent)
        try c.encode(readNoise, forKey: .readNoise)
        try c.encode(readoutTime, forKey: .readoutTime)
        try c.encode(shotNoiseEnabled, forKey: .shotNoiseEnabled)
        try c.encode(darkSignalEnabled, forKey: .darkSignalEnabled)
        try c.encode(readNoiseEnabled, forKey: .readNoiseEnabled)
        try c.encode(saturationEnabled, forKey: .saturationEnabled)
        try c.encode(quantisationEnabled, forKey: .quantisationEnabled)
    }

    /// The first problem with the configuration, in words; nil when it can be built.
    public func problem() -> String? {
        func bad(_ x: Double) -> Bool { !x.isFinite }
        if inputs < 1 || parameters < 0 { return "inputs must be ≥ 1 and parameters ≥ 0" }
        if layout == .overlay && parameters > inputs {
            return "the overlay layout adds each trainable grey level to an input macro-pixel: parameters (\(parameters)) "
                + "must be ≤ inputs (\(inputs)); use layout = \"side-by-side\" for more"
        }
        if layout == .overlay && inputMode == .binary {
            return "the overlay layout adds trainable phases to phase-encoded inputs; binary-amplitude inputs "
                + "(input_mode = \"binary\") need layout = \"side-by-side\""
        }
        if macroPixels > 1 << 20 { return "the SLM has \(macroPixels) macro-pixels; at most \(1 << 20) are simulated" }
        if let w = gridWidth, w < 1 || w > macroPixels { return "grid_width must be between 1 and \(macroPixels)" }
        if macroPixelSize < 1 || macroPixelSize > 64 { return "macro_pixel_size must be between 1 and 64 SLM pixels" }
        if bad(lutStroke) || lutStroke <= 0 || lutStroke > 4 { return "lut_stroke must be in (0, 4] (units of 2π)" }
        if bad(lutGamma) || lutGamma < 0.2 || lutGamma > 5 { return "lut_gamma must be between 0.2 and 5" }
        if bad(crosstalk) || crosstalk < 0 || crosstalk > 0.2 { return "crosstalk must be between 0 and 0.2 per neighbour" }
        if bad(settleDelay) || bad(settleTau) || settleDelay < 0 || settleTau <= 0 || settleTau > 10 {
            return "settle_delay_s must be ≥ 0 and settle_tau_s in (0, 10] s"
        }
        if let d = exposureDelay, bad(d) || d < 0 || d > 60 { return "exposure_delay_s must be between 0 and 60 s" }
        if bad(decorrelationTime) || decorrelationTime <= 0 { return "decorrelation_time_s must be positive" }
        if bad(decorrelationStep) || decorrelationStep <= 0 || decorrelationStep > 0.1 {
            return "decorrelation_step must be in (0, 0.1] of the correlation time"
        }
        if cameraWidth < 1 || cameraHeight < 1 || cameraWidth > 8192 || cameraHeight > 8192 {
            return "the camera must be between 1×1 and 8192×8192 pixels"
        }
        if roiX < 0 || roiY < 0 || resolvedROIWidth < 1 || resolvedROIHeight < 1 || roiX + resolvedROIWidth > cameraWidth
            || roiY + resolvedROIHeight > cameraHeight
        {
            return "the ROI must lie on the \(cameraWidth)×\(cameraHeight) sensor"
        }
        if binning < 1 || binning > min(resolvedROIWidth, resolvedROIHeight) {
            return "binning must be between 1 and the ROI size"
        }
        if roiPixels * macroPixels > 1 << 26 {
            return "the transmission matrix would have \(roiPixels * macroPixels) entries; at most \(1 << 26) are simulated"
        }
        if bits < 8 || bits > 16 { return "bits must be between 8 and 16" }
        if bad(exposure) || exposure <= 0 || exposure > 10_000_000 { return "exposure_us must be in (0, 10⁷] µs" }
        if bad(photonFlux) || photonFlux < 0 { return "photon_flux_per_us must be ≥ 0" }
        if bad(quantumEfficiency) || quantumEfficiency <= 0 || quantumEfficiency > 1 {
            return "quantum_efficiency must be in (0, 1]"
        }
        if bad(conversionGain) || conversionGain <= 0 { return "conversion_gain_dn_per_e must be positive" }
        if bad(gain) || gain < 0 || gain > 48 { return "gain must be between 0 and 48 dB" }
        if bad(offset) || offset < 0 || offset > maxDN { return "offset must be between 0 and \(Int(maxDN)) DN" }
        if bad(fullWell) || fullWell <= 0 { return "full_well_e must be positive" }
        if bad(darkCurrent) || darkCurrent < 0 { return "dark_current_e_per_s must be ≥ 0" }
        if bad(readNoise) || readNoise < 0 { return "read_noise_dn must be ≥ 0" }
        if bad(readoutTime) || readoutTime < 0 { return "readout_time_s must be ≥ 0" }
        return nil
    }
}
