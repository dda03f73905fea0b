/// A substrate (a twin) that can also compute what it would measure with every source of
/// noise and every transient switched off — the same physical map, ideal instruments. The
/// `readout` method trains its digital ceiling on these outputs.
public protocol IdealOutputs: Substrate {
    /// Noise-free outputs for each input row (already validated), in the output unit.
    func idealOutputs(_ inputs: Matrix) async throws -> Matrix
    /// One line saying what "ideal" leaves out, for reports.
    var idealOutputsDescription: String { get }
}
