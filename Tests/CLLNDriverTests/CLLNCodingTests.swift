import CLLNDriver
import PNNCore
import PNNLink
import PNNSim
import PNNWire
import Testing

/// Round trips and refusals of the §14 binary encodings.
@Suite struct CLLNCodingTests {
    @Test func topologyRoundTripsAndRefusesBadNodes() throws {
        let t = NetworkTopology(
            nodeCount: 4, edges: [.init(a: 0, b: 1), .init(a: 1, b: 2, trainable: false), .init(a: 2, b: 3)],
            inputNodes: [0, 3, 2], inputRoles: [.variable(1), .positiveRail, .inverted(0)],
            outputs: [.init(plus: 1), .init(plus: 2, minus: 3)])
        let bytes = CLLNCoding.encode(t)
        #expect(try CLLNCoding.decodeTopology(bytes) == t)
        #expect(try CLLNCoding.decodeTopology(CLLNCoding.encode(NetworkTopology.periodicLattice())) == .periodicLattice())
        var bad = bytes
        bad[4] = 9  // edge 0 joins node 9 of a 4-node network
        #expect(throws: PayloadError.self) { try CLLNCoding.decodeTopology(bad) }
        #expect(throws: PayloadError.self) { try CLLNCoding.decodeTopology(Array(bytes.dropLast())) }
    }

    @Test func datasetRoundTripsAndChecksItsShape() throws {
        let d = ContrastiveDataset(tasks: [
            ContrastiveTask(
                name: "ring α", classification: true,
                points: [
                    ContrastivePoint(inputs: [0.1, 0.2], labels: [0.018]),
                    ContrastivePoint(inputs: [0.3, 0.4], labels: [-0.018]),
                ]),
            ContrastiveTask(name: "β", classification: false, points: [ContrastivePoint(inputs: [0, 1], labels: [0.5])]),
        ])
        let bytes = CLLNCoding.encode(d, inputs: 2, outputs: 1)
        #expect(bytes.count == 6 + (1 + 1 + "ring α".utf8.count + 4 + 2 * 24) + (1 + 1 + "β".utf8.count + 4 + 24))
        #expect(try CLLNCoding.decodeDataset(bytes, inputs: 2, outputs: 1) == d)
        #expect(throws: PayloadError.self) { try CLLNCoding.decodeDataset(bytes, inputs: 3, outputs: 1) }
        #expect(throws: PayloadError.self) { try CLLNCoding.decodeDataset(bytes + [0], inputs: 2, outputs: 1) }
    }

    @Test func scheduleRoundTrips() throws {
        for s in [
            ContrastiveSchedule(method: .overclamp, eta: 0.25, periodSeconds: 2e-4, periods: 1000, hinge: true, traceEvery: 3),
            ContrastiveSchedule(
                method: .ep, eta: 0.1, stepSeconds: 5e-5, periodSeconds: 1e-3, periods: 7, recordEvery: 2, recordTail: 3,
                startPeriod: 4, initialR0: 0.02),
        ] {
            let bytes = CLLNCoding.encode(s)
            #expect(bytes.count == 62)
            #expect(try CLLNCoding.decodeSchedule(bytes) == s)
        }
        var bad = CLLNCoding.encode(ContrastiveSchedule(method: .coupled, eta: 0.5, periodSeconds: 1e-4, periods: 1))
        bad[0] = 3
        #expect(throws: PayloadError.self) { try CLLNCoding.decodeSchedule(bad) }
    }

    @Test func recordsSplitIntoPartsAndReassemble() throws {
        let outputs = (0..<2).map { t in (0..<300).map { p in [Double(t) - Double(p) * 1e-3] } }
        let rec = ScheduleRecord(
            kind: .slotEnd, period: 12, task: 1, time: 0.0123, gates: (0..<32).map { 2 + Double($0) / 100 },
            outputs: outputs, errors: [1e-4, 2e-4], r0: 0.011, steps: 5_000_000_000, skipped: 17)
        let bytes = CLLNCoding.encode(rec)
        let parts = CLLNStreamFrame.parts(of: bytes, index: 9)
        #expect(parts.count == (bytes.count + 3_999) / 4_000 && parts.count > 1)
        var joined: [UInt8] = []
        for (k, frame) in parts.enumerated() {
            let decoded = try CLLNStreamFrame.decode(frame.encode())
            guard case .part(let record, let part, let count, let data) = decoded else {
                Issue.record("part \(k) decoded as \(decoded)")
                return
            }
            #expect(record == 9 && Int(part) == k && Int(count) == parts.count && data.count <= 4_000)
            joined += data
        }
        #expect(try CLLNCoding.decodeRecord(joined) == rec)
        let start = ScheduleRecord(
            kind: .start, period: 0, task: -1, time: 0, gates: [3], outputs: [], errors: [], r0: 0, steps: 0, skipped: 0)
        #expect(try CLLNCoding.decodeRecord(CLLNCoding.encode(start)) == start)
        let end = CLLNStreamFrame.end(records: 41, outcome: .aborted, message: "aborted by the host")
        #expect(try CLLNStreamFrame.decode(end.encode()) == end)
        #expect(throws: PayloadError.self) { try CLLNStreamFrame.decode([7]) }
    }

    @Test func statusAndDescriptorRoundTrip() throws {
        let s = CLLNStatus(
            violations: 2, learns: 1_000, learnSeconds: 0.1, vectors: 64, datasetPoints: 16, running: true, records: 5,
            safe: false)
        #expect(try CLLNStatus.decode(s.encode()) == s)
        let emulator = try CLLNEmulator(state: CLLNState(topology: .periodicLattice(), physics: .ideal, seed: 1), serial: "X")
        let info = try CLLNBoardInfo.decode(emulator.hello.descriptor)
        #expect(info == emulator.info)
        #expect(info.nodes == 16 && info.edges == 32 && info.inputs == 6 && info.outputs == 1)
        var broken = emulator.hello.descriptor
        broken.replaceSubrange(26..<34, with: [0, 0, 0, 0, 0, 0, 0xF8, 0x7F])  // G_max = NaN
        #expect(throws: PayloadError.self) { try CLLNBoardInfo.decode(broken) }
    }
}
