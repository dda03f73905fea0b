extension CrossbarConfig {
    enum CodingKeys: String, CodingKey {
        case rows, outputs, tolerance, seed
        case gMin = "g_min_uS"
        case gMax = "g_max_uS"
        case windowSpread = "window_spread"
        case alphaSet = "alpha_set"
        case alphaReset = "alpha_reset"
        case alphaSpread = "alpha_spread"
        case writeNoise = "write_noise"
        case maxPulses = "max_pulses"
        case exactProgramming = "exact_programming"
        case initialConductance = "initial_conductance_uS"
        case readNoise = "read_noise"
        case exactReadNoise = "exact_read_noise"
        case driftT0 = "drift_t0_s"
        case driftNuMean = "drift_nu_mean"
        case driftNuSpread = "drift_nu_spread"
        case driftCacheTolerance = "drift_cache_tolerance"
        case readTimePerVector = "read_time_per_vector_s"
        case pulseTime = "pulse_time_s"
        case verifyReadTime = "verify_read_time_s"
        case stuckFraction = "stuck_fraction"
        case deadColumns = "dead_columns"
        case adcFailureRate = "adc_failure_rate"
        case adcGainSpread = "adc_gain_spread"
        case adcOffsetSpread = "adc_offset_spread"
        case vReadMax = "v_read_max_V"
        case dacBits = "dac_bits"
        case adcBits = "adc_bits"
        case fullScale = "full_scale_uA"
    }

    /// Decodes a configuration; every missing field keeps its default.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        func take<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
            if let v = try c.decodeIfPresent(T.self, forKey: key) { value = v }
        }
        try take(.rows, &rows)
        try take(.outputs, &outputs)
        try take(.gMin, &gMin)
        try take(.gMax, &gMax)
        try take(.windowSpread, &windowSpread)
        try take(.alphaSet, &alphaSet)
        try take(.alphaReset, &alphaReset)
        try take(.alphaSpread, &alphaSpread)
        try take(.writeNoise, &writeNoise)
        try take(.tolerance, &tolerance)
        try take(.maxPulses, &maxPulses)
        try take(.exactProgramming, &exactProgramming)
        initialConductance = try c.decodeIfPresent(Double.self, forKey: .initialConductance)
        try take(.readNoise, &readNoise)
        try take(.exactReadNoise, &exactReadNoise)
        try take(.driftT0, &driftT0)
        try take(.driftNuMean, &driftNuMean)
        try take(.driftNuSpread, &driftNuSpread)
        try take(.driftCacheTolerance, &driftCacheTolerance)
        try take(.readTimePerVector, &readTimePerVector)
        try take(.pulseTime, &pulseTime)
        try take(.verifyReadTime, &verifyReadTime)
        try take(.stuckFraction, &stuckFraction)
        try take(.deadColumns, &deadColumns)
        try take(.adcFailureRate, &adcFailureRate)
        try take(.adcGainSpread, &adcGainSpread)
        try take(.adcOffsetSpread, &adcOffsetSpread)
        try take(.vReadMax, &vReadMax)
        // Optional converters: an explicit null means "ideal", absence means "default".
        if c.contains(.dacBits) { dacBits = try c.decodeIfPresent(Int.self, forKey: .dacBits) }
        if c.contains(.adcBits) { adcBits = try c.decodeIfPresent(Int.self, forKey: .adcBits) }
        fullScale = try c.decodeIfPresent(Double.self, forKey: .fullScale)
        try take(.seed, &seed)
    }

    /// Encodes every field; ideal converters are written as an explicit `null`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(rows, forKey: .rows)
        try c.encode(outputs, forKey: .outputs)
        try c.encode(gMin, forKey: .gMin)
        try c.encode(gMax, forKey: .gMax)
        try c.encode(windowSpread, forKey: .windowSpread)
        try c.encode(alphaSet, forKey: .alphaSet)
        try c.encode(alphaReset, forKey: .alphaReset)
        try c.encode(alphaSpread, forKey: .alphaSpread)
        try c.encode(writeNoise, forKey: .writeNoise)
        try c.encode(tolerance, forKey: .tolerance)
        try c.encode(maxPulses, forKey: .maxPulses)
        try c.encode(exactProgramming, forKey: .exactProgramming)
        try c.encodeIfPresent(initialConductance, forKey: .initialConductance)
        try c.encode(readNoise, forKey: .readNoise)
        try c.encode(exactReadNoise, forKey: .exactReadNoise)
        try c.encode(driftT0, forKey: .driftT0)
        try c.encode(driftNuMean, forKey: .driftNuMean)
        try c.encode(driftNuSpread, forKey: .driftNuSpread)
        try c.encode(driftCacheTolerance, forKey: .driftCacheTolerance)
        try c.encode(readTimePerVector, forKey: .readTimePerVector)
        try c.encode(pulseTime, forKey: .pulseTime)
        try c.encode(verifyReadTime, forKey: .verifyReadTime)
        try c.encode(stuckFraction, forKey: .stuckFraction)
        try c.encode(deadColumns, forKey: .deadColumns)
        try c.encode(adcFailureRate, forKey: .adcFailureRate)
        try c.encode(adcGainSpread, forKey: .adcGainSpread)
        try c.encode(adcOffsetSpread, forKey: .adcOffsetSpread)
        try c.encode(vReadMax, forKey: .vReadMax)
        try c.encode(dacBits, forKey: .dacBits)
        try c.encode(adcBits, forKey: .adcBits)
        try c.encodeIfPresent(fullScale, forKey: .fullScale)
        try c.encode(seed, forKey: .seed)
    }
}
