/// Config files and the store spell trainer settings in snake_case; every key is
/// optional and a missing one keeps its default.
extension TrainerConfig {
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case epochs, solver, damping, cutoff, scheme, repeats, readout, gain, encoding, subset
        case batchSize = "batch_size"
        case learningRate = "learning_rate"
        case logitStep = "logit_step"
        case stepResolutions = "step_resolutions"
        case spsaPerturbation = "spsa_perturbation"
        case targetCurrent = "target_current_uA"
        case inputAmplitude = "input_amplitude"
        case testFraction = "test_fraction"
        case evaluateEvery = "evaluate_every"
        case recordOutputs = "record_outputs"
        case recordJacobians = "record_jacobians"
        case evaluationRepeats = "evaluation_repeats"
        case jacobianRefresh = "jacobian_refresh"
        case renyiAlpha = "renyi_alpha"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        func take<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
            if let v = try c.decodeIfPresent(T.self, forKey: key) { value = v }
        }
        epochs = try c.decodeIfPresent(Int.self, forKey: .epochs)
        learningRate = try c.decodeIfPresent(Double.self, forKey: .learningRate)
        encoding = try c.decodeIfPresent(FeatureEncoding.self, forKey: .encoding)
        gain = try c.decodeIfPresent(Double.self, forKey: .gain)
        subset = try c.decodeIfPresent(Int.self, forKey: .subset)
        try take(.batchSize, &batchSize)
        try take(.solver, &solver)
        try take(.damping, &damping)
        try take(.cutoff, &cutoff)
        try take(.logitStep, &logitStep)
        try take(.scheme, &scheme)
        try take(.stepResolutions, &stepResolutions)
        try take(.repeats, &repeats)
        try take(.spsaPerturbation, &spsaPerturbation)
        try take(.readout, &readout)
        try take(.targetCurrent, &targetCurrent)
        try take(.inputAmplitude, &inputAmplitude)
        try take(.testFraction, &testFraction)
        try take(.evaluateEvery, &evaluateEvery)
        try take(.recordOutputs, &recordOutputs)
        try take(.recordJacobians, &recordJacobians)
        try take(.evaluationRepeats, &evaluationRepeats)
        try take(.jacobianRefresh, &jacobianRefresh)
        try take(.renyiAlpha, &renyiAlpha)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(epochs, forKey: .epochs)
        try c.encodeIfPresent(learningRate, forKey: .learningRate)
        try c.encodeIfPresent(encoding, forKey: .encoding)
        try c.encodeIfPresent(subset, forKey: .subset)
        try c.encode(batchSize, forKey: .batchSize)
        try c.encode(solver, forKey: .solver)
        try c.encode(damping, forKey: .damping)
        try c.encode(cutoff, forKey: .cutoff)
        try c.encode(logitStep, forKey: .logitStep)
        try c.encode(scheme, forKey: .scheme)
        try c.encode(stepResolutions, forKey: .stepResolutions)
        try c.encode(repeats, forKey: .repeats)
        try c.encode(spsaPerturbation, forKey: .spsaPerturbation)
        try c.encode(readout, forKey: .readout)
        try c.encodeIfPresent(gain, forKey: .gain)
        try c.encode(targetCurrent, forKey: .targetCurrent)
        try c.encode(inputAmplitude, forKey: .inputAmplitude)
        try c.encode(testFraction, forKey: .testFraction)
        try c.encode(evaluateEvery, forKey: .evaluateEvery)
        try c.encode(recordOutputs, forKey: .recordOutputs)
        if recordJacobians { try c.encode(recordJacobians, forKey: .recordJacobians) }
        try c.encode(evaluationRepeats, forKey: .evaluationRepeats)
        if jacobianRefresh != 1 { try c.encode(jacobianRefresh, forKey: .jacobianRefresh) }
        try c.encode(renyiAlpha, forKey: .renyiAlpha)
    }
}
