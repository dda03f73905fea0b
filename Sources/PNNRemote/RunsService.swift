import Foundation
import GRPCCore
import PNNStore

/// The `pnnlab.v1.Runs` service: the server's run store, and runs started, paused and
/// resumed over the wire (trained in the server process by `launcher`).
struct RunsService: Pnnlab_V1_Runs.SimpleServiceProtocol {
    let store: RunStore
    /// How often `WatchRun` looks for newly committed steps.
    let pollInterval: Duration
    let devices: [ServedDevice]
    let launcher: (any RunLauncher)?

    func requireLauncher() throws(RemoteError) -> any RunLauncher {
        guard let launcher else { throw .runsReadOnly }
        return launcher
    }

    func reply(_ id: Int64) throws -> Pnnlab_V1_RunReply {
        var reply = Pnnlab_V1_RunReply()
        reply.run = .init(try summary(id))
        return reply
    }

    func startRun(request: Pnnlab_V1_StartRunRequest, context: ServerContext) async throws -> Pnnlab_V1_RunReply {
        try await served {
            let launcher = try requireLauncher()
            guard let device = devices.first(where: { $0.name == request.device }) else {
                throw RemoteError.unknownDevice(name: request.device, served: devices.map(\.name))
            }
            let start = RunStartRequest(
                device: request.device, task: request.task, method: request.method.isEmpty ? nil : request.method,
                epochs: request.hasEpochs ? Int(request.epochs) : nil, seed: request.hasSeed ? request.seed : nil,
                configTOML: request.configToml.isEmpty ? nil : request.configToml,
                jacobianRefresh: request.hasJacobianRefresh ? Int(request.jacobianRefresh) : nil,
                holder: request.holder.isEmpty ? context.remotePeer : "\(request.holder) (\(context.remotePeer))")
            let id = try await launcher.start(start, on: device)
            return try reply(id)
        }
    }

    func pauseRun(request: Pnnlab_V1_PauseRunRequest, context: ServerContext) async throws -> Pnnlab_V1_RunReply {
        try await served {
            try await requireLauncher().pause(run: request.run)
            return try reply(request.run)
        }
    }

    func resumeRun(request: Pnnlab_V1_ResumeRunRequest, context: ServerContext) async throws -> Pnnlab_V1_RunReply {
        try await served {
            try await requireLauncher().resume(
                run: request.run, epochs: request.hasEpochs ? Int(request.epochs) : nil, devices: devices)
            return try reply(request.run)
        }
    }

    func summary(_ id: Int64) throws -> RunSummary {
        _ = try store.run(id: id)  // runNotFound when there is no such run
        guard let summary = try store.runs().first(where: { $0.run.id == id }) else { throw RemoteError.unknownRun(id) }
        return summary
    }

    func listRuns(request: Pnnlab_V1_ListRunsRequest, context: ServerContext) async throws -> Pnnlab_V1_ListRunsResponse {
        var response = Pnnlab_V1_ListRunsResponse()
        response.runs = try await served { try store.runs().map(Pnnlab_V1_RunSummary.init) }
        return response
    }

    func showRun(request: Pnnlab_V1_ShowRunRequest, context: ServerContext) async throws -> Pnnlab_V1_ShowRunResponse {
        try await served {
            var response = Pnnlab_V1_ShowRunResponse()
            let summary = try summary(request.run)
            response.summary = .init(summary)
            response.configJson = summary.run.configJSON
            response.steps = try store.steps(runID: request.run).map(Pnnlab_V1_Step.init)
            return response
        }
    }

    func watchRun(request: Pnnlab_V1_WatchRunRequest, response: RPCWriter<Pnnlab_V1_Step>, context: ServerContext)
        async throws
    {
        try await served {
            var last = Int(request.fromStep) - 1
            while true {
                // Read the status before the steps: a run that stops has committed its last step.
                let status = try store.run(id: request.run).status
                for step in try store.steps(runID: request.run) where step.step > last {
                    try await response.write(.init(step))
                    last = step.step
                }
                if status != .running || context.cancellation.isCancelled { return }
                try await Task.sleep(for: pollInterval)
            }
        }
    }
}
