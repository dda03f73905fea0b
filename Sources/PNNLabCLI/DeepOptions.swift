import ArgumentParser

/// `pnnlab train --layers …`: a cascade of units, one device each, trained by a deep method.
struct DeepOptions: ParsableArguments {
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Train a cascade of units: hidden widths, then the output count (e.g. 32,10), with --method in-silico|pat|dfa|pib (default pat). A twin gets one twin per unit; DEVICE may list one device per unit, separated by commas.",
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
            "Train through each unit's calibrated model instead of its family's ideal one (PAT's backward pass, in-silico's model): per unit, comma-separated, a stored calibration's id (pnnlab calibrate), a profile file (calibrate --out) or 'ideal'. The profile must be that unit's device's.",
            valueName: "ID|FILE,…"))
    var modelProfile: String?
}
