import PNNCore
import PNNLink
import PNNSim
import PNNStore

/// Opens the device a DEVICE argument names and prepares the task for it.
///
/// `sim:crossbar` builds a crossbar twin sized to the task (one input line per encoded
/// feature plus a bias line, one differential output per class) unless the plan's twin
/// settings say otherwise. A name registered with `pnnlab attach`, a serial port path or
/// `usb:VID:PID[:serial]` opens a board over its link; the task is then fitted to the
/// board's geometry (spare input lines held at 0 V, spare outputs ignored).
public enum DeviceCatalog {
    /// Device names that are always available.
    public static let simulated = ["sim:crossbar"]

    /// What `open` returns.
    public struct Opened: Sendable {
        /// The substrate to train.
        public var substrate: any Substrate
        /// The task encoded for the substrate's input range and line count.
        public var task: PreparedTask
        /// Twin settings, for `sim:crossbar`.
        public var twin: CrossbarConfig?
        /// The board, for devices on a link.
        public var connected: ConnectedDevice?
    }

    /// The substrate for `plan.device` and the task encoded for it.
    public static func open(_ plan: RunPlan, store: RunStore? = nil, reconnectGrace: Double = 15) async throws -> Opened {
        if plan.device == "sim:crossbar" {
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
            return Opened(substrate: substrate, task: probe.rescaled(amplitude: amplitude), twin: twin, connected: nil)
        }
        let (address, serial) = try resolve(plan.device, baud: plan.baud ?? 115_200, store: store)
        let device = try await connect(address, reconnectGrace: reconnectGrace)
        if let serial, device.hello.serial != serial {
            await device.connection.close()
            throw DeviceError.differentBoard(name: plan.device, expected: serial, found: device.hello.serial)
        }
        let d = device.substrate.descriptor
        let prepared = try PreparedTask(plan.task, config: plan.trainer, amplitude: 1, seed: plan.seed)
        let amplitude = plan.trainer.inputAmplitude * d.inputs.upper
        let task = try prepared.rescaled(amplitude: amplitude).fitted(toInputLines: d.inputs.count, device: d.identity.summary)
        return Opened(substrate: device.substrate, task: task, twin: nil, connected: device)
    }

    /// The link address (and expected serial number) for a DEVICE argument: a registered
    /// name, or a port.
    public static func resolve(_ device: String, baud: Int, store: RunStore?) throws -> (LinkAddress, serial: String?) {
        if let store, let record = try store.device(named: device) {
            return (try LinkAddress(parsing: record.port, baud: baud), record.identity.serial)
        }
        if LinkAddress.looksLikePort(device) { return (try LinkAddress(parsing: device, baud: baud), nil) }
        throw TrainingError.unknownDevice(device)
    }
}

extension PreparedTask {
    /// The task with input lines padded by 0 V lines to `lines` (a board with more rows
    /// than the encoding needs). Throws when the board has too few lines.
    public func fitted(toInputLines lines: Int, device: String) throws -> PreparedTask {
        let have = trainInputs.cols
        if have == lines { return self }
        guard have < lines else {
            throw TrainingError.shapeMismatch(
                "task \(name.rawValue) needs \(have) input lines; device \(device) has \(lines) "
                    + "(start the emulator with --rows \(have), or choose a smaller encoding)")
        }
        var out = self
        out.trainInputs = trainInputs.paddedColumns(to: lines)
        out.testInputs = testInputs.paddedColumns(to: lines)
        return out
    }
}

extension Matrix {
    func paddedColumns(to cols: Int) -> Matrix {
        var m = Matrix(rows: rows, cols: cols)
        for r in 0..<rows { for c in 0..<self.cols { m[r, c] = self[r, c] } }
        return m
    }
}
