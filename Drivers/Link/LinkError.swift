import PNNTransport
import PNNWire

/// Why talking to a board over a link failed, phrased for the person at the bench.
public enum LinkError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The byte link itself failed (port missing, busy, unplugged…).
    case transport(TransportError)
    /// The device answered a request with an error reply.
    case device(request: String, ErrorReply)
    /// No reply after every allowed attempt.
    case timedOut(request: String, attempts: Int, waited: Double)
    /// Nothing at all came back to the hello: not a board, switched off, or another baud rate.
    case silent(port: String, waited: Double)
    /// Bytes came back, but not one valid pnnlab frame.
    case garbage(port: String, bytes: Int)
    /// pnnlab frames came back, but too damaged for the hello to get through: the baud rate
    /// is right and the line is noisy.
    case noisyLine(port: String, damaged: Int, intact: Int)
    /// The device's frames carry another protocol version.
    case handshake(HandshakeError)
    /// The device is of another family than the command needs.
    case wrongFamily(port: String, found: String, expected: String)
    /// A reply's payload does not have the layout the command set defines.
    case malformedReply(request: String, detail: String)
    /// A request could not be encoded (e.g. larger than the device's frame limit).
    case cannotEncode(String)
    /// After an unplug the device did not come back within the grace period.
    case reconnectFailed(port: String, waited: Double, lastError: String)
    /// A different board answered after reconnecting.
    case deviceChanged(port: String, expected: String, found: String)
    /// The port path now leads to another pseudo-terminal than the one first opened (the
    /// emulator behind it has gone and its number was given to another program).
    case portReplaced(port: String)
    /// The link was closed by this program.
    case closed
    /// The task waiting for the board was cancelled (Ctrl-C, a stopped run). A request
    /// already sent may still be carried out by the board.
    case cancelled
    /// A session recording could not be written, read or replayed.
    case recording(RecordingError)

    public var description: String {
        switch self {
        case .transport(let e): e.description
        case .device(let request, let reply): "device refused \(request): \(reply)"
        case .timedOut(let request, let attempts, let waited):
            "no reply to \(request) after \(attempts) attempt\(attempts == 1 ? "" : "s") (\(Self.ms(waited))): "
                + "the link or the board stopped responding"
        case .silent(let port, let waited):
            "nothing answered on \(port) within \(Self.ms(waited)): not a pnnlab board, switched off, "
                + "or set to another baud rate"
        case .garbage(let port, let bytes):
            "\(port) sent \(bytes) bytes but no valid pnnlab frame: not a pnnlab board, or a baud-rate mismatch "
                + "(try --baud with the board's rate)"
        case .noisyLine(let port, let damaged, let intact):
            "a pnnlab board answers on \(port), but the line is too noisy for the hello to get through "
                + "(\(damaged) damaged frame\(damaged == 1 ? "" : "s"), \(intact) intact): the baud rate is right; "
                + "check the cable, its grounding and length, or use a lower baud rate on both ends"
        case .handshake(let e): e.description
        case .wrongFamily(let port, let found, let expected):
            "\(port) is a \(found) board; this needs a \(expected) board"
        case .malformedReply(let request, let detail): "malformed reply to \(request): \(detail)"
        case .cannotEncode(let why): "cannot encode request: \(why)"
        case .reconnectFailed(let port, let waited, let last):
            "\(port) did not come back within \(Self.ms(waited)) after the link dropped (\(last))"
        case .deviceChanged(let port, let expected, let found):
            "a different board answered on \(port) after reconnecting (expected \(expected), found \(found))"
        case .portReplaced(let port):
            "\(port) now leads to another program's pseudo-terminal (the emulator that served it has gone); "
                + "pnnlab leaves it alone"
        case .closed: "the link was closed"
        case .cancelled: "cancelled while waiting for the board (a request already sent may still be carried out)"
        case .recording(let e): e.description
        }
    }

    /// Whether reopening the port may cure this (unplug, hang-up, lost replies).
    public var isConnectionLoss: Bool {
        switch self {
        case .transport(.closed), .transport(.notFound), .timedOut, .noisyLine: true
        default: false
        }
    }

    static func ms(_ seconds: Double) -> String {
        seconds < 1 ? "\(Int((seconds * 1000).rounded())) ms" : "\((seconds * 10).rounded() / 10) s"
    }
}
