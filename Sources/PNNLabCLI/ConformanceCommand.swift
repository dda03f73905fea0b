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
        let report = ConformanceReport(
            port: address.description, family: hello.family, serial: hello.serial,
            checks: results.map { .init(name: $0.name, requirement: $0.requirement, passed: $0.passed, detail: $0.detail) })
        try report.print(json: json, requirementHeader: "spec", where: "on \(address.description)")
    }
}

/// What `pnnlab conformance` prints: a board's wire-protocol checks, or a served device's
/// health checks (`remote://`), one row each; `--json` is this type.
struct ConformanceReport: Encodable {
    /// One check and its outcome.
    struct Check: Encodable {
        var name: String
        var requirement: String
        var passed: Bool
        var detail: String
    }

    var port: String
    var family: String
    var serial: String
    var passed: Int
    var total: Int
    var checks: [Check]

    init(port: String, family: String, serial: String, checks: [Check]) {
        self.port = port
        self.family = family
        self.serial = serial
        self.checks = checks
        passed = checks.filter(\.passed).count
        total = checks.count
    }

    /// Prints the table (or JSON) and exits with status 1 when a check failed.
    func print(json: Bool, requirementHeader: String, where place: String) throws {
        if json {
            try Output.printJSON(self)
        } else {
            try Output.print(
                Table.render(
                    header: ["check", requirementHeader, "result", "detail"],
                    rows: checks.map { [$0.name, $0.requirement, $0.passed ? "pass" : "FAIL", $0.detail] })
                    + "\n\n\(passed)/\(total) checks passed (\(family) \(serial) \(place))")
        }
        if passed != total { throw ExitCode(1) }
    }
}
