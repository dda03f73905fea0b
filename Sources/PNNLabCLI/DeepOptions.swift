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
}
