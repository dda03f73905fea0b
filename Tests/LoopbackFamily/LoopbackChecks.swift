import PNNLink
import PNNWire

/// Loopback-specific conformance checks: the descriptor parses, outputs are proportional to
/// θ·x, and an out-of-range θ is refused.
enum LoopbackChecks {
    static func geometry(_ c: ConformanceContext) throws -> LoopbackGeometry {
        do {
            return try LoopbackGeometry.decode(c.hello.descriptor)
        } catch {
            throw ConformanceFailure("hello descriptor does not parse: \(error)")
        }
    }

    static func measure(_ c: ConformanceContext, _ g: LoopbackGeometry, theta: Double) async throws -> [Double] {
        var w = PayloadWriter()
        w.f64(theta)
        w.u16(4)
        w.u16(1)
        w.f64s((0..<g.lines).map { g.vMax * Double($0 + 1) / Double(g.lines) })
        let p = try await c.client.request(LoopbackCommand.probe, payload: w.bytes, retry: .idempotent)
        guard p.count == g.lines * 8 else { throw ConformanceFailure("probe: \(p.count) bytes for \(g.lines) outputs") }
        var r = PayloadReader(p)
        return try r.f64s(g.lines, field: "y")
    }

    static let all: [ConformanceCheck] = [
        ConformanceCheck(name: "descriptor", requirement: "loopback descriptor") { c in
            let g = try geometry(c)
            return "\(g.lines) lines, θ \(g.thetaMin)…\(g.thetaMax), ±\(g.vMax) V, batch ≤ \(g.maxBatch)"
        },
        ConformanceCheck(name: "outputs ∝ θ·x", requirement: "0x64 probe at two θ") { c in
            let g = try geometry(c)
            let lo = try await measure(c, g, theta: g.thetaMin)
            let hi = try await measure(c, g, theta: g.thetaMax)
            let expected = g.thetaMax / g.thetaMin
            let ratio = hi.reduce(0, +) / lo.reduce(0, +)
            guard ratio.isFinite, abs(ratio / expected - 1) < 0.01 else {
                throw ConformanceFailure(
                    "output ratio \(ratio) between θ = \(g.thetaMax) and \(g.thetaMin), expected \(expected)")
            }
            return "output ratio \(String(format: "%.4f", ratio)) for a θ ratio of \(expected)"
        },
        ConformanceCheck(name: "θ out of range refused", requirement: "0x61 setGain → outOfRange") { c in
            let g = try geometry(c)
            var w = PayloadWriter()
            w.f64(g.thetaMax * 2)
            return try await c.expectError(.outOfRange, type: LoopbackCommand.setGain, payload: w.bytes)
        },
    ]
}
