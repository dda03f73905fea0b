import ArgumentParser
import Foundation
import PNNDevices
import PNNLink
import PNNTraining
import PNNTransport

/// Says whether a pnnlab board answers on a serial port (the "board" column).
protocol BoardProber: Sendable {
    /// A short label for the board on `port`, or nil if no pnnlab board answers.
    func probe(port: SerialPortInfo) async -> String?
}

/// Opens each port, says hello with a short deadline, and labels what answered.
struct HelloProber: BoardProber {
    func probe(port: SerialPortInfo) async -> String? {
        switch await DeviceCatalog.identify(port: port.path) {
        case .success(let hello):
            let emulated = hello.isEmulator ? " (emulator)" : ""
            return "\(hello.family) \(hello.serial)\(emulated)"
        case .failure(let error):
            if case LinkError.transport(.busy) = error { return "busy" }
            return nil
        }
    }
}

/// Never probes, so the column shows "-" (`--no-probe`).
struct NoBoardProber: BoardProber {
    func probe(port: SerialPortInfo) async -> String? { nil }
}

/// `pnnlab devices` — serial ports and USB devices on this machine.
struct Devices: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List serial ports and USB devices.")

    @Flag(help: "Print JSON.")
    var json = false

    @Flag(help: "Do not send a hello to each serial port (the BOARD column stays empty).")
    var noProbe = false

    func run() async throws {
        let ports = try SerialPorts.list()
        let usb = try UsbDevices.list()
        var boards: [String?] = []
        let prober: any BoardProber = noProbe ? NoBoardProber() : HelloProber()
        for port in ports { boards.append(await prober.probe(port: port)) }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            var portObjects: [Any] = []
            for (port, board) in zip(ports, boards) {
                var o = try JSONSerialization.jsonObject(with: encoder.encode(port)) as? [String: Any] ?? [:]
                o["link"] = SerialLink.preferredKind(path: port.path).rawValue
                o["board"] = JSONOut.nullable(board)
                portObjects.append(o)
            }
            let usbObjects = try JSONSerialization.jsonObject(with: encoder.encode(usb))
            try JSONOut.print(["serial_ports": portObjects, "usb_devices": usbObjects])
            return
        }
        print("Serial ports")
        if ports.isEmpty {
            print("  (none)")
        } else {
            let rows = zip(ports, boards).map { port, board in
                [
                    port.path, port.vidpid ?? "-", port.serialNumber ?? "-", port.description ?? "-",
                    SerialLink.preferredKind(path: port.path).rawValue, board ?? "-",
                ]
            }
            print(Table.render(header: ["PATH", "VID:PID", "SERIAL", "DESCRIPTION", "LINK", "BOARD"], rows: rows))
        }
        print("")
        print("USB devices")
        if usb.isEmpty {
            print("  (none)")
        } else {
            let rows = usb.map { d in
                [
                    String(format: "%03d/%03d", d.bus, d.address), d.vidpid, d.serialNumber ?? "-", d.product ?? "-",
                    d.bulkIn.map { String(format: "IN 0x%02x OUT 0x%02x", $0, d.bulkOut ?? 0) } ?? "-",
                ]
            }
            print(Table.render(header: ["BUS/ADDR", "VID:PID", "SERIAL", "PRODUCT", "BULK"], rows: rows))
        }
    }
}
