import Foundation
import LoopbackFamily
import PNNCalibration
import PNNCore
import PNNDevices
import PNNLink
import PNNRuns
import PNNStore
import PNNTraining
import Testing

/// Issue 9's acceptance: a family that lives only in the test tree (`LoopbackFamily`) gets
/// emulate, attach, conformance, gradient training and calibration through the registry
/// API alone — the same generic paths the CLI takes, with real parts (a pty, a store).
@Suite("A test-only family through the registry alone")
struct LoopbackFamilyTests {
    /// The built-in families plus the loopback one; `FamilyRegistry.register` is not used,
    /// so every other suite in the process keeps seeing only the built-in families.
    static let registry = FamilyRegistry(families: FamilyRegistry.standard.families + [LoopbackFamily.self])

    static func scratchStore() throws -> RunStore {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("loopback-\(UUID()).sqlite").path
        return try RunStore(path: path)
    }

    /// An emulated board served on a new pty, built as `pnnlab emulate loopback --lines 8` builds it.
    struct Emulated {
        let host: PtyEmulatorHost
        let serving: Task<Void, Never>
        var address: LinkAddress { .serial(path: host.path, baud: 115_200) }

        init(seed: UInt64) throws {
            let driver = try #require(LoopbackFamilyTests.registry.family(named: "loopback"))
            let options = try FamilyOptionValues(
                parsing: ["--lines", "8"], declared: driver.emulatorOptions, context: "the loopback emulator")
            let endpoint = try driver.emulator(EmulatorSettings(seed: seed, options: options))
            let host = try PtyEmulatorHost(endpoint: endpoint)
            self.host = host
            serving = Task { await host.run() }
        }

        func stop() async {
            serving.cancel()
            await host.stop()
        }
    }

    @Test("the registry lists the family, its twin and its procedure; the standard registry does not")
    func registryEntries() {
        let r = Self.registry
        #expect(r.names.contains("loopback"))
        #expect(r.twinNames.contains("sim:loopback"))
        #expect(r.family(named: "loopback")?.calibration?.name == "loopback-gain")
        #expect(r.family(named: "loopback")?.emulatorOptions.map(\.name) == ["lines"])
        #expect(!FamilyRegistry.standard.names.contains("loopback"))
        #expect(!FamilyRegistry.standard.twinNames.contains("sim:loopback"))
        let types = Set(LoopbackFamily.allCommandTypes.map(\.rawValue))
        #expect(types.allSatisfy { !(0x40...0x5E).contains($0) })
    }

    @Test("emulate → attach → conformance → train --method gradient → calibrate, on a pty")
    func wholeLifeOnAPty() async throws {
        let emulated = try Emulated(seed: 7)
        let store = try Self.scratchStore()
        do {
            try await lifeOnAPty(emulated, store: store)
        } catch {
            await emulated.stop()
            throw error
        }
        await emulated.stop()
    }

    func lifeOnAPty(_ emulated: Emulated, store: RunStore) async throws {
        let address = emulated.address

        // Without registering, the board's family is refused by name.
        do {
            _ = try await DeviceCatalog.connect(address, registry: .standard)
            Issue.record("the standard registry must refuse a loopback board")
        } catch let error as DeviceError {
            #expect(
                error
                    == .unknownFamily(port: emulated.host.path, family: "loopback", known: FamilyRegistry.standard.names))
        }

        // attach: connect, health check, register in the store.
        let connected = try await DeviceCatalog.connect(address, registry: Self.registry)
        #expect(connected.family == "loopback")
        #expect(connected.isEmulator)
        #expect(connected.substrate.descriptor.parameters.count == 1)
        #expect(connected.substrate.descriptor.inputs.count == 8)
        let health = try await connected.driver.healthCheck(connected.substrate)
        #expect(health.outputs.count == 8)
        #expect(health.outputs.allSatisfy { $0.isFinite && $0 > 0 })
        #expect(health.counters["violations"] == 0)
        #expect(health.roundTrip > 0 && health.roundTrip < 1)
        let name = try DeviceCatalog.register(connected, name: nil, store: store)
        await connected.connection.close()
        let record = try #require(try store.device(named: name))
        #expect(record.identity.family == "loopback")
        #expect(record.identity.serial == "EMU-7")
        #expect(record.port == emulated.host.path)

        // conformance: the wire checks and the family's own, all passing.
        do {
            _ = try await DeviceCatalog.conformance(address, registry: .standard)
            Issue.record("the standard registry must refuse a loopback board")
        } catch let error as DeviceError {
            guard case .unknownFamily(_, "loopback", _) = error else {
                Issue.record("unexpected \(error)")
                return
            }
        }
        let (hello, results) = try await DeviceCatalog.conformance(address, registry: Self.registry)
        #expect(hello.family == "loopback")
        for r in results where !r.passed { Issue.record("conformance check '\(r.name)' failed: \(r.detail)") }
        let names = Set(results.map(\.name))
        #expect(names.isSuperset(of: ["hello", "ping echo", "descriptor", "outputs ∝ θ·x", "θ out of range refused"]))

        // train --method gradient on the registered name.
        var config = TrainerConfig()
        config.epochs = 2
        let plan = RunPlan(task: .xor, method: .gradient, seed: 3, device: name, trainer: config)
        let opened = try await plan.open(store: store, registry: Self.registry)
        #expect(opened.device.family.family == "loopback")
        #expect(opened.device.twin == nil)
        let trainer = try Trainer(substrate: opened.substrate, method: plan.method, config: plan.trainer, task: opened.task)
        var session = try await TrainingSession.start(plan: plan, trainer: trainer, store: store)
        let initial = session.state.theta
        let outcome = try await session.run(observer: nil, pauseRequested: { false })
        await opened.device.connected?.connection.close()
        #expect(outcome.stop == .completed)
        #expect(outcome.steps == 2 * trainer.batchesPerEpoch)
        let steps = try store.steps(runID: session.runID)
        #expect(steps.count == outcome.steps)
        #expect(steps.allSatisfy { $0.loss.isFinite && $0.parameters.count == 1 })
        let finalLoss = try #require(outcome.finalLoss)
        #expect(finalLoss.isFinite)
        #expect(try store.run(id: session.runID).status == .completed)
        let finalTheta = try #require(steps.last?.parameters.first)
        #expect(finalTheta != initial[0], "a gradient step must move θ")
        #expect((0.1...2).contains(finalTheta))

        // calibrate the board through its registered name; the emulator exports its truth.
        let report = try await CalibrationRun.run(
            device: name, seed: 1, optionWords: ["--reads", "3"], baud: 115_200, store: store, registry: Self.registry,
            progress: { _, _, _ in })
        #expect(report.family == "loopback" && report.serial == "EMU-7")
        let truth = try #require(report.truthFigures)
        let error = try #require(truth.first { $0.key == "gain_relative_error" })
        #expect(abs(error.value) < 1e-3)
    }

    @Test("sim:loopback opens through the registry, and calibrate stores a profile with truth figures")
    func twinAndCalibration() async throws {
        do {
            _ = try await DeviceCatalog.open("sim:loopback", twin: .init(seed: 5), registry: .standard)
            Issue.record("the standard registry has no sim:loopback")
        } catch let error as DeviceError {
            #expect(error == .unknownTwin(name: "sim:loopback", known: FamilyRegistry.standard.twinNames))
        }
        let opened = try await DeviceCatalog.open(
            "sim:loopback", twin: .init(seed: 5, geometry: TwinGeometry(inputs: 6, outputs: 2)), registry: Self.registry)
        #expect(opened.family.family == "loopback")
        #expect(opened.twin?.name == "sim:loopback" && opened.twin?.family == "loopback")
        #expect(opened.substrate.descriptor.inputs.count == 6)
        let y = try await opened.substrate.measure(Matrix(rows: 1, cols: 6, repeating: 0.5))
        let theta = try await opened.substrate.readParameters()[0]
        #expect(y.storage.allSatisfy { abs($0 / (0.5 * theta) - 1) < 0.06 })

        let store = try Self.scratchStore()
        let report = try await CalibrationRun.run(
            device: "sim:loopback", seed: 5, optionWords: [], baud: 115_200, store: store, registry: Self.registry,
            progress: { _, _, _ in })
        #expect(report.procedure == "loopback-gain" && report.family == "loopback")
        let stored = try store.calibrations(serial: report.serial)
        #expect(stored.count == 1 && stored.first?.id == report.calibrationId)
        let profile = try CalibrationProfile.decode(try #require(stored.first).profileJSON)
        #expect(profile.procedure == "loopback-gain")
        let truth = try #require(report.truthFigures)
        let trueGain = try #require(truth.first { $0.key == "gain_true" }).value
        let measured = try #require(report.headline.first { $0.key == "gain" }).value
        #expect(trueGain != 1, "the twin has a gain error to find")
        #expect(abs(measured - trueGain) < 1e-3)
        #expect(abs(try #require(truth.first { $0.key == "gain_relative_error" }).value) < 1e-3)

        do {
            _ = try await CalibrationRun.run(
                device: "sim:loopback", seed: 5, optionWords: ["--trials", "3"], baud: 115_200, store: store,
                registry: Self.registry, progress: { _, _, _ in })
            Issue.record("an option of another procedure must be refused")
        } catch let error as FamilyOptionError {
            #expect(error.description.contains("--trials"))
        }
    }
}
