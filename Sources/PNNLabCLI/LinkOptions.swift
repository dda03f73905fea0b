import ArgumentParser

/// Options of every command that opens a link to a board.
struct LinkOptions: ParsableArguments {
    @Option(help: "Baud rate of a serial port (default 115200).")
    var baud: Int?

    @Option(help: "Seconds to wait for an unplugged board to come back before pausing (default 15).")
    var reconnectGrace: Double = 15

    @Option(
        help: ArgumentHelp(
            "Record every frame of the link, both ways with times, to FILE (attach it to a bug report; docs/protocol.md, 'Session recordings').",
            valueName: "FILE"))
    var record: String?

    func validate() throws {
        if let baud, !(50...20_000_000).contains(baud) {
            throw ValidationError("--baud must be a rate between 50 and 20000000")
        }
        guard reconnectGrace.isFinite, reconnectGrace >= 0, reconnectGrace <= 3600 else {
            throw ValidationError("--reconnect-grace must be a number of seconds between 0 and 3600")
        }
    }
}
