import ArgumentParser
import PNNTraining

/// `pnnlab train --layers …`: a cascade of units, one device each, trained by a deep method.
struct DeepOptions: ParsableArguments {
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Train a cascade of units: hidden widths, then the output count (e.g. 32,10), with --method in-silico|pat|dfa|pib (default pat). A twin gets one twin per unit; DEVICE may list one device per unit (per tile with --tile-outputs/--tile-rows), separated by commas.",
            valueName: "WIDTHS"))
    var layers: String?

    @Option(help: ArgumentHelp("PIB: β of the objective −I(Y;Z) + β·I(X;Z) (default 0.01).", valueName: "β"))
    var beta: Double?

    @Flag(
        help: ArgumentHelp(
            "PIB: train the hidden units all at once after one initialisation pass (seed 003's parallel variant), then the output unit; list one DEVICE per unit (A,B) to put the units on different machines."
        ))
    var parallel = false

    @Option(
        help: ArgumentHelp(
            "PIB: a new run retraining the units from --from-unit on of pib run RUN, from its last parameters, on what the devices measure now (recovery after a fault, seed 003 Fig. 2D).",
            valueName: "RUN"))
    var retrain: Int64?

    @Option(help: ArgumentHelp("With --retrain: the first unit retrained (from 1; default 2).", valueName: "UNIT"))
    var fromUnit: Int?

    @Option(
        help: ArgumentHelp(
            "With --retrain, twins only: break unit UNIT's ADC column CHANNEL (from 0) first; it reads 0 from then on (repeatable).",
            valueName: "UNIT:CHANNEL"))
    var breakADC: [String] = []

    @Option(
        help: ArgumentHelp(
            "Tile units over several arrays: at most N outputs per array (output blocks concatenated). A twin gets one twin per tile; with boards list one DEVICE per tile, unit by unit.",
            valueName: "N"))
    var tileOutputs: Int?

    @Option(
        help: ArgumentHelp(
            "Tile units over several arrays: at most N input lines per array (row blocks, partial sums added digitally; the bias line in the last block).",
            valueName: "N"))
    var tileRows: Int?

    /// `--tile-outputs`/`--tile-rows`, or nil when neither is given.
    var tiling: Tiling? {
        tileOutputs == nil && tileRows == nil ? nil : Tiling(maxOutputs: tileOutputs, maxRows: tileRows)
    }

    @Option(
        help: ArgumentHelp(
            "Train through each unit's calibrated model instead of its family's ideal one (PAT's backward pass, in-silico's model): per unit, comma-separated, a stored calibration's id (pnnlab calibrate), a profile file (calibrate --out) or 'ideal'. The profile must be that unit's device's; a tiled unit takes 'ideal'.",
            valueName: "ID|FILE,…"))
    var modelProfile: String?
}
