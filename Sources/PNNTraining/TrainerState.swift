import PNNCore

/// Everything needed to continue a run exactly where its last committed step left it.
/// Saved as JSON with every step (`StepRecord.checkpointJSON`).
public struct TrainerState: Sendable, Codable, Equatable {
    /// Epoch in progress (0-based).
    public var epoch: Int
    /// Next batch within the epoch.
    public var batchIndex: Int
    /// Steps committed so far (the next step is `globalStep + 1`).
    public var globalStep: Int
    /// Parameter targets.
    public var theta: [Double]
    /// Sample order of the epoch in progress.
    public var order: [Int]
    public var rng: SeededRandom
    /// Input vectors applied since the run started.
    public var cumulativeMeasurements: Int
    /// Wall seconds spent in committed steps.
    public var wallSeconds: Double
    /// Latest evaluation: accuracy on the training split, 0…1.
    public var lastTrainAccuracy: Double?
    /// Latest evaluation: accuracy on the test split, 0…1.
    public var lastTestAccuracy: Double?
    /// Latest evaluation loss (the whole training split; `eval_loss` in results, and a run's
    /// `final_loss`). Not the batch loss of a step.
    public var lastLoss: Double?
    /// The Jacobian being reused (`jacobian_refresh` > 1). Not checkpointed (a digits-sized
    /// Jacobian is megabytes per step): a resumed run starts with a fresh estimate.
    public var jacobianCache: JacobianCache?
    /// The `readout` method's digital ceiling (nil for the other methods).
    public var readoutCeiling: ReadoutCeiling? = nil
    /// Output readings the device flagged saturated since the run started (nil: the device
    /// does not report saturation, or the checkpoint predates the count).
    public var saturatedReadings: Int? = nil
    /// Regression tasks, latest evaluation: RMS error of output 0 on the training split.
    public var lastTrainRMSError: Double? = nil
    /// Regression tasks, latest evaluation: RMS error of output 0 on the test split (grid).
    public var lastTestRMSError: Double? = nil

    enum CodingKeys: String, CodingKey {
        case epoch, batchIndex, globalStep, theta, order, rng, cumulativeMeasurements, wallSeconds
        case lastTrainAccuracy, lastTestAccuracy, lastLoss, readoutCeiling, saturatedReadings
        case lastTrainRMSError, lastTestRMSError
    }
}

/// A Jacobian kept across steps on the same inputs, with where it was last brought up to date.
///
/// Between full finite-difference estimates it follows Broyden's ("good") rank-one update
/// J ← J + (Δy − J Δθ) Δθᵀ / ‖Δθ‖², the least change to J that satisfies the secant condition
/// J Δθ = Δy on the step just taken (Broyden 1965; the rank-one Jacobian update of
/// finite-difference-free optimisation). It costs one base measurement per step instead of
/// 2·P probes. For a device linear in θ (the ideal crossbar) J is constant and the secant
/// condition holds exactly; read noise, programming error and drift make each update
/// slightly wrong in the direction of the step, and those errors accumulate — hence a full
/// estimate every `jacobian_refresh` steps, which bounds how long an error can live.
public struct JacobianCache: Sendable, Equatable {
    /// (samples · outputs) × parameters, like `JacobianEstimate.jacobian`.
    public var jacobian: Matrix
    /// Parameters the device held when `outputs` were measured.
    public var theta: [Double]
    /// Outputs at `theta` (samples × outputs).
    public var outputs: Matrix
    /// Steps since the last full estimate.
    public var age: Int

    public init(jacobian: Matrix, theta: [Double], outputs: Matrix, age: Int = 0) {
        self.jacobian = jacobian
        self.theta = theta
        self.outputs = outputs
        self.age = age
    }

    /// The Broyden update to parameters `theta` with outputs `outputs` measured there.
    public mutating func update(theta newTheta: [Double], outputs newOutputs: Matrix) {
        let dTheta = zip(newTheta, theta).map { $0 - $1 }
        let norm2 = dTheta.reduce(0) { $0 + $1 * $1 }
        if norm2 > 0 {
            let predicted = jacobian.apply(dTheta)
            let p = jacobian.cols
            for r in 0..<jacobian.rows {
                let residual = (newOutputs.storage[r] - outputs.storage[r] - predicted[r]) / norm2
                if residual == 0 { continue }
                for c in 0..<p { jacobian.storage[r * p + c] += residual * dTheta[c] }
            }
        }
        theta = newTheta
        outputs = newOutputs
        age += 1
    }
}

/// What one step did, for the store and the progress display.
public struct StepReport: Sendable {
    public var step: Int
    public var epoch: Int
    public var epochs: Int
    public var batchIndex: Int
    public var batchesPerEpoch: Int
    /// Loss on the step's batch before the update (`batch_loss` in results).
    public var loss: Double
    /// Set when this step ended an evaluated epoch.
    public var trainAccuracy: Double?
    public var testAccuracy: Double?
    /// Full-training-split loss when evaluated (`eval_loss` in results).
    public var trainLoss: Double?
    public var measurements: Int
    public var cumulativeMeasurements: Int
    public var wallSeconds: Double
    /// Wall seconds of all committed steps of the run so far.
    public var runWallSeconds: Double
    /// Output readings the device flagged saturated during this step (nil: it does not report).
    public var saturatedReadings: Int? = nil

    public init(
        step: Int, epoch: Int, epochs: Int, batchIndex: Int, batchesPerEpoch: Int, loss: Double, trainAccuracy: Double? = nil,
        testAccuracy: Double? = nil, trainLoss: Double? = nil, measurements: Int, cumulativeMeasurements: Int,
        wallSeconds: Double, runWallSeconds: Double
    ) {
        self.step = step
        self.epoch = epoch
        self.epochs = epochs
        self.batchIndex = batchIndex
        self.batchesPerEpoch = batchesPerEpoch
        self.loss = loss
        self.trainAccuracy = trainAccuracy
        self.testAccuracy = testAccuracy
        self.trainLoss = trainLoss
        self.measurements = measurements
        self.cumulativeMeasurements = cumulativeMeasurements
        self.wallSeconds = wallSeconds
        self.runWallSeconds = runWallSeconds
    }
}

/// How a training call ended.
public enum TrainingStop: String, Sendable, Codable {
    case completed
    /// Stopped at a step boundary because a pause was requested; resumable.
    case paused
}

/// The result of a training call (also printed by `pnnlab train --json`).
public struct TrainingOutcome: Sendable, Codable {
    public var runID: Int64?
    public var stop: TrainingStop
    public var steps: Int
    public var trainAccuracy: Double?
    public var testAccuracy: Double?
    /// The last evaluation loss (not a batch loss); `final_loss` in results.
    public var finalLoss: Double?
    public var measurements: Int
    public var wallSeconds: Double
    /// Output readings the device flagged saturated (a bound, not a measurement) during the
    /// run; nil when the device does not report saturation.
    public var saturatedReadings: Int?

    public init(
        runID: Int64? = nil, stop: TrainingStop, steps: Int, trainAccuracy: Double? = nil, testAccuracy: Double? = nil,
        finalLoss: Double? = nil, measurements: Int, wallSeconds: Double, saturatedReadings: Int? = nil
    ) {
        self.runID = runID
        self.stop = stop
        self.steps = steps
        self.trainAccuracy = trainAccuracy
        self.testAccuracy = testAccuracy
        self.finalLoss = finalLoss
        self.measurements = measurements
        self.wallSeconds = wallSeconds
        self.saturatedReadings = saturatedReadings
    }
}
