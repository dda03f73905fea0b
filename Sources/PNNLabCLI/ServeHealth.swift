import ArgumentParser
import Foundation
import PNNRemote

/// `pnnlab conformance remote://HOST:PORT/NAME`: the health check of a served device
/// (`RemoteHealth`), printed like the wire-protocol conformance suite.
enum ServeHealth {
    static func run(_ device: String, json: Bool) async throws {
        let address = try RemoteDeviceAddress(parsing: device)
        let (identity, checks) = try await RemoteHealth.run(address)
        let report = ConformanceReport(
            port: device, family: identity.family, serial: identity.serial,
            checks: checks.map { .init(name: $0.name, requirement: $0.requirement, passed: $0.passed, detail: $0.detail) })
        try report.print(json: json, requirementHeader: "requirement", where: "served at \(device)")
    }
}
