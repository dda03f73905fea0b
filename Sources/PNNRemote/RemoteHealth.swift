import Foundation
import PNNCore
import PNNDevices

/// A health check of a device served by `pnnlab serve` (`pnnlab conformance remote://…`):
/// the substrate-level counterpart of the wire-protocol conformance suite, run through the
/// server. Nothing is programmed and no value outside the safe ranges reaches the device
/// (the one unsafe input sent must be refused by the server, which is what it checks).
public enum RemoteHealth {
    /// One check's outcome.
    public struct Check: Sendable, Equatable {
        public var name: String
        /// What it asks of the server and device.
        public var requirement: String
        public var passed: Bool
        public var detail: String
    }

    /// Runs every check on `address`; throws only when the server cannot be reached at all.
    public static func run(
        _ address: RemoteDeviceAddress, registry: FamilyRegistry = .standard,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> (identity: DeviceIdentity, checks: [Check]) {
        let remote = try await RemoteSubstrate.open(address, lease: false, environment: environment)
        defer { Task { await remote.close() } }
        let d = remote.descriptor
        var checks: [Check] = []
        func check(_ name: String, _ requirement: String, _ body: () async throws -> (Bool, String)) async {
            do {
                let (passed, detail) = try await body()
                checks.append(Check(name: name, requirement: requirement, passed: passed, detail: detail))
            } catch {
                checks.append(Check(name: name, requirement: requirement, passed: false, detail: "\(error)"))
            }
        }

        await check("family", "the device's family has a driver here") {
            let known = registry.family(named: d.identity.family) != nil
            return (known, known ? "\(d.identity.summary)" : "no driver for '\(d.identity.family)'")
        }
        await check("descriptor", "safe ranges ordered, channel counts positive") {
            let p = d.parameters
            let ordered =
                zip(p.lower, p.upper).allSatisfy { $0 <= $1 } && d.inputs.lower <= d.inputs.upper
                && d.outputs.lower <= d.outputs.upper
            let ok = ordered && p.count > 0 && d.inputs.count > 0 && d.outputs.count > 0 && d.maxBatch > 0
            return (ok, "\(p.count) parameters (\(p.unit.symbol)), \(d.inputs.count) inputs, \(d.outputs.count) outputs")
        }
        await check("read back", "every parameter reads back finite, within its safe range (±5 % of span)") {
            let theta = try await remote.readParameters()
            guard theta.count == d.parameters.count else {
                return (false, "\(theta.count) values for \(d.parameters.count) parameters")
            }
            let outside = theta.indices.filter { i in
                let span = d.parameters.upper[i] - d.parameters.lower[i]
                return !theta[i].isFinite || theta[i] < d.parameters.lower[i] - 0.05 * span
                    || theta[i] > d.parameters.upper[i] + 0.05 * span
            }
            return (outside.isEmpty, outside.isEmpty ? "\(theta.count) values" : "parameters \(outside.prefix(5)) outside")
        }
        let mid = Matrix(
            rows: 2, cols: d.inputs.count,
            storage: (0..<(2 * d.inputs.count)).map { k in
                d.inputs.lower + (d.inputs.upper - d.inputs.lower) * (k < d.inputs.count ? 0.5 : 0.25)
            })
        await check("measure", "a 2-row batch at safe inputs gives 2 finite output rows of the declared width") {
            let y = try await remote.measure(mid)
            let ok = y.rows == 2 && y.cols == d.outputs.count && y.storage.allSatisfy(\.isFinite)
            return (ok, "\(y.rows) × \(y.cols) \(d.outputs.unit.symbol)")
        }
        await check("server-side safety", "an input beyond its range, sent unchecked, is refused by the server") {
            var unsafe = mid
            let span = max(abs(d.inputs.upper), abs(d.inputs.lower), 1e-9)
            unsafe[0, 0] = d.inputs.upper + 10 * span
            do {
                _ = try await remote.uncheckedMeasure(unsafe)
                return (false, "the server measured \(unsafe[0, 0]) \(d.inputs.unit.symbol)")
            } catch RemoteError.refused(_, let message) where message.contains("refused by the server") {
                return (true, "refused: \(message.prefix(80))")
            }
        }
        await check("round trip", "median one-row measure round trip under 1 s") {
            let one = mid.rowSlice(0..<1)
            var times: [Double] = []
            for _ in 0..<20 {
                let t0 = DispatchTime.now().uptimeNanoseconds
                _ = try await remote.measure(one)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            }
            times.sort()
            return (times[10] < 1, String(format: "%.2f ms", times[10] * 1e3))
        }
        await check("lease", "one write lease: granted when free, a second writer refused naming the holder") {
            let holder = "pnnlab conformance (health check)"
            do {
                try await remote.acquireLease(holder: holder)
            } catch RemoteError.refused(_, let message) where message.contains("in use") {
                return (true, "in use now, lease checks skipped: \(message.prefix(100))")
            }
            defer { Task { await remote.releaseLease() } }
            let second = try await RemoteSubstrate.open(address, lease: false, environment: environment)
            defer { Task { await second.close() } }
            do {
                try await second.acquireLease(holder: "second writer")
                return (false, "a second writer was granted the lease")
            } catch RemoteError.refused(_, let message) where message.contains(holder) {
                try await remote.enterSafeState()
                return (true, "second writer refused; safe state entered with the lease")
            }
        }
        if d.capabilities.contains(.nodeReadout) || d.capabilities.contains(.clampable) {
            await check("capabilities", "declared capabilities answer (\(d.capabilities.names.joined(separator: ", ")))") {
                let full = try remote.withCapabilities()
                var notes: [String] = []
                if let nodes = full as? any NodeReadout, d.capabilities.contains(.nodeReadout) {
                    let v = try await nodes.readNodes(.free)
                    guard v.count == nodes.topology.nodeCount, v.allSatisfy(\.isFinite) else {
                        return (false, "\(v.count) node voltages for \(nodes.topology.nodeCount) nodes")
                    }
                    notes.append("\(v.count) node voltages")
                }
                if let learner = full as? any SelfLearning, d.capabilities.contains(.selfLearning) {
                    guard learner.maxLearnSeconds > 0 else { return (false, "longest learning interval is 0 s") }
                    notes.append("learns up to \(learner.maxLearnSeconds) s")
                }
                let clampable = !d.capabilities.contains(.clampable) || full is any Clampable
                return (clampable, notes.joined(separator: ", "))
            }
        }
        return (d.identity, checks)
    }
}
