import PNNTransport
import PNNWire

/// The handshake of a ``WireClient``: hello, and telling a silent port, line noise, a baud
/// mismatch and another protocol version apart.
extension WireClient {
    /// Says hello and validates the reply: protocol version, then the family and schema
    /// hash when `family`/`schemaHash` are given. Distinguishes a silent port, a port
    /// sending garbage and a device of another protocol version.
    @discardableResult
    public func handshake(family: String? = nil, schemaHash: UInt32? = nil) async throws(LinkError) -> HelloReply {
        startReader()
        send([0])  // flush any partial frame in the device's receiver
        let payload: [UInt8]
        do {
            payload = try HelloRequest(hostName: configuration.hostName).encode()
        } catch {
            throw .cannotEncode(error.description)
        }
        let started = now
        var replyPayload: [UInt8]?
        var timeout = configuration.helloTimeout
        for attempt in 0..<3 where replyPayload == nil {
            do throws(LinkError) {
                replyPayload = try await request(.hello, payload: payload, retry: .idempotent, timeout: timeout)
            } catch .timedOut {
                let stats = decoder.statistics
                if let foreign = stats.lastForeignVersion {
                    throw .handshake(.versionMismatch(device: foreign, host: PNNWireVersion.protocolVersion))
                }
                // Intact frames of this protocol and none damaged: the board answered, late (a
                // busy board or a loaded host), so wait longer before calling the line noisy.
                if stats.damagedFrames == 0 && stats.framesDelivered > 0 && attempt < 2 {
                    timeout *= 10
                    continue
                }
                // Frames of this protocol arrived, damaged (or intact but not the hello's
                // answer): the line is noisy, the baud rate is right.
                if stats.damagedFrames >= 2 || stats.framesDelivered > 0 {
                    throw .noisyLine(port: port, damaged: stats.framesRejected, intact: stats.framesDelivered)
                }
                // Bytes came, but too few to tell a noisy line from a baud mismatch (one damaged
                // reply, or the first bytes of one from a slow board or a loaded host): ask
                // again and wait longer before deciding.
                if stats.bytesReceived > 0 && attempt < 2 {
                    timeout *= 3
                    continue
                }
                if stats.bytesReceived > 0 { throw .garbage(port: port, bytes: stats.bytesReceived) }
                throw .silent(port: port, waited: now - started)
            }
        }
        guard let replyPayload else { throw .silent(port: port, waited: now - started) }
        let reply: HelloReply
        do {
            reply = try HelloReply.decode(replyPayload)
        } catch {
            throw .handshake(error)
        }
        if let family, reply.family != family {
            throw .wrongFamily(port: port, found: reply.family, expected: family)
        }
        if let schemaHash {
            do {
                try reply.validate(expectedSchemaHash: schemaHash)
            } catch {
                throw .handshake(error)
            }
        }
        hello = reply
        streamCounters.restart()  // the device restarts its stream counters at hello (§9)
        return reply
    }

}
