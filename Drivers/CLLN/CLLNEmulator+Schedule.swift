import PNNCore
import PNNLink
import PNNSim
import PNNWire

/// A dataset being reassembled from `loadDataset` chunks.
struct DatasetUpload {
    var total = 0
    var crc: UInt32 = 0
    var bytes: [UInt8] = []
    var received: Set<Int> = []
    var held = 0
}

/// A schedule running on the emulated board.
struct ScheduleRun {
    let id: Int
    var aborting = false
    var reason = ""
    /// Ends the record feed so the streaming loop notices an abort at once.
    let stopFeed: @Sendable () -> Void
    let producer: Task<Void, Never>
}

extension CLLNEmulator {
    func loadDataset(_ r: inout PayloadReader) throws -> [UInt8] {
        let total = Int(try r.u32("total")), crc = try r.u32("crc"), offset = Int(try r.u32("offset"))
        let data = r.rest()
        guard total <= info.maxDatasetBytes else {
            throw ErrorReply(code: .tooLarge, message: "dataset of \(total) bytes exceeds the board's \(info.maxDatasetBytes)")
        }
        guard total >= 1, data.count <= CLLNCommand.pageBytes, offset + data.count <= total, !data.isEmpty else {
            throw PayloadError.invalidValue(
                field: "offset", reason: "chunk \(offset)+\(data.count) does not fit a \(total)-byte dataset (≤ 4000 per chunk)")
        }
        if offset == 0 || upload.total != total || upload.crc != crc {
            upload = DatasetUpload(total: total, crc: crc, bytes: Array(repeating: 0, count: total))
            dataset = nil
        }
        if !upload.received.contains(offset) {
            upload.bytes.replaceSubrange(offset..<(offset + data.count), with: data)
            upload.received.insert(offset)
            upload.held += data.count
        }
        var points: UInt32 = 0
        if upload.held >= total {
            let bytes = upload.bytes
            upload = DatasetUpload()
            guard CRC32.checksum(bytes) == crc else {
                throw ErrorReply(
                    code: .datasetCorrupt, message: "dataset CRC-32 mismatch after reassembly; discarded, send it again")
            }
            let d: ContrastiveDataset
            do {
                d = try CLLNCoding.decodeDataset(bytes, inputs: info.inputs, outputs: info.outputs)
            } catch {
                throw ErrorReply(code: .datasetCorrupt, message: "dataset does not parse: \(error); discarded")
            }
            if let why = d.problem(inputs: twin.descriptor.inputs, outputs: twin.descriptor.outputs) {
                throw refuse("dataset \(why); discarded")
            }
            dataset = d
            points = UInt32(d.pointCount)
            var w = PayloadWriter()
            w.u32(UInt32(total))
            w.u32(points)
            return w.bytes
        }
        var w = PayloadWriter()
        w.u32(UInt32(upload.held))
        w.u32(points)
        return w.bytes
    }

    func startSchedule(_ r: inout PayloadReader, push: StreamPusher) throws -> [UInt8] {
        let schedule = try CLLNCoding.decodeSchedule(r.rest())
        // Range checks precede the state check (§14.4 error precedence).
        if let why = schedule.problem(maxLearnSeconds: info.maxLearn) { throw refuse("schedule \(why)") }
        guard let dataset else {
            throw ErrorReply(code: .noDataset, message: "no complete dataset loaded; send loadDataset first")
        }
        runCounter += 1
        let id = runCounter
        let (records, feed) = AsyncStream<ScheduleRecord>.makeStream()
        let twin = self.twin
        busyLoops += 1
        let producer = Task {
            await twin.runScheduleSync(schedule, dataset: dataset) { record in
                if case .terminated = feed.yield(record) { return false }
                return !Task.isCancelled
            }
            feed.finish()
            await self.loopFinished()
        }
        run = ScheduleRun(id: id, stopFeed: { feed.finish() }, producer: producer)
        recordsStreamed = 0
        safe = false
        Task { await self.stream(records, id: id, push: push) }
        return []
    }

    /// Pushes each record (in page-sized parts) on stream 2, then the end frame.
    func stream(_ records: AsyncStream<ScheduleRecord>, id: Int, push: StreamPusher) async {
        var steps = 0
        for await record in records {
            guard let current = run, current.id == id, !current.aborting else { break }
            let index = recordsStreamed
            recordsStreamed &+= 1
            learns &+= UInt32(clamping: max(0, record.steps - steps))
            steps = record.steps
            learnSeconds = record.time
            for frame in CLLNStreamFrame.parts(of: CLLNCoding.encode(record), index: index) {
                await push.push(streamID: CLLNCommand.recordStream, data: frame.encode())
            }
        }
        guard let current = run, current.id == id else { return }
        run = nil
        let end = CLLNStreamFrame.end(
            records: recordsStreamed, outcome: current.aborting ? .aborted : .done, message: current.reason)
        await push.push(streamID: CLLNCommand.recordStream, data: end.encode())
    }

    /// The twin's firmware loop returned; a safe state asked for meanwhile is entered now.
    /// `running` stays 1 until the safe state is in place, so identify never shows a
    /// board that is neither running nor safe after a safeState.
    func loopFinished() async {
        if busyLoops == 1, safeWhenIdle {
            safeWhenIdle = false
            try? await enterSafeState()
        }
        busyLoops -= 1
    }

    /// Asks the running schedule to stop; its streaming loop sends the end frame.
    func stopSchedule(message: String) {
        guard var current = run else { return }
        current.aborting = true
        current.reason = message
        run = current
        current.producer.cancel()
        current.stopFeed()
    }
}
