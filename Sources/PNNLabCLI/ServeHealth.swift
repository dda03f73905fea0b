import ArgumentParser
import Foundation
import PNNRemote

/// `pnnlab conformance remote://HOST:PORT/NAME`: the health check of a served device
/// (`RemoteHealth`), printed like the wire-protocol conformance suite.
enum ServeHealth {
    static func run(_ device: String, json: Bool) async throws {
        let address = try RemoteDeviceAddress(parsing: device)
        let (identity, checks) = try await RemoteHealth.run(address)
        let passed = checks.filter(\.passed).count
        if json {
            try JSONOut.print([
                "port": device, "family": identity.family, "serial": identity.serial, "passed": passed,
                "total": checks.count,
                "checks": checks.map {
                    ["name": $0.name, "requirement": $0.requirement, "passed": $0.passed, "detail": $0.detail] as [String: Any]
                },
            ])
        } else {
            print(
                Table.render(
                    header: ["check", "requirement", "result", "detail"],
                    rows: checks.map { [$0.name, $0.requirement, $0.passed ? "pass" : "FAIL", $0.detail] }))
            print("")
            print("\(passed)/\(checks.count) checks passed (\(identity.family) \(identity.serial) served at \(device))")
        }
        if passed != checks.count { throw ExitCode(1) }
    }
}
