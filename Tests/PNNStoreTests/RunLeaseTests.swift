import Foundation
import Testing

@testable import PNNStore

@Suite("Run leases: running only while a live process records the run", .serialized)
struct RunLeaseTests {
    @Test func aRunningRunReadsInterruptedOnceItsRecorderLetsGo() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let store = try RunStore(path: scratch.path())
        let id = try store.createRun(newRun())
        try store.appendStep(step(id, 1))
        let reader = try RunStore(path: scratch.path())
        #expect(try reader.run(id: id).status == .running)
        #expect(try reader.runs().map(\.run.status) == [.running])
        #expect(reader.isRecordedByLiveProcess(runID: id))

        store.releaseRun(id: id)  // what the kernel does when the recording process dies
        #expect(!reader.isRecordedByLiveProcess(runID: id))
        #expect(try reader.run(id: id).status == .interrupted)
        #expect(try reader.runs().map(\.run.status) == [.interrupted])
        #expect(try reader.run(id: id).status.isResumable)
    }

    @Test func aSecondRecorderIsRefusedUntilTheFirstStops() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let first = try RunStore(path: scratch.path())
        let id = try first.createRun(newRun())
        let second = try RunStore(path: scratch.path())
        #expect(throws: StoreError.runBusy(id: id, pid: getpid())) { try second.claimRun(id: id) }
        #expect(throws: StoreError.runBusy(id: id, pid: getpid())) { try second.setStatus(runID: id, .running) }
        #expect(try second.run(id: id).status == .running, "a refused claim changes nothing")
        #expect(
            StoreError.runBusy(id: id, pid: 42).description
                == "run \(id) is being trained by another pnnlab process (pid 42); stop it first (Ctrl-C pauses it), then resume"
        )

        try first.setStatus(runID: id, .paused)
        #expect(try second.run(id: id).status == .paused)
        try second.setStatus(runID: id, .running)
        #expect(throws: StoreError.runBusy(id: id, pid: getpid())) { try first.claimRun(id: id) }
        try second.setStatus(runID: id, .aborted)
        #expect(try first.run(id: id).status == .aborted)
        #expect(try first.run(id: id).status.isResumable)
    }

    @Test func finalStatusesReleaseTheLeaseAndRemoveTheLockFile() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let store = try RunStore(path: scratch.path())
        let id = try store.createRun(newRun())
        let lockFile = RunLease.lockPath(store: store.path, runID: id)
        #expect(FileManager.default.fileExists(atPath: lockFile))
        #expect(RunLease.holderPID(path: lockFile) == getpid())
        try store.setStatus(runID: id, .completed)
        #expect(!FileManager.default.fileExists(atPath: lockFile))
        #expect(try store.run(id: id).status == .completed)
        #expect(!RunStatus.completed.isResumable)

        // Runs recorded with a final status take no lease at all.
        var done = newRun()
        done.status = .failed
        let other = try store.createRun(done)
        #expect(!FileManager.default.fileExists(atPath: RunLease.lockPath(store: store.path, runID: other)))
        #expect(try store.run(id: other).status == .failed)
        #expect(throws: StoreError.runNotFound(id: 99, path: store.path)) { try store.claimRun(id: 99) }
    }

    /// Another process holds the lock file (util-linux `flock`, standing in for a pnnlab
    /// that is training): the run reads `running` and cannot be claimed; once that process
    /// is killed the run reads `interrupted` and can be claimed.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/flock")))
    func aHolderInAnotherProcessIsSeenAliveThenDead() async throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let store = try RunStore(path: scratch.path())
        let id = try store.createRun(newRun())
        store.releaseRun(id: id)
        #expect(try store.run(id: id).status == .interrupted)

        let lockFile = RunLease.lockPath(store: store.path, runID: id)
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = ["--exclusive", "--no-fork", lockFile, "sleep", "300"]  // one process holds it
        try holder.run()
        defer { if holder.isRunning { kill(holder.processIdentifier, SIGKILL) } }
        let deadline = Date().addingTimeInterval(60)
        while !store.isRecordedByLiveProcess(runID: id) && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(try store.run(id: id).status == .running)
        #expect(throws: StoreError.runBusy(id: id, pid: nil)) { try store.claimRun(id: id) }

        kill(holder.processIdentifier, SIGKILL)
        while holder.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        let gone = Date().addingTimeInterval(60)
        while store.isRecordedByLiveProcess(runID: id) && Date() < gone { try await Task.sleep(for: .milliseconds(20)) }
        #expect(try store.run(id: id).status == .interrupted)
        try store.claimRun(id: id)
        #expect(try store.run(id: id).status == .running)
    }
}
