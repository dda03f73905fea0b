import Foundation
import PNNCore
import PNNSim
import PNNStore

extension DeviceCatalog {
    /// Contrastive devices that are always available: the CLLN twin and a plain resistor
    /// network (no learning rule: the host computes the coupled-learning update).
    public static let contrastiveSimulated = ["sim:clln", "sim:resistor"]

    /// What `openContrastive` returns.
    public struct OpenedContrastive: Sendable {
        public var substrate: any Substrate
        /// The task encoded for the device's wiring.
        public var dataset: ContrastiveDataset
        /// The board, for devices on a link.
        public var connected: ConnectedDevice?
    }

    /// The device for `plan.device` and the plan's task encoded for its wiring.
    public static func openContrastive(_ plan: ContrastivePlan, store: RunStore? = nil, reconnectGrace: Double = 15)
        async throws -> OpenedContrastive
    {
        let substrate: any Substrate
        var connected: ConnectedDevice?
        switch plan.device {
        case "sim:clln":
            let options = plan.twin ?? ContrastiveTwinOptions(topology: .periodicLattice())
            var physics = CLLNPhysics()
            if !options.bias { physics.biasScale = 0 }
            physics.readNoise = options.readNoise
            if let state = options.state {
                substrate = try CLLNTwin(state: state, serial: "sim-\(plan.seed)", seed: plan.seed)
            } else {
                substrate = try CLLNTwin(topology: options.topology, physics: physics, seed: plan.seed)
            }
        case "sim:resistor":
            let options = plan.twin ?? ContrastiveTwinOptions(topology: .periodicLattice())
            substrate = try ResistorNetworkTwin(
                topology: options.topology, seed: plan.seed, conductanceRange: 1e-4...3e-3)
        case "sim:crossbar":
            substrate = CrossbarTwin(physics: try CrossbarPhysics(config: CrossbarConfig()))
        default:
            let (address, serial) = try resolve(plan.device, baud: plan.baud ?? 115_200, store: store)
            let device = try await connect(address, reconnectGrace: reconnectGrace)
            if let serial, device.hello.serial != serial {
                await device.connection.close()
                throw DeviceError.differentBoard(name: plan.device, expected: serial, found: device.hello.serial)
            }
            substrate = device.substrate
            connected = device
        }
        _ = try substrate.require(.clampable, as: (any Clampable).self, for: "--method \(plan.schedule.method.rawValue)")
        let wiring = try substrate.require(
            .nodeReadout, as: (any NodeReadout).self, for: "task '\(plan.task.name.rawValue)' (it needs the device's wiring)")
        let dataset = try ContrastiveTasks.dataset(plan.task, topology: wiring.topology)
        return OpenedContrastive(substrate: substrate, dataset: dataset, connected: connected)
    }
}
