import PNNTransport
import Testing

/// The scripted-exchange link at the byte level: frames are compared up to their 0x00
/// delimiter whatever the write sizes, replies appear once their request matched, and every
/// way a host can stray from the script is reported with the step and both byte strings.
@Suite struct ScriptedTransportTests {
    let script = [
        ScriptedTransport.Exchange("first", request: [0x0A, 0x0B, 0x00], replies: [[0x1A, 0x00], [0x1B]]),
        ScriptedTransport.Exchange("second", request: [0x0C], replies: []),
        ScriptedTransport.Exchange("third", request: [0x0D, 0x0E], replies: [[0x1D, 0x00]]),
    ]

    @Test func followsTheScriptWhateverTheWriteSizes() async throws {
        let link = ScriptedTransport(script)
        #expect(link.remaining == 3)
        try await link.write([0x00, 0x0A])  // a lone delimiter first (hosts flush with it): ignored
        await #expect(throws: TransportError.timeout(.zero)) { _ = try await link.read(maxCount: 8, timeout: .zero) }
        try await link.write([0x0B, 0x00, 0x0C, 0x00])
        #expect(link.remaining == 1)
        #expect(try await link.read(maxCount: 3, timeout: .seconds(5)) == [0x1A, 0x00, 0x1B])
        #expect(try await link.read(maxCount: 8, timeout: .seconds(5)) == [0x00], "a missing delimiter is added")
        #expect(throws: ScriptError.unused(step: 3, of: 3, note: "third")) { try link.verify() }
        try await link.write([0x0D, 0x0E, 0x00])
        #expect(try await link.read(maxCount: 8, timeout: .seconds(5)) == [0x1D, 0x00])
        try link.verify()
    }

    @Test func aDifferentRequestFailsNamingTheStep() async throws {
        let link = ScriptedTransport(script)
        try await link.write([0x0A, 0x0B, 0x00])
        let error = await #expect(throws: TransportError.self) { try await link.write([0x0C, 0x00, 0x0D, 0x0F, 0x00]) }
        guard case .closed(let why)? = error else {
            Issue.record("expected the link to close, got \(String(describing: error))")
            return
        }
        #expect(why.contains("scripted exchange 3 of 3 (third)"))
        #expect(why.contains("expected: 0D 0E 00"))
        #expect(why.contains("got:      0D 0F 00"))
        #expect(why.contains("first difference at byte 1"))
        // The link is closed for the host; the test sees the mismatch in verify().
        await #expect(throws: TransportError.closed(why)) { _ = try await link.read(maxCount: 8, timeout: .seconds(1)) }
        #expect(throws: ScriptError.self) { try link.verify() }
        #expect(link.failure?.description == why)
    }

    @Test func requestsAfterTheEndAreRefused() async throws {
        let link = ScriptedTransport([ScriptedTransport.Exchange("only", request: [0x01], replies: [])])
        try await link.write([0x01, 0x00])
        await #expect(throws: TransportError.self) { try await link.write([0x02, 0x00]) }
        #expect(throws: ScriptError.unexpected(step: 2, got: [0x02], detail: "02")) { try link.verify() }
    }

    @Test func aFrameWithoutItsDelimiterIsReported() async throws {
        let link = ScriptedTransport([ScriptedTransport.Exchange(request: [0x01], replies: [])])
        try await link.write([0x01, 0x00, 0x05])
        #expect(throws: ScriptError.partialFrame(bytes: [0x05])) { try link.verify() }
    }

    @Test func unusedExchangesFailVerification() async throws {
        let link = ScriptedTransport(script)
        try await link.write([0x0A, 0x0B, 0x00])
        let error = #expect(throws: ScriptError.self) { try link.verify() }
        #expect(error == .unused(step: 2, of: 3, note: "second"))
        #expect(
            error?.description
                == "scripted exchange 2 of 3 (second) was never reached: the host stopped after 1 exchange")
    }

    @Test func closedLinkRefusesBoth() async throws {
        let link = ScriptedTransport(script)
        await link.close()
        await #expect(throws: TransportError.closed("closed by host")) { try await link.write([0x0A]) }
        await #expect(throws: TransportError.closed("closed by host")) { _ = try await link.read(maxCount: 1, timeout: .zero) }
    }

    @Test func hexRoundTrip() {
        #expect(ScriptedTransport.bytes(hex: "04 01 40 03 | 01 03\n91 8C 00") == [4, 1, 0x40, 3, 1, 3, 0x91, 0x8C, 0])
        #expect(ScriptedTransport.bytes(hex: "4 01") == nil)
        #expect(ScriptedTransport.bytes(hex: "zz") == nil)
        #expect(ScriptedTransport.hex([0x04, 0xAB, 0x00]) == "04 AB 00")
    }
}
