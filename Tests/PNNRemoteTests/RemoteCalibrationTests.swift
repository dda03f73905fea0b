import Foundation
import PNNCalibration
import PNNCore
import PNNDevices
import PNNRuns
import PNNStore
import Synchronization
import Testing

@testable import PNNRemote

/// A `RemoteServer` on a free loopback port serving the default (noisy) crossbar and CLLN
/// twins, seed 5, as "xb" and "cl".
private final class CalibrationServer: Sendable {
    let server: RemoteServer
    let serving: Task<Void, any Error>
    let port: Int

    init() async throws {
        var devices: [ServedDevice] = []
        for (name, twin) in [("xb", "sim:crossbar"), ("cl", "sim:clln")] {
            let opened = try await DeviceCatalog.open(twin, twin: .init(seed: 5))
            devices.append(ServedDevice(name: name, source: twin, substrate: opened.substrate))
        }
        server = try RemoteServer(
            configuration: .init(listen: HostPort(host: "127.0.0.1", port: 0)), devices: devices, store: nil)
        (serving, port) = await server.startOnFreePort()
    }

    func device(_ name: String) -> String { "remote://127.0.0.1:\(port)/\(name)" }

    func stop() async {
        server.shutdown()
        _ = try? await serving.value
    }
}

private func temporaryStore() throws -> RunStore {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("pnnlab-cal-\(UUID().uuidString).sqlite")
    return try RunStore(path: path.path)
}

@Suite("Calibration of a served device (remote://), run on the server", .serialized)
struct RemoteCalibrationTests {
    @Test(
        "calibrate remote://…/xb and /cl: the profile equals the same twin calibrated in process, errors against the server's truth come back, the client stores it",
        arguments: [("xb", "sim:crossbar"), ("cl", "sim:clln")])
    func remoteEqualsLocal(name: String, twin: String) async throws {
        RemoteDevices.register()
        let server = try await CalibrationServer()
        let store = try temporaryStore()
        let progressed = Mutex(0)
        let remote = try await CalibrationRun.run(
            device: server.device(name), seed: 5, optionWords: [], baud: 115_200, store: store
        ) { done, total, _ in
            #expect(done <= total)
            progressed.withLock { $0 += 1 }
        }
        let local = try await CalibrationRun.run(
            device: twin, seed: 5, optionWords: [], baud: 115_200, store: try temporaryStore()
        ) { _, _, _ in }
        #expect(progressed.withLock { $0 } > 0)
        #expect(remote.family == local.family && remote.serial == local.serial)
        #expect(remote.profile.payload == local.profile.payload)
        #expect(remote.headline == local.headline)
        let truth = try #require(remote.truthFigures)
        #expect(!truth.isEmpty)
        #expect(truth == local.truthFigures)
        let stored = try store.calibrations()
        #expect(stored.map(\.id) == [remote.calibrationId])
        await server.stop()
    }

    @Test("calibration over the wire needs the lease: refused while another client holds it, with who holds it")
    func refusedWithoutLease() async throws {
        RemoteDevices.register()
        let server = try await CalibrationServer()
        let holder = try await RemoteSubstrate.open(
            RemoteDeviceAddress(parsing: server.device("xb")), holder: "alice", environment: [:])
        await #expect {
            _ = try await CalibrationRun.run(
                device: server.device("xb"), seed: 5, optionWords: [], baud: 115_200, store: try temporaryStore()
            ) { _, _, _ in }
        } throws: { error in
            "\(error)".contains("alice")
        }
        await holder.close()
        await server.stop()
    }

    @Test("a procedure option the family does not declare is refused before anything reaches the device")
    func unknownOptionRefused() async throws {
        RemoteDevices.register()
        let server = try await CalibrationServer()
        await #expect {
            _ = try await CalibrationRun.run(
                device: server.device("cl"), seed: 5, optionWords: ["--no-such-option", "3"], baud: 115_200,
                store: try temporaryStore()
            ) { _, _, _ in }
        } throws: { error in
            "\(error)".contains("no-such-option")
        }
        await server.stop()
    }

    @Test(
        "the health check passes on default (noisy, fabricated) twins, whose as-fabricated conductances spread past the nominal window"
    )
    func healthOfNoisyTwins() async throws {
        let server = try await CalibrationServer()
        for name in ["xb", "cl"] {
            let (_, checks) = try await RemoteHealth.run(try RemoteDeviceAddress(parsing: server.device(name)), environment: [:])
            let failed = checks.filter { !$0.passed }
            #expect(failed.isEmpty, "\(name): \(failed.map { "\($0.name): \($0.detail)" })")
        }
        await server.stop()
    }
}
