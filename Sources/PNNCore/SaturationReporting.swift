/// A substrate whose readings can saturate (an ADC clips at its full scale) and that counts
/// the readings its device flagged as saturated. A saturated reading is not the physical
/// value, only a bound on it, so a trainer warns when any occur and the run records how many.
public protocol SaturationReporting: Substrate {
    /// Output readings flagged saturated since the substrate was built or attached: one per
    /// input vector and output (an average over repeats counts once, if any read clipped).
    func saturatedReadings() async -> Int
}
