/// A simulated device that can suffer a readout fault on demand — one physical output
/// channel's converter (a crossbar column's ADC) breaks and reads zero from then on, as the
/// board of seed 003 Fig. 2D did mid-operation. Twins only: how a real board fails is not
/// pnnlab's to choose. Used to show recovery by retraining the units after a broken one.
public protocol ReadoutFaults: Substrate {
    /// Physical readout channels, numbered from 0 (a differential crossbar: 2 per output).
    var readoutChannelCount: Int { get async }
    /// Breaks channel `channel`'s converter: it reads 0 from now on (also after a reset).
    func breakReadout(channel: Int) async throws
}
