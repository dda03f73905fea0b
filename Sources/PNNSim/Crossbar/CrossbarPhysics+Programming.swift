/// How one program-and-verify operation ended.
public struct VerifyOutcome: Sendable, Equatable {
    /// The last (noisy) verify read, µS.
    public var readBack: Double
    /// Pulses sent to the device.
    public var pulses: Int
    /// Whether the last read was within tolerance of the target.
    public var converged: Bool
}

extension CrossbarPhysics {
    /// Sends one SET (`set == true`) or RESET pulse to `device`: a soft-bounds step from
    /// the present conductance, with cycle-to-cycle write noise, clipped to the device's
    /// window. Stuck devices do not move. Costs `pulseTime`.
    public mutating func pulse(device d: Int, set: Bool) {
        precondition(d >= 0 && d < deviceCount, "device \(d) does not exist")
        counters.pulses += 1
        defer { clock += config.pulseTime }
        if stuck[d] { return }
        let lo = deviceGMin[d]
        let hi = deviceGMax[d]
        let g = min(max(drifted(d, at: clock), lo), hi)
        let noise = config.writeNoise > 0 ? 1 + config.writeNoise * rng.normal() : 1
        let step = set ? alphaSet[d] * (hi - g) : -alphaReset[d] * (g - lo)
        programmed[d] = min(max(g + step * noise, lo), hi)
        programmedAt[d] = clock
        deviceChanged(d)
    }

    /// One noisy read of one device, µS. Costs `verifyReadTime`.
    public mutating func read(device d: Int) -> Double {
        precondition(d >= 0 && d < deviceCount, "device \(d) does not exist")
        counters.reads += 1
        let g = drifted(d, at: clock)
        clock += config.verifyReadTime
        return config.readNoise > 0 ? g * (1 + config.readNoise * rng.normal()) : g
    }

    /// Noisy reads of every device, in parameter order, µS.
    public mutating func readConductances() -> [Double] {
        (0..<deviceCount).map { read(device: $0) }
    }

    /// Program-and-verify `device` to `target` µS and return the verified read-back:
    /// read; above target + tolerance → RESET pulse, below target − tolerance → SET pulse;
    /// repeat until a read is within tolerance or `maxPulses` pulses were sent.
    @discardableResult
    public mutating func programAndVerify(device d: Int, target: Double) -> Double {
        programAndVerifyDetailed(device: d, target: target).readBack
    }

    /// Program-and-verify with the pulse count and whether tolerance was reached.
    public mutating func programAndVerifyDetailed(device d: Int, target: Double) -> VerifyOutcome {
        precondition(d >= 0 && d < deviceCount, "device \(d) does not exist")
        precondition(target.isFinite, "target must be finite")
        counters.programAndVerifyCalls += 1
        targets[d] = target
        let tol = config.tolerance
        if config.exactProgramming && !stuck[d] {
            programmed[d] = min(max(target, deviceGMin[d]), deviceGMax[d])
            programmedAt[d] = clock
            deviceChanged(d)
            let r = read(device: d)
            return finish(VerifyOutcome(readBack: r, pulses: 0, converged: abs(r - target) <= tol))
        }
        var pulses = 0
        while true {
            let r = read(device: d)
            if r > target + tol, pulses < config.maxPulses {
                pulse(device: d, set: false)
            } else if r < target - tol, pulses < config.maxPulses {
                pulse(device: d, set: true)
            } else {
                return finish(VerifyOutcome(readBack: r, pulses: pulses, converged: abs(r - target) <= tol))
            }
            pulses += 1
        }
    }

    private mutating func finish(_ outcome: VerifyOutcome) -> VerifyOutcome {
        if !outcome.converged { counters.unconvergedVerifies += 1 }
        return outcome
    }

    /// Program-and-verify every device to `targets` (parameter order) and return the
    /// verified read-backs, µS.
    public mutating func program(_ targets: [Double]) -> [Double] {
        precondition(targets.count == deviceCount, "expected \(deviceCount) targets, got \(targets.count)")
        return targets.indices.map { programAndVerify(device: $0, target: targets[$0]) }
    }
}
