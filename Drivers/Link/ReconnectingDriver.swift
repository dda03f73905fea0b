import PNNWire

/// A family's host driver that survives unplugs, the same way in every family: a request
/// that fails because the link was lost is repeated on a reopened link (same board, serial
/// checked by ``LinkConnection``) after the driver re-sent what the board must hold.
/// Conforming drivers supply ``restore(on:)`` (and may retry timeouts themselves through
/// ``retryAfterTimeout()``) and wrap each operation in ``withReconnect(maxReconnects:_:)``.
public protocol ReconnectingDriver: Actor {
    /// The connection the driver's sessions come from.
    nonisolated var connection: LinkConnection { get }

    /// Re-sends, on the new session after a reconnect, the state the board must hold again
    /// (targets, sources, clamp…): the board may have been power-cycled.
    func restore(on client: WireClient) async throws

    /// Called when a request timed out on an otherwise working link: return true to run the
    /// operation again on the same session (e.g. after shrinking request sizes), false to
    /// treat the timeout as a lost link. The default is false.
    func retryAfterTimeout() -> Bool
}

extension ReconnectingDriver {
    public func retryAfterTimeout() -> Bool { false }

    /// Runs `body` on the current session. When it fails with a lost link
    /// (``LinkError/isConnectionLoss``) the link is reopened and restored (``recover(after:)``)
    /// and `body` runs again, at most `maxReconnects` times; timeouts are first offered to
    /// ``retryAfterTimeout()``. Any other error, a cancellation or a failed reconnect ends it.
    public func withReconnect<T: Sendable>(maxReconnects: Int = 5, _ body: (WireClient) async throws -> T) async throws -> T {
        var reconnects = 0
        while true {
            let client = await connection.client
            do {
                return try await body(client)
            } catch LinkError.timedOut where retryAfterTimeout() {
                continue
            } catch let error as LinkError where error.isConnectionLoss && reconnects < maxReconnects {
                reconnects += 1
                LinkLog.logger.warning(
                    "link lost, reconnecting",
                    metadata: ["port": "\(connection.port)", "error": "\(error)", "attempt": "\(reconnects)"])
                try await recover(after: error)
                LinkLog.logger.info("link restored; repeating the operation", metadata: ["port": "\(connection.port)"])
            }
        }
    }

    /// Reopens the link after `error` (``LinkConnection/reconnect(after:)``) and restores the
    /// board's state on the new session, which it returns.
    @discardableResult
    public func recover(after error: LinkError) async throws -> WireClient {
        let client = try await connection.reconnect(after: error)
        try await restore(on: client)
        return client
    }
}

/// Reading reply payloads that every family shares, with errors that name the request.
public enum ReplyPayload {
    /// Exactly `count` f64 values (little-endian binary64) making up the whole payload, or
    /// ``LinkError/malformedReply(request:detail:)``.
    public static func doubles(_ payload: [UInt8], count: Int, request: String) throws(LinkError) -> [Double] {
        guard payload.count == count * 8 else {
            throw .malformedReply(request: request, detail: "\(payload.count) bytes, expected \(count * 8)")
        }
        var r = PayloadReader(payload)
        do {
            return try r.f64s(count, field: "values")
        } catch {
            throw .malformedReply(request: request, detail: error.description)
        }
    }
}
