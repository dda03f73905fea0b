extension CrossbarConfig {
    /// Checks that the configuration describes a physical array; throws the first problem.
    public func validate() throws(CrossbarConfigError) {
        func fail(_ field: String, _ value: Any, _ requirement: String) -> CrossbarConfigError {
            .invalid(field: field, value: "\(value)", requirement: requirement)
        }
        guard rows >= 1 else { throw fail("rows", rows, "an array needs at least one input line") }
        guard outputs >= 1 else { throw fail("outputs", outputs, "an array needs at least one output") }
        guard gMin.isFinite, gMin > 0 else { throw fail("gMin", gMin, "must be a positive conductance in µS") }
        guard gMax.isFinite, gMax > gMin else { throw fail("gMax", gMax, "must be a finite conductance above gMin (\(gMin) µS)") }
        let fractions: [(String, Double)] = [
            ("windowSpread", windowSpread), ("alphaSpread", alphaSpread), ("writeNoise", writeNoise),
            ("readNoise", readNoise), ("driftNuSpread", driftNuSpread), ("driftCacheTolerance", driftCacheTolerance),
            ("adcGainSpread", adcGainSpread), ("adcOffsetSpread", adcOffsetSpread),
        ]
        for (name, value) in fractions where !(value.isFinite && value >= 0) {
            throw fail(name, value, "a relative spread must be finite and ≥ 0")
        }
        for (name, value) in [("alphaSet", alphaSet), ("alphaReset", alphaReset)] where !(value > 0 && value <= 1) {
            throw fail(name, value, "a soft-bounds step fraction must lie in (0, 1]")
        }
        for (name, value) in [("stuckFraction", stuckFraction), ("adcFailureRate", adcFailureRate)]
        where !(value >= 0 && value <= 1) {
            throw fail(name, value, "a probability must lie in [0, 1]")
        }
        guard tolerance.isFinite, tolerance > 0 else {
            throw fail("tolerance", tolerance, "must be a positive conductance in µS")
        }
        guard maxPulses >= 0 else { throw fail("maxPulses", maxPulses, "must be ≥ 0") }
        if let g = initialConductance, !(g.isFinite && g > 0) {
            throw fail("initialConductance", g, "must be a positive conductance in µS")
        }
        guard driftT0.isFinite, driftT0 > 0 else { throw fail("driftT0", driftT0, "must be a positive time in s") }
        guard driftNuMean.isFinite else { throw fail("driftNuMean", driftNuMean, "must be finite") }
        let times: [(String, Double)] = [
            ("readTimePerVector", readTimePerVector), ("pulseTime", pulseTime), ("verifyReadTime", verifyReadTime),
        ]
        for (name, value) in times where !(value.isFinite && value >= 0) {
            throw fail(name, value, "a duration must be finite and ≥ 0 s")
        }
        for c in deadColumns where !(0..<physicalColumns).contains(c) {
            throw fail("deadColumns", c, "physical columns are numbered 0..<\(physicalColumns)")
        }
        guard vReadMax.isFinite, vReadMax > 0 else { throw fail("vReadMax", vReadMax, "must be a positive voltage in V") }
        for (name, bits) in [("dacBits", dacBits), ("adcBits", adcBits)] {
            if let b = bits, !(2...30).contains(b) { throw fail(name, b, "a converter has 2 to 30 bits (or null for ideal)") }
        }
        if let fs = fullScale, !(fs.isFinite && fs > 0) {
            throw fail("fullScale", fs, "must be a positive current in µA (or null for automatic)")
        }
    }
}
