import PNNCore
import PNNLink
import PNNWire

/// The device side of a loopback board: executes the loopback command set with the
/// board's own range checks, counting every refused value in `violations`.
public actor LoopbackEmulator: DeviceEndpoint {
    public nonisolated let hello: HelloReply
    public nonisolated let geometry: LoopbackGeometry
    private var physics: LoopbackPhysics
    private var violations: UInt32 = 0
    private var safe = true

    /// An emulated board around `physics`; `serial` goes into the hello.
    public init(physics: LoopbackPhysics, serial: String) {
        self.physics = physics
        self.geometry = physics.geometry
        self.hello = HelloReply(
            schemaHash: LoopbackCommand.schemaHash, family: LoopbackFamily.family, model: "pnnlab-emu-loopback",
            serial: serial, firmware: "emu-1.0", capabilities: LoopbackCommand.emulatorBit,
            descriptor: physics.geometry.encode())
    }

    /// Out-of-range values received and refused so far.
    public var violationCount: Int { Int(violations) }

    public func sessionReset() async {}

    public func handle(_ type: FrameType, payload: [UInt8], push: StreamPusher) async throws(ErrorReply) -> [UInt8] {
        var r = PayloadReader(payload)
        do throws {
            let reply = try dispatch(type, &r)
            try r.expectEnd()
            return reply
        } catch let refusal as ErrorReply {
            throw refusal
        } catch {
            throw ErrorReply(code: .badPayload, message: "\(error)")
        }
    }

    private func dispatch(_ type: FrameType, _ r: inout PayloadReader) throws -> [UInt8] {
        var w = PayloadWriter()
        switch type {
        case LoopbackCommand.identify:
            return LoopbackStatus(
                theta: physics.theta, vectors: UInt32(truncatingIfNeeded: physics.vectors), violations: violations,
                safe: safe
            ).encode()
        case LoopbackCommand.setGain:
            let theta = try r.f64("theta")
            try checkTheta(theta)
            physics.theta = theta
            safe = false
            w.f64(physics.theta)
        case LoopbackCommand.readGain:
            w.f64(physics.theta)
        case LoopbackCommand.measure:
            let (repeats, inputs) = try readInputs(&r)
            w.f64s(physics.forward(inputs, theta: physics.theta, repeats: repeats).storage)
        case LoopbackCommand.probe:
            let theta = try r.f64("theta")
            try checkTheta(theta)
            let (repeats, inputs) = try readInputs(&r)
            w.f64s(physics.forward(inputs, theta: theta, repeats: repeats).storage)
        case LoopbackCommand.emulatorTruth:
            w.f64(physics.gain)
        case LoopbackCommand.safeState:
            physics.theta = geometry.thetaMin
            safe = true
        default:
            throw ErrorReply(code: .unknownCommand, message: "type \(type) is not a loopback command")
        }
        return w.bytes
    }

    private func readInputs(_ r: inout PayloadReader) throws -> (Int, Matrix) {
        let repeats = Int(try r.u16("repeats"))
        let n = Int(try r.u16("n"))
        guard (1...1_000).contains(repeats) else {
            throw PayloadError.invalidValue(field: "repeats", reason: "must be 1…1000")
        }
        guard (1...geometry.maxBatch).contains(n) else {
            throw PayloadError.invalidValue(field: "n", reason: "must be 1…\(geometry.maxBatch)")
        }
        let values = try r.f64s(n * geometry.lines, field: "v")
        for v in values where !(v.isFinite && abs(v) <= geometry.vMax) {
            throw refuse("input \(v) V is outside ±\(geometry.vMax) V")
        }
        return (repeats, Matrix(rows: n, cols: geometry.lines, storage: values))
    }

    private func checkTheta(_ theta: Double) throws {
        guard theta.isFinite, theta >= geometry.thetaMin, theta <= geometry.thetaMax else {
            throw refuse("θ = \(theta) is outside [\(geometry.thetaMin), \(geometry.thetaMax)]")
        }
    }

    private func refuse(_ message: String) -> ErrorReply {
        violations &+= 1
        return ErrorReply(code: .outOfRange, message: message)
    }
}
