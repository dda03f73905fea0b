import ArgumentParser
import Foundation
import PNNTransport

/// `pnnlab doctor` — what this machine has: libraries and their versions, serial ports.
struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check libraries, versions and serial ports on this machine.")

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() async throws {
        let report = SystemReport.collect()
        if json {
            try JSONOut.print([
                "libraries": report.libraries.map { ["name": $0.name, "version": $0.version] },
                "serial_ports": report.serialPorts,
                "serial_error": JSONOut.nullable(report.serialError),
            ])
            return
        }
        print(Table.render(header: ["library", "version"], rows: report.libraries.map { [$0.name, $0.version] }))
        print("")
        if let err = report.serialError {
            print("serial ports: \(err)")
        } else if report.serialPorts.isEmpty {
            print("serial ports: none")
        } else {
            print("serial ports: " + report.serialPorts.joined(separator: ", "))
        }
    }
}
