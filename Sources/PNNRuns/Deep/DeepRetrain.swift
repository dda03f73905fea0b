import Foundation
import PNNCore
import PNNStore
import PNNTraining

/// A PIB run that retrains the units after a given one of an earlier run, from that run's
/// last parameters, on what the devices measure now — how seed 003 (Fig. 2D) recovered
/// from an ADC that broke mid-operation: the units before `fromUnit` stay as they are
/// deployed, the later ones learn from their (corrupted) outputs. `brokenConverters` breaks twin
/// converters first, to reproduce that fault on a twin; it is re-applied whenever the units
/// are opened again (a resumed run sees the same fault).
public struct DeepRetrain: Sendable, Codable, Equatable {
    /// One converter to break: unit (from 1) and physical readout channel (from 0).
    public struct BrokenChannel: Sendable, Codable, Equatable {
        public var unit: Int
        public var channel: Int

        public init(unit: Int, channel: Int) {
            self.unit = unit
            self.channel = channel
        }

        /// Parses `UNIT:CHANNEL` (`--break-adc 1:5`).
        public init(parsing text: String) throws(RunError) {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let u = Int(parts[0]), let c = Int(parts[1]), u >= 1, c >= 0 else {
                throw .invalid("--break-adc takes UNIT:CHANNEL (unit from 1, ADC column from 0), e.g. 1:5; got '\(text)'")
            }
            self.init(unit: u, channel: c)
        }
    }

    /// The run whose last parameters this one starts from.
    public var baseRun: Int64
    /// The first unit retrained (from 1; at least 2: unit 1 has no unit before it to adapt to).
    public var fromUnit: Int
    public var brokenConverters: [BrokenChannel]

    public init(baseRun: Int64, fromUnit: Int, brokenConverters: [BrokenChannel] = []) {
        self.baseRun = baseRun
        self.fromUnit = fromUnit
        self.brokenConverters = brokenConverters
    }
}

extension TrainRequest {
    /// The plan of a retraining run: run `base`'s plan (a PIB cascade) with `retrain` set.
    /// DEVICE must be the one `base` trained on (a twin is rebuilt from what it recorded).
    public func retrainPlan(_ retrain: DeepRetrain, store: RunStore) throws -> DeepPlan {
        let record = try store.run(id: retrain.baseRun)
        guard var plan = DeepPlan.from(json: record.configJSON) else {
            throw RunError.invalid("run \(retrain.baseRun) is not a deep run; --retrain continues a pib cascade")
        }
        guard plan.method == .pib, plan.parallel != true else {
            throw RunError.invalid(
                "run \(retrain.baseRun) trained with \(plan.method.rawValue)\(plan.parallel == true ? " --parallel" : ""); --retrain retrains the later units of a pib cascade"
            )
        }
        guard device == plan.device else {
            throw RunError.invalid("run \(retrain.baseRun) trained on \(plan.device); retrain it on the same DEVICE")
        }
        guard try store.lastStep(runID: retrain.baseRun) != nil else {
            throw RunError.invalid("run \(retrain.baseRun) has no committed step to start from")
        }
        let units = plan.layers.count
        guard units >= 2, (2...units).contains(retrain.fromUnit) else {
            throw RunError.invalid(
                "--from-unit must be between 2 and \(units) (run \(retrain.baseRun) has \(units) unit\(units == 1 ? "" : "s"); unit 1 has nothing before it to adapt to)"
            )
        }
        for b in retrain.brokenConverters where !(1...units).contains(b.unit) {
            throw RunError.invalid("--break-adc \(b.unit):\(b.channel): run \(retrain.baseRun) has units 1…\(units)")
        }
        if let epochs { plan.trainer.epochs = epochs }
        if let baud { plan.baud = baud }
        plan.retrain = retrain
        return plan
    }
}

extension DeepPlan {
    /// Breaks the converters `retrain` names on the opened units (twins only).
    func applyFaults(to devices: [any Substrate]) async throws {
        for b in retrain?.brokenConverters ?? [] {
            guard let unit = devices[b.unit - 1] as? any ReadoutFaults else {
                throw RunError.invalid(
                    "--break-adc breaks a twin's converter; unit \(b.unit) (\(devices[b.unit - 1].descriptor.identity.summary)) cannot be broken on demand"
                )
            }
            let count = await unit.readoutChannelCount
            guard (0..<count).contains(b.channel) else {
                throw RunError.invalid("--break-adc \(b.unit):\(b.channel): unit \(b.unit) has readout channels 0…\(count - 1)")
            }
            try await unit.breakReadout(channel: b.channel)
        }
    }

    /// A retraining run's first state: the base run's last parameters on every unit, PIB at
    /// the first epoch of `fromUnit`, fresh optimiser moments.
    public func retrainState(trainer: DeepTrainer, store: RunStore) throws -> DeepState? {
        guard let retrain else { return nil }
        guard let last = try store.lastStep(runID: retrain.baseRun) else {
            throw RunError.invalid("run \(retrain.baseRun) has no committed step to start from")
        }
        let fresh = DeepState(theta: trainer.initialTheta, rng: SeededRandom.derived(seed: seed, stream: 0xDEE9_5A3D))
        guard var state = fresh.withParameters(last.parameters, sizes: trainer.parameterCounts) else {
            throw RunError.invalid(
                "run \(retrain.baseRun)'s last step holds \(last.parameters.count) parameters; the units have \(trainer.parameterCounts.reduce(0, +))"
            )
        }
        state.epoch = (retrain.fromUnit - 1) * trainer.epochs
        return state
    }
}
