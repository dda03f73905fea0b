import ArgumentParser
import Foundation
import PNNDevices
import PNNLink
import PNNRemote
import PNNTraining

/// `pnnlab conformance PORT` — check a device against docs/protocol.md.
struct Conformance: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the wire-protocol conformance suite against a board.",
        discussion: "Exits with status 1 if any check fails. No check programs a device or leaves its safe ranges.")

    @Argument(help: "Serial port path, usb:VID:PID[:serial], or remote://HOST:PORT/NAME (a served device's health check).")
    var port: String

    @OptionGroup var link: LinkOptions
    var baud: Int { link.baud ?? 115_200 }

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() async throws {
        if port.hasPrefix(RemoteDeviceAddress.scheme) { return try await ServeHealth.run(port, json: json) }
        let address = try LinkAddress(parsing: port, baud: baud)
        let (hello, results) = try await DeviceCatalog.conformance(address, recordTo: link.record)
        let passed = results.filter { $0.passed }.count
        if json {
            try JSONOut.print([
                "port": address.description, "family": hello.family, "serial": hello.serial, "passed": passed,
                "total": results.count,
                "checks": results.map {
                    ["name": $0.name, "requirement": $0.requirement, "passed": $0.passed, "detail": $0.detail] as [String: Any]
                },
            ])
        } else {
            print(
                Table.render(
                    header: ["check", "spec", "result", "detail"],
                    rows: results.map { [$0.name, $0.requirement, $0.passed ? "pass" : "FAIL", $0.detail] }))
            print("")
            print("\(passed)/\(results.count) checks passed (\(hello.family) \(hello.serial) on \(address.description))")
        }
        if passed != results.count { throw ExitCode(1) }
    }
}
