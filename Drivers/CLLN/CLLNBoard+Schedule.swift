import PNNCore
import PNNLink
import PNNWire
import Synchronization

extension CLLNBoard {
    public nonisolated func uncheckedRunSchedule(_ schedule: ContrastiveSchedule, dataset: ContrastiveDataset)
        -> AsyncThrowingStream<ScheduleRecord, any Error>
    {
        let (stream, continuation) = AsyncThrowingStream<ScheduleRecord, any Error>.makeStream()
        let task = Task {
            do {
                try await self.runOnBoard(schedule, dataset: dataset) { continuation.yield($0) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// Uploads the dataset in chunks (CRC-32 checked by the board), reads back the point count.
    public func loadDataset(_ dataset: ContrastiveDataset) async throws {
        let bytes = CLLNCoding.encode(dataset, inputs: info.inputs, outputs: info.outputs)
        guard bytes.count <= info.maxDatasetBytes else {
            throw CLLNBoardError.datasetNotLoaded("\(bytes.count) bytes exceed the board's \(info.maxDatasetBytes)")
        }
        let crc = CRC32.checksum(bytes)
        try await withReconnect { client in
            // The chunk at offset 0 starts the upload (§14.3): it is sent alone and answered
            // before the others, so no copy of it can arrive later and restart the upload.
            // The dataset is loaded once any reply reports every byte held and the points
            // parsed; later copies of other chunks only rewrite the same bytes.
            var tickets: [WireClient.Ticket] = []
            var offset = 0
            var complete = false
            func check(_ reply: [UInt8]) throws {
                var r = PayloadReader(reply)
                let held = Int(try r.u32("held")), points = Int(try r.u32("points"))
                if held == bytes.count && points == dataset.pointCount { complete = true }
            }
            repeat {
                let n = min(CLLNCommand.pageBytes, bytes.count - offset)
                var w = PayloadWriter()
                w.u32(UInt32(bytes.count))
                w.u32(crc)
                w.u32(UInt32(offset))
                w.raw(Array(bytes[offset..<(offset + n)]))
                let ticket = try await client.submit(CLLNCommand.loadDataset, payload: w.bytes, retry: .deduplicated)
                if offset == 0 {
                    try check(try await client.reply(to: ticket))
                } else {
                    tickets.append(ticket)
                }
                offset += n
            } while offset < bytes.count
            for t in tickets { try check(try await client.reply(to: t)) }
            guard complete else {
                throw CLLNBoardError.datasetNotLoaded(
                    "the board never reported all \(bytes.count) bytes and \(dataset.pointCount) points held")
            }
        }
    }

    /// Stops a running schedule; returns the records it streamed.
    @discardableResult
    public func abortSchedule() async throws -> Int {
        let client = await connection.client
        var r = PayloadReader(try await client.request(CLLNCommand.abortSchedule, retry: .deduplicated))
        return Int(try r.u32("records"))
    }

    private func runOnBoard(
        _ schedule: ContrastiveSchedule, dataset: ContrastiveDataset, yield: @Sendable (ScheduleRecord) -> Void
    ) async throws {
        try await loadDataset(dataset)
        let client = await connection.client
        let frames = await client.subscribe(stream: CLLNCommand.recordStream)
        defer { Task { await client.unsubscribe(stream: CLLNCommand.recordStream) } }
        _ = try await client.request(
            CLLNCommand.runSchedule, payload: CLLNCoding.encode(schedule), retry: .deduplicated)
        // Stream frames are never acknowledged: if the end frame is lost, nothing else would
        // end this loop. A watchdog asks the board, whenever the stream has been quiet for
        // half a second, whether the schedule is still running; once it is not, the stream
        // is closed — frames already received are still read — and a missing end frame
        // becomes `scheduleStreamBroken`, never a hang.
        let lastFrame = Atomic<Int64>(Self.monotonicMilliseconds())
        let watchdog = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(250))
                guard Self.monotonicMilliseconds() - lastFrame.load(ordering: .relaxed) >= 500 else { continue }
                guard let reply = try? await client.request(CLLNCommand.identify, retry: .idempotent),
                    let status = try? CLLNStatus.decode(reply), !status.running
                else { continue }
                await client.unsubscribe(stream: CLLNCommand.recordStream)
                return
            }
        }
        defer { watchdog.cancel() }
        var parts: [UInt8] = []
        var expected: (record: UInt32, part: UInt16) = (0, 0)
        var accepted: (record: UInt32, part: UInt16)?
        for await data in frames {
            lastFrame.store(Self.monotonicMilliseconds(), ordering: .relaxed)
            let frame: CLLNStreamFrame
            do {
                frame = try CLLNStreamFrame.decode(data.data)
            } catch {
                throw CLLNBoardError.badRecord("\(error)")
            }
            switch frame {
            case .part(let record, let part, _, _) where record == accepted?.record && part == accepted?.part:
                continue  // a copy of the part just taken (a line may duplicate a frame)
            case .part(let record, let part, let count, let bytes):
                guard record == expected.record, part == expected.part, part < count else {
                    throw CLLNBoardError.badRecord(
                        "got part \(part)/\(count) of record \(record), expected part \(expected.part) of \(expected.record)")
                }
                parts += bytes
                accepted = (record, part)
                if part + 1 < count {
                    expected.part += 1
                    continue
                }
                do {
                    yield(try CLLNCoding.decodeRecord(parts))
                } catch {
                    throw CLLNBoardError.badRecord("record \(record): \(error)")
                }
                parts = []
                expected = (record + 1, 0)
            case .end(let records, let outcome, let message):
                switch outcome {
                case .done, .aborted:
                    guard records == expected.record else {
                        throw CLLNBoardError.badRecord("end frame counts \(records) records, received \(expected.record)")
                    }
                    return
                case .failed: throw CLLNBoardError.scheduleFailed(message)
                }
            }
        }
        if Task.isCancelled {
            _ = try? await abortSchedule()
            return
        }
        throw CLLNBoardError.scheduleStreamBroken(records: Int(expected.record))
    }

    static func monotonicMilliseconds() -> Int64 {
        let d = ContinuousClock.now - Self.epoch
        return d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
    }
    private static let epoch = ContinuousClock.now
}
