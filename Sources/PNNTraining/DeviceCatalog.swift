import PNNCore
import PNNSim

/// Opens the device a DEVICE argument names and prepares the task for it.
///
/// `sim:crossbar` builds a crossbar twin sized to the task (one input line per encoded
/// feature plus a bias line, one differential output per class) unless the plan's twin
/// settings say otherwise. Hardware names and ports join here as their drivers land.
public enum DeviceCatalog {
    /// Device names that are always available.
    public static let simulated = ["sim:crossbar"]

    /// The substrate for `plan.device` and the task encoded for its input range.
    public static func open(_ plan: RunPlan) throws -> (substrate: any Substrate, task: PreparedTask, twin: CrossbarConfig?) {
        switch plan.device {
        case "sim:crossbar":
            let probe = try PreparedTask(plan.task, config: plan.trainer, amplitude: 1, seed: plan.seed)
            var twin = plan.twin ?? CrossbarConfig()
            if plan.twin == nil {
                twin.rows = probe.encoder.inputCount
                twin.outputs = probe.classCount
            }
            twin.seed = plan.seed
            let physics = try CrossbarPhysics(config: twin)
            let substrate = CrossbarTwin(physics: physics)
            let amplitude = plan.trainer.inputAmplitude * substrate.descriptor.inputs.upper
            return (substrate, probe.rescaled(amplitude: amplitude), twin)
        default:
            throw TrainingError.unknownDevice(plan.device)
        }
    }
}
