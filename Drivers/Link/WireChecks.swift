import PNNWire

/// The family-independent conformance checks: framing, CRC, version, flags, pings,
/// pipelining, resynchronisation, error replies (docs/protocol.md §1–§10).
enum WireChecks {
    static let all: [ConformanceCheck] = [
        ConformanceCheck(name: "ping echo", requirement: "§4 ping echoes its payload") { c in
            for payload in [[], [0x00], [UInt8](0...255), [UInt8](repeating: 0, count: 600)] as [[UInt8]] {
                let echo = try await c.client.request(.ping, payload: payload, retry: .idempotent)
                guard echo == payload else { throw ConformanceFailure("\(payload.count)-byte ping echoed wrongly") }
            }
            return "0, 1, 256, 600 bytes (zeros included) echoed exactly"
        },
        ConformanceCheck(name: "pipelining", requirement: "§6 replies matched by seq, window ≥ 8") { c in
            var tickets: [(WireClient.Ticket, [UInt8])] = []
            for i in 0..<32 {
                let payload = [UInt8(i), UInt8(255 - i), 0]
                tickets.append((try await c.client.submit(.ping, payload: payload, retry: .idempotent), payload))
            }
            for (t, payload) in tickets {
                guard try await c.client.reply(to: t) == payload else {
                    throw ConformanceFailure("a reply matched the wrong request")
                }
            }
            return "32 pings, 8 in flight, every reply matched its request"
        },
        ConformanceCheck(
            name: "bad CRC: not executed, one damage notice",
            requirement: "§5 a rejected frame is never answered; §8 it gets one damage notice"
        ) { c in
            var raw = Frame(type: .ping, seq: 0x7F01, payload: [1, 2, 3]).rawBytes
            raw[raw.count - 1] ^= 0x5A
            let before = await c.client.statistics.damageNotices
            await c.sendRawBytes(raw)
            try await c.expectSilence("a frame with a bad CRC")
            try await c.expectAlive("a bad CRC")
            let notices = await c.client.statistics.damageNotices - before
            guard notices == 1 else {
                throw ConformanceFailure("\(notices) damage notices (type 0x07) for one damaged frame; §8 asks for exactly 1")
            }
            return "no reply, one damage notice, still answering"
        },
        ConformanceCheck(name: "garbage resync", requirement: "§1 resynchronise at the next 0x00") { c in
            var junk: [UInt8] = []
            var x: UInt32 = 0x1234_5678
            for _ in 0..<300 {
                x = x &* 1_664_525 &+ 1_013_904_223
                junk.append(UInt8(truncatingIfNeeded: x >> 24) | 0x01)
            }
            junk.append(0)
            await c.client.sendRaw(junk)
            try await c.expectSilence("line noise")
            try await c.expectAlive("300 bytes of line noise")
            return "300 noise bytes discarded, next frame answered"
        },
        ConformanceCheck(name: "idle fill", requirement: "§1 consecutive 0x00 are ignored") { c in
            await c.client.sendRaw([UInt8](repeating: 0, count: 16))
            try await c.expectSilence("idle fill")
            try await c.expectAlive("16 idle bytes")
            return "16 zero bytes ignored"
        },
        ConformanceCheck(name: "oversize rejected", requirement: "§2 control frames ≤ 4096 bytes") { c in
            await c.sendRawBytes(Frame(type: .ping, seq: 0x7F02, payload: [UInt8](repeating: 7, count: 5000)).rawBytes)
            try await c.expectSilence("a 5007-byte control frame")
            try await c.expectAlive("an oversize frame")
            return "5007-byte frame ignored"
        },
        ConformanceCheck(name: "foreign version ignored", requirement: "§5 version ≠ 1 is rejected") { c in
            await c.sendRawBytes(Frame(type: .ping, seq: 0x7F03, payload: [9]).rawBytes(version: 2))
            try await c.expectSilence("a version-2 frame")
            return "version-2 frame with a valid CRC ignored"
        },
        ConformanceCheck(name: "reserved flags rejected", requirement: "§3 reserved flag bits must be 0") { c in
            await c.sendRaw(Frame(type: .ping, seq: 0x7F04, flags: FrameFlags(rawValue: 0x20), payload: [1]))
            try await c.expectSilence("a frame with reserved flag 0x20")
            return "flag 0x20 frame ignored"
        },
        ConformanceCheck(name: "unknown core type", requirement: "§4 reserved types answer unknownCommand") { c in
            try await c.expectError(.unknownCommand, type: FrameType(rawValue: 0x3F))
        },
        ConformanceCheck(name: "unknown family type", requirement: "§4/§10 unknownCommand") { c in
            try await c.expectError(.unknownCommand, type: FrameType(rawValue: 0xFE))
        },
        ConformanceCheck(name: "non-requests ignored", requirement: "§3 frames with reply/error/stream are not requests") {
            c in
            await c.sendRaw(Frame(type: .ping, seq: 0x7F20, flags: .reply, payload: [1]))
            await c.sendRaw(Frame(type: .ping, seq: 0x7F21, flags: .stream, payload: [2]))
            await c.sendRaw(Frame(type: .error, seq: 0x7F22, flags: [.reply, .error], payload: [0, 0]))
            try await c.expectSilence("frames flagged reply, stream or error")
            try await c.expectAlive("non-request frames")
            return "reply-, stream- and error-flagged frames dropped unanswered"
        },
        ConformanceCheck(name: "bulk flag scope", requirement: "§3 bulk only on bulkChunk; no oversize replies") { c in
            // A 4090-byte ping as a bulk frame would echo as a 4097-byte control frame.
            await c.sendRaw(Frame(type: .ping, seq: 0x7F23, flags: .bulk, payload: [UInt8](repeating: 0x11, count: 4090)))
            try await expectErrorFrame(c, seq: 0x7F23, code: .badPayload, what: "a ping with flag bulk")
            await c.sendRaw(Frame(type: .bulkChunk, seq: 0x7F24, payload: [0, 0, 0, 0, 0, 0, 0, 0, 1, 0]))
            try await expectErrorFrame(c, seq: 0x7F24, code: .badPayload, what: "a bulkChunk without flag bulk")
            let largest = [UInt8](repeating: 0x22, count: 4089)
            guard try await c.client.request(.ping, payload: largest, retry: .idempotent) == largest else {
                throw ConformanceFailure("the largest control ping (4089 bytes) was not echoed exactly")
            }
            return "bulk ping and flagless bulkChunk → badPayload (control frames); 4089-byte ping echoed"
        },
        ConformanceCheck(name: "hello edge cases", requirement: "§7 malformed hellos → badPayload, session kept") { c in
            let long = [UInt8](repeating: 0x61, count: 256)
            let cases: [(String, [UInt8])] = [
                ("an empty hello", []), ("a truncated hello", [1, 5, 0, 0x61]), ("a hello with a trailing byte", [1, 0, 0, 9]),
                ("a protocol-2 hello", [2, 0, 0]), ("a 256-byte hostName", [1, 0, 1] + long),
                ("a hostName that is not UTF-8", [1, 1, 0, 0xFF]),
            ]
            for (k, (what, payload)) in cases.enumerated() {
                let seq = UInt16(0x7F30 + k)
                await c.sendRaw(Frame(type: .hello, seq: seq, payload: payload))
                try await expectErrorFrame(c, seq: seq, code: .badPayload, what: what)
            }
            // The session is still open: a reserved type is unknownCommand, not handshakeRequired.
            _ = try await c.expectError(.unknownCommand, type: FrameType(rawValue: 0x3F))
            return "\(cases.count) malformed hellos refused with badPayload; the session stayed open"
        },
        ConformanceCheck(name: "replies echo seq", requirement: "§6 reply carries the request's seq and type") { c in
            await c.sendRaw(Frame(type: .ping, seq: 0x7F10, payload: [0x42]))
            guard let f = await c.nextUnmatched(timeout: 1) else { throw ConformanceFailure("no reply to a hand-numbered ping") }
            guard f.seq == 0x7F10, f.type == .ping, f.flags.contains(.reply), f.payload == [0x42] else {
                throw ConformanceFailure("reply \(f) does not echo seq 0x7F10")
            }
            return "seq 0x7F10 echoed with flag reply"
        },
    ]

    /// Fails unless the next unmatched frame is an error reply with `code` to `seq`, a
    /// control frame within the size limit.
    static func expectErrorFrame(_ c: ConformanceContext, seq: UInt16, code: WireErrorCode, what: String) async throws {
        guard let f = await c.nextUnmatched(timeout: 5) else { throw ConformanceFailure("no reply to \(what)") }
        guard f.seq == seq, f.type == .error, f.flags == [.reply, .error] else {
            throw ConformanceFailure("\(what) was answered with \(f), expected error \(code)")
        }
        guard let reply = try? ErrorReply.decode(f.payload), reply.code == code else {
            throw ConformanceFailure("\(what) was answered with error payload \(f.payload.prefix(2)), expected \(code)")
        }
    }
}
