import PNNTransport
import PNNWire

/// A connection to one board that survives unplugs: it owns the current ``WireClient``
/// and knows how to open the port again. After a hang-up or a run of timeouts a driver
/// calls ``reconnect(after:)``: the old session is closed, the port is reopened (retrying
/// until the grace period runs out — the board may be re-enumerating or restarting), the
/// hello is repeated and the board's serial number is checked, so a different board on the
/// same port is never mistaken for the old one.
///
/// The grace period and the backoff between attempts run on a ``LinkClock`` (real time
/// unless a test injects a ``ManualClock``); a cancelled task stops reconnecting at once
/// with ``LinkError/cancelled``.
public actor LinkConnection {
    /// Opens the byte link (e.g. the serial port) afresh.
    public typealias Opener = @Sendable () async throws(LinkError) -> any Transport

    private let opener: Opener
    private let configuration: WireClient.Configuration
    private let family: String
    private let schemaHash: UInt32
    /// The time source of every session on this connection.
    public nonisolated let clock: LinkClock
    /// How long ``reconnect(after:)`` keeps trying, seconds.
    public let grace: Double
    private var current: WireClient
    /// The board's hello (identity) from the first handshake.
    public nonisolated let hello: HelloReply
    /// The port, for messages.
    public nonisolated let port: String
    /// Successful reconnections so far.
    public private(set) var reconnections = 0
    private var observer: (@Sendable (LinkEvent) -> Void)?

    /// Calls `observer` when the link is lost and when it comes back (e.g. to tell the user).
    public func setObserver(_ observer: @escaping @Sendable (LinkEvent) -> Void) {
        self.observer = observer
    }

    /// Opens the port, says hello and checks family and schema.
    public init(
        port: String, family: String, schemaHash: UInt32, grace: Double = 15,
        configuration: WireClient.Configuration = .init(), clock: LinkClock = .continuous, opener: @escaping Opener
    ) async throws(LinkError) {
        let client = WireClient(transport: try await opener(), configuration: configuration, clock: clock)
        do {
            self.hello = try await client.handshake(family: family, schemaHash: schemaHash)
        } catch {
            await client.close()
            throw error
        }
        self.port = port
        self.opener = opener
        self.configuration = configuration
        self.family = family
        self.schemaHash = schemaHash
        self.grace = grace
        self.clock = clock
        self.current = client
    }

    /// The session in use.
    public var client: WireClient { current }

    /// Replaces a broken session with a new one on a reopened port. Throws
    /// ``LinkError/reconnectFailed(port:waited:lastError:)`` after `grace` seconds,
    /// ``LinkError/deviceChanged(port:expected:found:)`` when another board answers, and
    /// ``LinkError/cancelled`` as soon as the calling task is cancelled.
    @discardableResult
    public func reconnect(after error: LinkError) async throws(LinkError) -> WireClient {
        // The new session continues the old one's sequence numbers: a late reply to a
        // request of the old session can then never be taken for a new request's (§6).
        var configuration = self.configuration
        configuration.firstSeq = await current.upcomingSeq
        await current.close()
        observer?(.lost(port: port, reason: error.description))
        let start = clock.now
        var last = error.description
        var delay = Duration.milliseconds(50)
        while clock.now - start < .seconds(grace) {
            if Task.isCancelled { throw .cancelled }
            do throws(LinkError) {
                let client = WireClient(transport: try await opener(), configuration: configuration, clock: clock)
                configuration.firstSeq = configuration.firstSeq &+ 64  // past this attempt's hellos
                let reply: HelloReply
                do throws(LinkError) {
                    reply = try await client.handshake(family: family, schemaHash: schemaHash)
                } catch {
                    await client.close()
                    throw error
                }
                if reply.serial != hello.serial {
                    await client.close()
                    throw LinkError.deviceChanged(port: port, expected: hello.serial, found: reply.serial)
                }
                current = client
                reconnections += 1
                observer?(.reconnected(port: port, after: (clock.now - start).seconds))
                return client
            } catch .deviceChanged(let p, let e, let f) {
                throw .deviceChanged(port: p, expected: e, found: f)
            } catch .cancelled {
                throw .cancelled
            } catch {
                last = error.description
            }
            do {
                try await clock.sleep(for: delay)
            } catch {
                throw .cancelled
            }
            delay = min(delay * 2, .milliseconds(500))
        }
        let waited = (clock.now - start).seconds
        observer?(.gaveUp(port: port, after: waited))
        throw .reconnectFailed(port: port, waited: waited, lastError: last)
    }

    /// Closes the session.
    public func close() async {
        await current.close()
    }
}

/// What happened to a board's link, for the person watching.
public enum LinkEvent: Sendable, CustomStringConvertible {
    /// The link dropped; reconnecting.
    case lost(port: String, reason: String)
    /// The same board answers again.
    case reconnected(port: String, after: Double)
    /// The board did not come back within the grace period.
    case gaveUp(port: String, after: Double)

    public var description: String {
        switch self {
        case .lost(let port, let reason): "link to \(port) lost (\(reason)); reconnecting"
        case .reconnected(let port, let after): "reconnected to \(port) after \(LinkError.ms(after)); resuming"
        case .gaveUp(let port, let after): "gave up on \(port) after \(LinkError.ms(after))"
        }
    }
}
