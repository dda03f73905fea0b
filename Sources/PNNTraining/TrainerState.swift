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
    /// The `readout` method's digital ceiling (nil for the other methods).
    public var readoutCeiling: ReadoutCeiling? = nil
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

    public init(
        runID: Int64? = nil, stop: TrainingStop, steps: Int, trainAccuracy: Double? = nil, testAccuracy: Double? = nil,
        finalLoss: Double? = nil, measurements: Int, wallSeconds: Double
    ) {
        self.runID = runID
        self.stop = stop
        self.steps = steps
        self.trainAccuracy = trainAccuracy
        self.testAccuracy = testAccuracy
        self.finalLoss = finalLoss
        self.measurements = measurements
        self.wallSeconds = wallSeconds
    }
}
