import Foundation
import PNNCore

/// One in-situ training method bound to one device and one task. Stateless between
/// calls: all progress lives in `TrainerState`, so a step can be replayed from a
/// checkpoint after a crash or unplug.
public struct Trainer: Sendable {
    public let substrate: any Substrate
    public let method: TrainingMethod
    public let config: TrainerConfig
    public let task: PreparedTask
    public let readout: Readout
    public let epochs: Int
    public let learningRate: Double

    public init(substrate: any Substrate, method: TrainingMethod, config: TrainerConfig, task: PreparedTask) throws(TrainingError)
    {
        let d = substrate.descriptor
        guard d.inputs.count == task.trainInputs.cols else {
            throw .shapeMismatch(
                "task \(task.name.rawValue) with \(task.encoder.encoding.rawValue) encoding needs \(task.trainInputs.cols) input lines; device \(d.identity.summary) has \(d.inputs.count)"
            )
        }
        guard d.outputs.count >= task.classCount else {
            throw .shapeMismatch(
                "task \(task.name.rawValue) has \(task.classCount) classes; device \(d.identity.summary) has only \(d.outputs.count) outputs"
            )
        }
        if task.name.isRegression && method == .readout {
            throw .invalidConfig("task \(task.name.rawValue) is a regression; the readout method fits classifiers only")
        }
        guard config.batchSize >= 1, config.repeats >= 1, config.stepResolutions > 0, config.jacobianRefresh >= 1 else {
            throw .invalidConfig("batch_size, repeats, step_resolutions and jacobian_refresh must be positive")
        }
        self.substrate = substrate
        self.method = method
        self.config = config
        self.task = task
        let gain = config.resolvedGain(outputFullScale: max(abs(d.outputs.lower), abs(d.outputs.upper)))
        self.readout = Readout(kind: config.readout, gain: gain, targetCurrent: config.targetCurrent)
        // The readout method measures once and fits once: one epoch of one step, whatever is asked.
        self.epochs = method == .readout ? 1 : config.resolvedEpochs(for: method)
        // A regression's Gauss–Newton step aims at the whole residual t − y at once (no
        // softmax logit step to temper it), so its default η is 0.2: at 0.5 the multiplier
        // (the one regression) fell into a wrong basin on 1 seed of 8, at 0.2 on none.
        if task.name.isRegression && method == .gaussNewton && config.learningRate == nil {
            self.learningRate = 0.2
        } else {
            self.learningRate = config.resolvedLearningRate(for: method, gain: gain)
        }
    }

    public var batchesPerEpoch: Int { method == .readout ? 1 : (task.train.count + batchSize - 1) / batchSize }

    /// Whether steps reuse a Jacobian across steps (`jacobian_refresh` > 1, gradient or Gauss–Newton).
    public var reusesJacobian: Bool { config.jacobianRefresh > 1 && method != .spsa }

    /// Samples per step: the whole training split when the Jacobian is reused (it is only
    /// valid on the inputs it was measured on), else `batch_size`.
    public var batchSize: Int { reusesJacobian ? max(task.train.count, 1) : config.batchSize }

    /// A fresh state: every differential pair at mid-window with a small seeded spread
    /// (so outputs start near zero), programmed onto the device.
    public func initialState(seed: UInt64) async throws -> TrainerState {
        let space = substrate.descriptor.parameters
        let (theta, order, rng) = Self.freshDraws(
            seed: seed, lower: space.lower, upper: space.upper, trainCount: task.train.count)
        _ = try await substrate.setParameters(theta)
        return TrainerState(
            epoch: 0, batchIndex: 0, globalStep: 0, theta: theta, order: order, rng: rng,
            cumulativeMeasurements: 0, wallSeconds: 0)
    }

    /// The seeded draws of a fresh state: parameters at mid-window with a small spread, then
    /// the first epoch's sample order.
    static func freshDraws(seed: UInt64, lower: [Double], upper: [Double], trainCount: Int) -> (
        theta: [Double], order: [Int], rng: SeededRandom
    ) {
        var rng = SeededRandom.derived(seed: seed, stream: 0x7_4A1)
        var theta = [Double](repeating: 0, count: lower.count)
        for i in theta.indices {
            let mid = 0.5 * (lower[i] + upper[i])
            let span = upper[i] - lower[i]
            theta[i] = min(max(mid + 0.05 * span * (rng.uniform() - 0.5), lower[i]), upper[i])
        }
        var order = Array(0..<trainCount)
        order.shuffle(using: &rng)
        return (theta, order, rng)
    }

    /// The first epoch's sample order of a fresh run with `seed` on a device with
    /// `parameterCount` parameters (what the export uses to name the samples of step 1).
    public static func initialOrder(seed: UInt64, parameterCount: Int, trainCount: Int) -> [Int] {
        let zeros = [Double](repeating: 0, count: parameterCount)
        return freshDraws(seed: seed, lower: zeros, upper: zeros, trainCount: trainCount).order
    }

    /// The run's digital ceiling: this task's encoded inputs and split, a linear map and this
    /// readout, trained digitally with exact arithmetic (`DigitalCeiling`). Measures nothing.
    public func digitalCeiling() throws(TrainingError) -> DigitalCeiling {
        try DigitalCeiling.fit(task: task, readout: readout)
    }

    /// Reprogram the device with a checkpoint's parameters (after a resume or reconnect).
    public func restore(_ state: TrainerState) async throws {
        _ = try await substrate.setParameters(state.theta)
    }

    /// Whether the run has finished all epochs.
    public func isFinished(_ state: TrainerState) -> Bool { state.epoch >= epochs }

    /// Run one step (one batch) and advance `state`. Returns the report and the measured
    /// blocks worth keeping. On a device that flags saturated readings
    /// (``SaturationReporting``), the report and the state count the step's.
    public func step(_ state: inout TrainerState) async throws -> (StepReport, [MeasuredMatrix]) {
        let counter = substrate as? any SaturationReporting
        let before = await counter?.saturatedReadings()
        var (report, blocks) = method == .readout ? try await readoutStep(&state) : try await deviceStep(&state)
        if let counter, let before {
            let flagged = max(0, await counter.saturatedReadings() - before)
            report.saturatedReadings = flagged
            state.saturatedReadings = (state.saturatedReadings ?? 0) + flagged
        }
        return (report, blocks)
    }

    /// One step of the gradient, Gauss–Newton or SPSA method.
    func deviceStep(_ state: inout TrainerState) async throws -> (StepReport, [MeasuredMatrix]) {
        let start = DispatchTime.now().uptimeNanoseconds
        let lo = state.batchIndex * batchSize
        let hi = min(lo + batchSize, state.order.count)
        // A reused Jacobian's rows follow the samples in a fixed order.
        let indices = reusesJacobian ? Array(0..<task.train.count) : Array(state.order[lo..<hi])
        let inputs = task.trainInputs.rows(at: indices)
        let labels = indices.map { task.train.labels[$0] }
        let targets = task.train.targets.map { t in indices.map { t[$0] } }
        let space = substrate.descriptor.parameters

        var measurements = 0
        var baseOutputs: Matrix
        var delta: [Double]
        var recordedJacobian: Matrix?
        switch method {
        case .gradient, .gaussNewton:
            let fullJacobian: Matrix
            if reusesJacobian, var cache = state.jacobianCache, cache.age + 1 < config.jacobianRefresh,
                cache.outputs.rows == inputs.rows
            {
                // Broyden step: one base measurement, a rank-one update of the kept Jacobian.
                let base = try await measure(inputs, repeats: config.repeats)
                measurements += base.measurements
                cache.update(theta: state.theta, outputs: base.outputs)
                state.jacobianCache = cache
                baseOutputs = base.outputs
                fullJacobian = cache.jacobian
            } else {
                let estimator = JacobianEstimator(
                    scheme: config.scheme, stepResolutions: config.stepResolutions, repeats: config.repeats)
                let estimate = try await estimator.estimate(on: substrate, theta: state.theta, inputs: inputs)
                measurements += estimate.measurements
                baseOutputs = estimate.baseOutputs
                fullJacobian = estimate.jacobian
                if reusesJacobian {
                    state.jacobianCache = JacobianCache(
                        jacobian: estimate.jacobian, theta: state.theta, outputs: estimate.baseOutputs)
                }
            }
            let y = classOutputs(baseOutputs)
            let jac = classJacobian(fullJacobian, outputs: baseOutputs.cols)
            if config.recordJacobians && state.batchIndex == 0 { recordedJacobian = jac }
            if method == .gradient {
                let g = targets.map { RegressionLoss.gradient(y, targets: $0) } ?? readout.gradient(y, labels: labels)
                delta = UpdateRule.gradientStep(jacobian: jac, lossGradient: g, learningRate: learningRate)
            } else {
                let e =
                    targets.map { RegressionLoss.outputStep(y, targets: $0) }
                    ?? readout.outputStep(y, labels: labels, logitStep: config.logitStep)
                delta = try UpdateRule.gaussNewtonStep(
                    jacobian: jac, outputStep: e, learningRate: learningRate, solver: config.solver,
                    damping: config.damping, cutoff: config.cutoff)
            }
        case .readout:
            preconditionFailure("the readout method runs readoutStep")
        case .spsa:
            let spsa = SPSA(a: learningRate, c: config.spsaPerturbation)
            let k = state.globalStep
            let ck = spsa.perturbation(k)
            let signs = (0..<space.count).map { _ in state.rng.rademacher() }
            var plus: [ParameterChange] = []
            var minus: [ParameterChange] = []
            for i in 0..<space.count {
                let range = space.upper[i] - space.lower[i]
                plus.append(
                    ParameterChange(
                        index: i, value: min(max(state.theta[i] + ck * range * signs[i], space.lower[i]), space.upper[i])))
                minus.append(
                    ParameterChange(
                        index: i, value: min(max(state.theta[i] - ck * range * signs[i], space.lower[i]), space.upper[i])))
            }
            let probes = [
                Probe(id: 0, inputs: inputs, repeats: config.repeats),
                Probe(id: 1, changes: plus, inputs: inputs, repeats: config.repeats),
                Probe(id: 2, changes: minus, inputs: inputs, repeats: config.repeats),
            ]
            var results: [Int: Matrix] = [:]
            for try await r in try substrate.stream(probes) {
                results[r.id] = r.outputs
                measurements += r.measurementCount
            }
            guard let b = results[0], let p = results[1], let m = results[2] else {
                throw SubstrateError.malformedReply("SPSA probes returned incomplete results")
            }
            baseOutputs = b
            let diff =
                batchLoss(classOutputs(p), labels: labels, targets: targets)
                - batchLoss(classOutputs(m), labels: labels, targets: targets)
            let ak = spsa.gain(k)
            delta = (0..<space.count).map { i in
                let range = space.upper[i] - space.lower[i]
                return -ak * range * diff / (2 * ck * signs[i])
            }
        }
        let loss = batchLoss(classOutputs(baseOutputs), labels: labels, targets: targets)
        state.theta = UpdateRule.apply(delta, to: state.theta, space: space)
        _ = try await substrate.setParameters(state.theta)

        // Advance the schedule; evaluate at the end of an epoch.
        state.globalStep += 1
        state.batchIndex += 1
        var blocks = config.recordOutputs ? [MeasuredMatrix(kind: "batch_outputs", matrix: baseOutputs)] : []
        if let recordedJacobian { blocks.append(MeasuredMatrix(kind: "jacobian", matrix: recordedJacobian)) }
        var trainAcc: Double?
        var testAcc: Double?
        var trainLoss: Double?
        if state.batchIndex >= batchesPerEpoch {
            let finishing = state.epoch + 1
            if finishing % max(config.evaluateEvery, 1) == 0 || finishing >= epochs {
                let eval = try await evaluate()
                measurements += eval.measurements
                // A regression has no accuracy: its RMS errors go to the checkpoint.
                trainAcc = task.name.isRegression ? nil : eval.trainAccuracy
                testAcc = task.name.isRegression ? nil : eval.testAccuracy
                trainLoss = eval.trainLoss
                state.lastTrainAccuracy = trainAcc
                state.lastTestAccuracy = testAcc
                state.lastLoss = trainLoss
                state.lastTrainRMSError = eval.trainRMSError
                state.lastTestRMSError = eval.testRMSError
                if config.recordOutputs { blocks.append(MeasuredMatrix(kind: "test_outputs", matrix: eval.testOutputs)) }
            }
            state.epoch += 1
            state.batchIndex = 0
            state.order.shuffle(using: &state.rng)
        }
        state.cumulativeMeasurements += measurements
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        state.wallSeconds += wall
        let report = StepReport(
            step: state.globalStep, epoch: min(state.epoch, epochs), epochs: epochs, batchIndex: state.batchIndex,
            batchesPerEpoch: batchesPerEpoch, loss: loss, trainAccuracy: trainAcc, testAccuracy: testAcc,
            trainLoss: trainLoss, measurements: measurements, cumulativeMeasurements: state.cumulativeMeasurements,
            wallSeconds: wall, runWallSeconds: state.wallSeconds)
        return (report, blocks)
    }

    /// Outputs on `inputs` at the device's current parameters, averaging `repeats` reads.
    func measure(_ inputs: Matrix, repeats: Int) async throws -> (outputs: Matrix, measurements: Int) {
        var outputs: Matrix?
        var measurements = 0
        for try await r in try substrate.stream([Probe(id: 0, inputs: inputs, repeats: max(repeats, 1))]) {
            outputs = r.outputs
            measurements += r.measurementCount
        }
        guard let outputs, outputs.rows == inputs.rows else {
            throw SubstrateError.malformedReply("the base measurement returned no outputs")
        }
        return (outputs, measurements)
    }

    /// Accuracy and loss on both splits at the device's current parameters.
    public struct Evaluation: Sendable {
        public var trainAccuracy: Double
        public var testAccuracy: Double
        public var trainLoss: Double
        public var testOutputs: Matrix
        public var measurements: Int
        /// Regression tasks: RMS error of output 0 on the training split (nil otherwise).
        public var trainRMSError: Double? = nil
        /// Regression tasks: RMS error of output 0 on the test split (nil otherwise).
        public var testRMSError: Double? = nil
    }

    /// Measure the whole training and test splits, averaging `evaluationRepeats` reads.
    public func evaluate() async throws -> Evaluation {
        let repeats = max(config.evaluationRepeats, 1)
        var outputs: [Int: Matrix] = [:]
        var measurements = 0
        let probes = [
            Probe(id: 0, inputs: task.trainInputs, repeats: repeats), Probe(id: 1, inputs: task.testInputs, repeats: repeats),
        ]
        for try await r in try substrate.stream(probes) {
            outputs[r.id] = r.outputs
            measurements += r.measurementCount
        }
        guard let train = outputs[0], let test = outputs[1] else {
            throw SubstrateError.malformedReply("evaluation probes returned incomplete results")
        }
        let yTrain = classOutputs(train)
        let yTest = classOutputs(test)
        if let trainTargets = task.train.targets, let testTargets = task.test.targets {
            return Evaluation(
                trainAccuracy: 0, testAccuracy: 0, trainLoss: RegressionLoss.loss(yTrain, targets: trainTargets),
                testOutputs: yTest, measurements: measurements,
                trainRMSError: RegressionLoss.rmsError(yTrain, targets: trainTargets),
                testRMSError: RegressionLoss.rmsError(yTest, targets: testTargets))
        }
        return Evaluation(
            trainAccuracy: readout.accuracy(yTrain, labels: task.train.labels),
            testAccuracy: readout.accuracy(yTest, labels: task.test.labels),
            trainLoss: readout.loss(yTrain, labels: task.train.labels), testOutputs: yTest, measurements: measurements)
    }

    /// The loss of a batch: the readout's for a classification, ½·MSE for a regression.
    func batchLoss(_ y: Matrix, labels: [Int], targets: [Double]?) -> Double {
        targets.map { RegressionLoss.loss(y, targets: $0) } ?? readout.loss(y, labels: labels)
    }

    /// The first `classCount` output channels (a device may have spare outputs).
    func classOutputs(_ y: Matrix) -> Matrix {
        let k = task.classCount
        if y.cols == k { return y }
        var out = Matrix(rows: y.rows, cols: k)
        for r in 0..<y.rows { for c in 0..<k { out[r, c] = y[r, c] } }
        return out
    }

    /// Jacobian rows of the class outputs only.
    func classJacobian(_ jac: Matrix, outputs: Int) -> Matrix {
        let k = task.classCount
        if outputs == k { return jac }
        let batch = jac.rows / outputs
        var keep: [Int] = []
        for b in 0..<batch { for c in 0..<k { keep.append(b * outputs + c) } }
        return jac.rows(at: keep)
    }
}

/// Problems setting up or running training, phrased for the user.
/// A matrix of measured values a step keeps (the batch's outputs, the test split's outputs),
/// named by what it holds; the recording layer decides where it goes.
public struct MeasuredMatrix: Sendable, Equatable {
    /// What it holds, e.g. `batch_outputs`.
    public var kind: String
    public var matrix: Matrix

    public init(kind: String, matrix: Matrix) {
        self.kind = kind
        self.matrix = matrix
    }
}

/// Why training could not start or continue, in words.
public enum TrainingError: Error, Equatable, CustomStringConvertible {
    case shapeMismatch(String)
    case invalidConfig(String)
    case unknownTask(String)
    case unknownMethod(String)
    case resumeMismatch(String)
    case nothingToResume(Int64)

    public var description: String {
        switch self {
        case .shapeMismatch(let m): return m
        case .invalidConfig(let m): return "invalid configuration: \(m)"
        case .unknownTask(let t):
            return "unknown task '\(t)'; choose one of \(TaskName.allCases.map(\.rawValue).joined(separator: ", "))"
        case .unknownMethod(let m):
            return "unknown method '\(m)'; choose one of \(TrainingMethod.allCases.map(\.rawValue).joined(separator: ", "))"
        case .resumeMismatch(let m): return "cannot resume: \(m)"
        case .nothingToResume(let id): return "run \(id) has already completed; nothing to resume"
        }
    }
}
