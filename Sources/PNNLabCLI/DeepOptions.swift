import ArgumentParser

/// `pnnlab train --layers …`: a cascade of units, one device each, trained by a deep method.
struct DeepOptions: ParsableArguments {
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Train a cascade of units: hidden widths, then the output count (e.g. 32,10), with --method in-silico|pat|dfa (default pat). A twin gets one twin per unit.",
            valueName: "WIDTHS"))
    var layers: String?
}
