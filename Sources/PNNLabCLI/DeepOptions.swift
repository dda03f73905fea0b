import ArgumentParser

/// `pnnlab train --layers …`: a cascade of units, one device each, trained by a deep method.
struct DeepOptions: ParsableArguments {
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Train a cascade of units: hidden widths, then the output count (e.g. 32,10), with --method in-silico|pat|dfa|pib (default pat). A twin gets one twin per unit.",
            valueName: "WIDTHS"))
    var layers: String?

    @Option(help: ArgumentHelp("PIB: β of the objective −I(Y;Z) + β·I(X;Z) (default 0.01).", valueName: "β"))
    var beta: Double?
}
