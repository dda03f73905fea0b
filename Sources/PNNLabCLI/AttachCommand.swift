import ArgumentParser
import Foundation
import PNNCore
import PNNDevices
import PNNLink
import PNNTraining

/// `pnnlab attach PORT` — handshake with a board, check its health, register it by name.
struct Attach: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Connect to a board, show what it is and how healthy the link is, and register it.",
        discussion: """
            PORT is a serial device (/dev/ttyUSB0, a pty, a --link path of 'pnnlab emulate') or \
            usb:VID:PID[:serial]. The board is registered under NAME (default <family>-<n>); \
            names and ports are then valid DEVICE arguments of 'pnnlab train'.
            """)

    @Argument(help: "Serial port path or usb:VID:PID[:serial].")
    var port: String

    @Option(help: "Name to register the board under.")
    var name: String?

    @OptionGroup var link: LinkOptions
    var baud: Int { link.baud ?? 115_200 }

    @Option(help: "Refuse a board of another family.")
    var family: String?

    @Flag(help: "Print one JSON object.")
    var json = false

    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        let address = try LinkAddress(parsing: port, baud: baud)
        let device = try await DeviceCatalog.connect(address, family: family, recordTo: link.record)
        let health = try await device.driver.healthCheck(device.substrate)
        let store = try storeOptions.open()
        let registered = try DeviceCatalog.register(device, name: name, store: store)
        await device.connection.close()
        let d = device.substrate.descriptor
        if json {
            try JSONOut.print([
                "name": registered, "port": address.description, "family": d.identity.family, "model": d.identity.model,
                "serial": d.identity.serial, "firmware": d.identity.firmware, "emulator": device.isEmulator,
                "schema_hash": String(format: "0x%08X", device.hello.schemaHash),
                "parameters": d.parameters.count,
                "parameter_range": [d.parameters.lower.min() ?? 0, d.parameters.upper.max() ?? 0],
                "parameter_unit": d.parameters.unit.symbol, "inputs": d.inputs.count,
                "input_range": [d.inputs.lower, d.inputs.upper], "input_unit": d.inputs.unit.symbol,
                "outputs": d.outputs.count, "output_unit": d.outputs.unit.symbol, "max_batch": d.maxBatch,
                "capabilities": d.capabilities.names,
                "health": [
                    "round_trip_ms": health.roundTrip * 1000, "requests_per_s": health.requestsPerSecond,
                    "stream_bytes_per_s": health.streamBytesPerSecond, "stream_frames_per_s": health.streamFramesPerSecond,
                    "stream_frames_lost": health.streamFramesLost, "outputs": health.outputs, "counters": health.counters,
                ] as [String: Any],
            ])
            return
        }
        try Output.print(
            Table.keyValue([
                ("name", registered), ("port", address.description),
                (
                    "board",
                    "\(d.identity.family)/\(d.identity.model) serial \(d.identity.serial)"
                        + (device.isEmulator ? " (emulator)" : "")
                ),
                ("firmware", d.identity.firmware), ("schema", String(format: "0x%08X", device.hello.schemaHash)),
            ]))
        try Output.print("")
        try Output.print(
            Table.render(
                header: ["what", "count", "range", "unit"],
                rows: [
                    [
                        "parameters", "\(d.parameters.count)",
                        "\(fmt(d.parameters.lower.min() ?? 0)) … \(fmt(d.parameters.upper.max() ?? 0))", d.parameters.unit.symbol,
                    ],
                    ["inputs", "\(d.inputs.count)", "\(fmt(d.inputs.lower)) … \(fmt(d.inputs.upper))", d.inputs.unit.symbol],
                    [
                        "outputs", "\(d.outputs.count)", "\(fmt(d.outputs.lower)) … \(fmt(d.outputs.upper))",
                        d.outputs.unit.symbol,
                    ],
                ]))
        try Output.print("")
        let caps = d.capabilities.names
        try Output.print(
            Table.keyValue([
                ("capabilities", caps.isEmpty ? "none" : caps.joined(separator: ", ")),
                ("max batch", "\(d.maxBatch)"),
                ("round trip", String(format: "%.3f ms", health.roundTrip * 1000)),
                ("pipelined", String(format: "%.0f requests/s", health.requestsPerSecond)),
                (
                    "stream",
                    String(
                        format: "%.1f kB/s, %.0f frames/s, %d lost", health.streamBytesPerSecond / 1000,
                        health.streamFramesPerSecond, health.streamFramesLost)
                ),
                ("outputs at +10% input", health.outputs.map(fmt).joined(separator: " ") + " \(health.outputUnit)"),
                (
                    "board counters",
                    health.counters.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                ),
            ]))
        // What to try first depends on what the board can do, not on its family.
        let example =
            d.capabilities.contains(.clampable) && d.capabilities.contains(.nodeReadout)
            ? "--method coupled --task two-task" : "--task iris --method gauss-newton"
        Terminal.writeError("registered as '\(registered)': pnnlab train \(registered) \(example)\n")
    }

    private func fmt(_ x: Double) -> String { String(format: "%.4g", x) }
}
