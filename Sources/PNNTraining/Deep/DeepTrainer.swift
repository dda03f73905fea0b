import Foundation
import PNNCore

/// Trains a cascade of units (`DeepArchitecture`), each a `Substrate` with its family's
/// `SubstrateModel`, by one `DeepMethod`. Stateless between calls like `Trainer`: progress
/// lives in `DeepState`. One call of `step` is one epoch of minibatch updates (Adam), so a
/// committed step carries the optimiser's moments without a checkpoint per batch; an
/// in-silico run adds one last step that programs the devices and measures them.
public struct DeepTrainer: Sendable {
    public let units: [any Substrate]
    /// The units' ideal models: the digital ceiling, the `model` accuracies, activation scales.
    public let models: [any SubstrateModel]
    /// The models training goes through (PAT's backward pass, DFA's local derivatives,
    /// in-silico's forward and backward, PIB's hidden units): `models` unless a calibrated
    /// model was given (`pnnlab train --model-profile`).
    public let trainingModels: [any SubstrateModel]
    public let method: DeepMethod
    public let config: TrainerConfig
    public let task: PreparedTask
    public let architecture: DeepArchitecture
    public let readout: Readout
    public let epochs: Int
    /// Adam step as a fraction of each parameter's range.
    public let learningRate: Double
    public let seed: UInt64
    /// The parameters every run of this plan starts from (derived from the seed).
    public let initialTheta: [[Double]]
    /// PIB: β of −I(Y;Z) + β·I(X;Z).
    public let beta: Double
    /// PIB: train the hidden units all at once after one initialisation pass (seed 003's
    /// parallel variant) instead of in cascade.
    public let parallel: Bool
    /// PIB: the first unit trained (0-based; > 0 retrains the units after it, from an earlier
    /// run's parameters, and the run's first step measures the cascade as it is).
    public let startUnit: Int

    /// Default β of the PIB objective.
    public static let defaultBeta = 0.01
    /// Smallest PIB batch: the matrix estimators need many samples per batch.
    public static let minimumPIBBatch = 128

    /// Default epochs by method.
    public static func defaultEpochs(_ method: DeepMethod) -> Int { 30 }
    /// Most epochs the digital ceiling trains for.
    public static let maxCeilingEpochs = 100
    /// Default Adam rate (fraction of each parameter's range per step).
    public static let defaultLearningRate = 0.01
    /// Initial parameters: the middle of each range ± `initialSpread`/2 of the range, uniform.
    public static let initialSpread = 0.5

    /// Checks every unit's shape against the cascade (`widths`: hidden widths, then the class
    /// count) and fixes the architecture. `task` is encoded for unit 0's input range.
    public init(
        units: [any Substrate], models: [any SubstrateModel], widths: [Int], method: DeepMethod, config: TrainerConfig,
        task: PreparedTask, seed: UInt64, beta: Double = DeepTrainer.defaultBeta, parallel: Bool = false,
        startUnit: Int = 0, trainingModels: [any SubstrateModel]? = nil
    ) throws(TrainingError) {
        guard !units.isEmpty, units.count == widths.count, models.count == units.count else {
            throw .invalidConfig("a cascade needs one device and one model per unit")
        }
        let trained = trainingModels ?? models
        guard trained.count == models.count,
            zip(trained, models).allSatisfy({
                $0.inputCount == $1.inputCount && $0.outputCount == $1.outputCount && $0.parameterCount == $1.parameterCount
            })
        else {
            throw .invalidConfig("every unit's training model needs the shape of its ideal model")
        }
        if startUnit != 0 && (method != .pib || parallel || !(1..<units.count).contains(startUnit)) {
            throw .invalidConfig("retraining starts at a later unit of a pib cascade (not --parallel)")
        }
        if parallel && (method != .pib || units.count < 2) {
            throw .invalidConfig("parallel training is PIB's (--method pib) and needs at least one hidden unit (--layers H,C)")
        }
        guard widths.last == task.classCount else {
            throw .shapeMismatch(
                "the last of --layers is the output count: task \(task.name.rawValue) has \(task.classCount) classes, not \(widths.last ?? 0)"
            )
        }
        guard config.batchSize >= 1 else { throw .invalidConfig("batch_size must be positive") }
        guard config.renyiAlpha > 0, config.renyiAlpha != 1, config.renyiAlpha.isFinite else {
            throw .invalidConfig(
                "renyi_alpha is the order of the matrix Rényi entropy: a finite α > 0 other than 1 (use 1.01 for Shannon's)")
        }
        var lines: [Int] = []
        var mid: [Double] = [], amp: [Double] = [], lower: [Double] = [], upper: [Double] = []
        for (l, unit) in units.enumerated() {
            let d = unit.descriptor
            let needed = l == 0 ? task.trainInputs.cols : widths[l - 1] + 1
            guard d.inputs.count == needed, d.outputs.count == widths[l], models[l].inputCount == needed,
                models[l].outputCount == widths[l], models[l].parameterCount == d.parameters.count
            else {
                throw .shapeMismatch(
                    "unit \(l + 1) needs \(needed) input lines and \(widths[l]) outputs; device \(d.identity.summary) has \(d.inputs.count) and \(d.outputs.count)"
                )
            }
            lines.append(needed)
            mid.append(0.5 * (d.inputs.lower + d.inputs.upper))
            amp.append(config.inputAmplitude * 0.5 * (d.inputs.upper - d.inputs.lower))
            lower.append(d.inputs.lower)
            upper.append(d.inputs.upper)
        }
        let last = units[units.count - 1].descriptor.outputs
        let gain = config.resolvedGain(outputFullScale: max(abs(last.lower), abs(last.upper)))
        var theta: [[Double]] = []
        for (l, unit) in units.enumerated() {
            let space = unit.descriptor.parameters
            var rng = SeededRandom.derived(seed: seed, stream: 0xDEE9_0000 + UInt64(l))
            theta.append(
                (0..<space.count).map { i in
                    let span = space.upper[i] - space.lower[i]
                    let mid = 0.5 * (space.lower[i] + space.upper[i])
                    return mid + Self.initialSpread * span * (rng.uniform() - 0.5)
                })
        }
        // Activation scales, unit by unit: the RMS ideal output at the initial parameters.
        var arch = DeepArchitecture(
            widths: widths, inputLines: lines, inputMid: mid, inputAmplitude: amp, inputLower: lower, inputUpper: upper,
            activationScale: [Double](repeating: 1, count: max(widths.count - 1, 0)), gain: gain)
        var x = task.trainInputs
        for l in 0..<(widths.count - 1) {
            let y = models[l].forward(theta: theta[l], inputs: x)
            let rms = (y.storage.reduce(0) { $0 + $1 * $1 } / Double(max(y.storage.count, 1))).squareRoot()
            arch.activationScale[l] = rms > 0 && rms.isFinite ? rms : 1
            x = arch.link(l, outputs: y).nextInputs
        }
        self.units = units
        self.models = models
        self.trainingModels = trained
        self.method = method
        self.config = config
        self.task = task
        self.architecture = arch
        self.readout = Readout(kind: .softmax, gain: gain, targetCurrent: config.targetCurrent)
        self.epochs = config.epochs ?? Self.defaultEpochs(method)
        self.learningRate = config.learningRate ?? Self.defaultLearningRate
        self.seed = seed
        self.initialTheta = theta
        self.beta = beta
        self.parallel = parallel
        self.startUnit = startUnit
    }

    /// Parameters per unit.
    public var parameterCounts: [Int] { units.map { $0.descriptor.parameters.count } }

    /// Minibatches per epoch.
    public var batchesPerEpoch: Int { (task.train.count + config.batchSize - 1) / config.batchSize }

    /// Committed steps of a whole run.
    public var totalSteps: Int {
        switch method {
        case .inSilico: epochs + 1
        case .pib: parallel ? 2 * epochs : epochs * (units.count - startUnit) + (startUnit > 0 ? 1 : 0)
        case .pat, .dfa: epochs
        }
    }

    /// The epoch count progress shows beside a step's epoch: a PIB cascade numbers its epochs
    /// across its units, and a retraining run continues that numbering, so it counts every unit's.
    var progressEpochs: Int { method == .pib && !parallel ? epochs * units.count : totalSteps }

    public func isFinished(_ state: DeepState) -> Bool {
        switch method {
        case .inSilico: state.deployed
        case .pib: parallel ? state.epoch >= 2 * epochs : state.epoch >= epochs * units.count
        case .pat, .dfa: state.epoch >= epochs
        }
    }

    /// A fresh state at the initial parameters, programmed onto every unit (not for an
    /// in-silico run, which touches the devices only to deploy).
    public func initialState() async throws -> DeepState {
        let state = DeepState(theta: initialTheta, rng: SeededRandom.derived(seed: seed, stream: 0xDEE9_5A3D))
        if method == .pat || method == .dfa { try await restore(state) }
        return state
    }

    /// Program every unit with the state's parameters.
    public func restore(_ state: DeepState) async throws {
        for (l, unit) in units.enumerated() { _ = try await unit.setParameters(state.theta[l]) }
    }

    // MARK: Steps

    /// One epoch of updates (or the deployment of an in-silico run); advances `state`.
    public func step(_ state: inout DeepState) async throws -> StepReport {
        if method == .pib {
            if startUnit > 0 && state.globalStep == 0 { return try await faultEvaluationStep(&state) }
            return parallel && state.epoch < epochs ? try await pibParallelStep(&state) : try await pibStep(&state)
        }
        let start = DispatchTime.now().uptimeNanoseconds
        var measurements = [Int](repeating: 0, count: units.count)
        var batchLoss = 0.0
        var trainAcc: Double?
        var testAcc: Double?
        var evalLoss: Double?
        if method == .inSilico && state.epoch >= epochs {
            // Deploy: program the trained targets, measure both splits through the devices.
            try await restore(state)
            let eval = try await evaluate(&measurements)
            state.evaluationMeasurements += eval.count
            (trainAcc, testAcc, evalLoss) = (eval.train, eval.test, eval.loss)
            batchLoss = eval.loss
            state.deployed = true
        } else {
            var order = Array(0..<task.train.count)
            order.shuffle(using: &state.rng)
            let feedback = method == .dfa ? architecture.feedbackMatrices(seed: seed) : []
            for b in 0..<batchesPerEpoch {
                let lo = b * config.batchSize
                let idx = Array(order[lo..<min(lo + config.batchSize, order.count)])
                let x = task.trainInputs.rows(at: idx)
                let labels = idx.map { task.train.labels[$0] }
                let trace: DeepTrace
                if method == .inSilico {
                    trace = architecture.modelForward(x, models: trainingModels, theta: state.theta)
                } else {
                    trace = try await architecture.forward(x) { l, xl in
                        let (y, n) = try await measure(unit: l, xl, repeats: config.repeats)
                        measurements[l] += n
                        return y
                    }
                }
                batchLoss += readout.loss(trace.logitsSource, labels: labels) / Double(batchesPerEpoch)
                let e = Matrix(rows: x.rows, cols: task.classCount, storage: readout.gradient(trace.logitsSource, labels: labels))
                let grads =
                    method == .dfa
                    ? architecture.feedbackAlignment(
                        trace, outputCotangent: e, feedback: feedback, models: trainingModels, theta: state.theta)
                    : architecture.backward(trace, outputCotangent: e, models: trainingModels, theta: state.theta)
                for l in units.indices {
                    let space = units[l].descriptor.parameters
                    let range = zip(space.upper, space.lower).map { $0 - $1 }
                    state.adam[l].step(
                        &state.theta[l], gradient: grads[l], rate: learningRate, range: range, lower: space.lower,
                        upper: space.upper)
                    if method != .inSilico { _ = try await units[l].setParameters(state.theta[l]) }
                }
            }
            state.epoch += 1
            let model = modelEvaluation(state.theta)
            state.modelTrainAccuracy = model.train
            state.modelTestAccuracy = model.test
            if method != .inSilico && (state.epoch % max(config.evaluateEvery, 1) == 0 || state.epoch >= epochs) {
                let eval = try await evaluate(&measurements)
                state.evaluationMeasurements += eval.count
                (trainAcc, testAcc, evalLoss) = (eval.train, eval.test, eval.loss)
            }
        }
        if let trainAcc {
            state.lastTrainAccuracy = trainAcc
            state.lastTestAccuracy = testAcc
            state.lastLoss = evalLoss
        }
        return closeStep(
            &state, measurements: measurements, started: start, loss: batchLoss, train: trainAcc, test: testAcc,
            trainLoss: evalLoss, epochs: epochs)
    }

    /// Closes a step: adds its measurements (per unit and in all), counts it, adds its wall
    /// time, and reports it; with `modelAccuracy`, first records the units' ideal models'
    /// accuracy at the new parameters.
    func closeStep(
        _ state: inout DeepState, measurements: [Int], started: UInt64, loss: Double, train: Double?, test: Double?,
        trainLoss: Double?, epochs reported: Int, modelAccuracy: Bool = false
    ) -> StepReport {
        if modelAccuracy {
            let model = modelEvaluation(state.theta)
            state.modelTrainAccuracy = model.train
            state.modelTestAccuracy = model.test
        }
        let total = measurements.reduce(0, +)
        for l in units.indices { state.unitMeasurements[l] += measurements[l] }
        state.cumulativeMeasurements += total
        state.globalStep += 1
        let wall = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        state.wallSeconds += wall
        return StepReport(
            step: state.globalStep, epoch: state.epoch, epochs: reported, batchIndex: 0, batchesPerEpoch: 1, loss: loss,
            trainAccuracy: train, testAccuracy: test, trainLoss: trainLoss, measurements: total,
            cumulativeMeasurements: state.cumulativeMeasurements, wallSeconds: wall, runWallSeconds: state.wallSeconds)
    }

    // MARK: Measuring

    /// Unit ℓ's outputs on `inputs`, averaging `repeats` reads, in batches the device takes.
    func measure(unit l: Int, _ inputs: Matrix, repeats: Int) async throws -> (Matrix, Int) {
        let unit = units[l]
        let maxBatch = max(1, unit.descriptor.maxBatch)
        var probes: [Probe] = []
        var start = 0
        while start < inputs.rows {
            let end = min(start + maxBatch, inputs.rows)
            probes.append(Probe(id: probes.count, inputs: inputs.rowSlice(start..<end), repeats: repeats))
            start = end
        }
        var parts = [Matrix?](repeating: nil, count: probes.count)
        var n = 0
        for try await r in try unit.stream(probes) {
            guard r.id >= 0, r.id < parts.count, r.outputs.rows == probes[r.id].inputs.rows else {
                throw SubstrateError.malformedReply("unit \(l + 1) returned outputs for no probe it was sent")
            }
            parts[r.id] = r.outputs
            n += r.measurementCount
        }
        let got = parts.compactMap { $0 }
        guard got.count == probes.count else { throw SubstrateError.malformedReply("unit \(l + 1) left probes unanswered") }
        return (Matrix.vstack(got), n)
    }

    /// Accuracy on both splits and the training loss, measured through the devices with
    /// `evaluation_repeats` reads per vector at every unit.
    func evaluate(_ measurements: inout [Int]) async throws -> (train: Double, test: Double, loss: Double, count: Int) {
        let repeats = max(config.evaluationRepeats, 1)
        var counts = [Int](repeating: 0, count: units.count)
        let logits = try await architecture.forwardLast(Matrix.vstack([task.trainInputs, task.testInputs])) { l, x in
            let (y, n) = try await measure(unit: l, x, repeats: repeats)
            counts[l] += n
            return y
        }
        for l in counts.indices { measurements[l] += counts[l] }
        let r = score(logits)
        return (r.train, r.test, r.loss, counts.reduce(0, +))
    }

    /// Accuracy on both splits of the units' ideal models at `theta`.
    public func modelEvaluation(_ theta: [[Double]]) -> (train: Double, test: Double, loss: Double) {
        score(architecture.modelForwardLast(Matrix.vstack([task.trainInputs, task.testInputs]), models: models, theta: theta))
    }

    /// Scores stacked train-then-test outputs.
    func score(_ y: Matrix) -> (train: Double, test: Double, loss: Double) {
        let n = task.train.count
        let yTrain = y.rowSlice(0..<n)
        let yTest = y.rowSlice(n..<y.rows)
        return (
            readout.accuracy(yTrain, labels: task.train.labels), readout.accuracy(yTest, labels: task.test.labels),
            readout.loss(yTrain, labels: task.train.labels)
        )
    }

    // MARK: Digital ceiling

    /// The run's digital ceiling: the same cascade (widths, digital layers, encoding, readout
    /// gain) on the same split, its units replaced by their ideal models with unbounded real
    /// parameters (no window, noise or converters), trained by exact backpropagation with the
    /// run's optimiser, rate, batch size, initial parameters and sample order, for the run's
    /// epochs but at most `maxCeilingEpochs` (a run asking for 10⁵ epochs would otherwise wait
    /// on its ceiling). Returns its test accuracy, 0…1. Measures nothing.
    public func digitalCeiling() -> Double {
        var theta = initialTheta
        var adam = theta.map { AdamState(count: $0.count) }
        var rng = SeededRandom.derived(seed: seed, stream: 0xDEE9_5A3D)
        for _ in 0..<min(epochs, Self.maxCeilingEpochs) {
            var order = Array(0..<task.train.count)
            order.shuffle(using: &rng)
            for b in 0..<batchesPerEpoch {
                let lo = b * config.batchSize
                let idx = Array(order[lo..<min(lo + config.batchSize, order.count)])
                let x = task.trainInputs.rows(at: idx)
                let labels = idx.map { task.train.labels[$0] }
                let trace = architecture.modelForward(x, models: models, theta: theta)
                let e = Matrix(rows: x.rows, cols: task.classCount, storage: readout.gradient(trace.logitsSource, labels: labels))
                let grads = architecture.backward(trace, outputCotangent: e, models: models, theta: theta)
                for l in units.indices {
                    let space = units[l].descriptor.parameters
                    let range = zip(space.upper, space.lower).map { $0 - $1 }
                    adam[l].step(&theta[l], gradient: grads[l], rate: learningRate, range: range, lower: nil, upper: nil)
                }
            }
        }
        return modelEvaluation(theta).test
    }
}
