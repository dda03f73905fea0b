import ArgumentParser

/// `pnnlab devices` — serial ports and USB devices on this machine.
struct Devices: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List serial ports and USB devices.")

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        throw ValidationError("pnnlab devices is not built yet")
    }
}
