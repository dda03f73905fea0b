import GRPCCore
import PNNTraining

/// Why a remote device or `pnnlab serve` could not do what was asked, phrased for the
/// person at the bench (and, on the server, sent to the client as the call's message).
public enum RemoteError: Error, Equatable, CustomStringConvertible {
    /// A `--listen` or `remote://` address that cannot be used.
    case badAddress(String, why: String)
    /// A non-loopback listen address without an access token.
    case tokenRequired(listen: String)
    /// `--cert` without `--key` or the other way round, or an unreadable file.
    case tls(why: String)
    /// The server serves no device of that name.
    case unknownDevice(name: String, served: [String])
    /// Another client holds the device's write lease.
    case leased(device: String, holder: String, since: String)
    /// A call that changes the device was made without the write lease.
    case needsLease(device: String, operation: String)
    /// The call carried no token or the wrong one.
    case unauthenticated
    /// The run store has no such run.
    case unknownRun(Int64)
    /// The server could not be reached or broke off.
    case unreachable(server: String, why: String)
    /// The server refused the call; `message` is its reason.
    case refused(device: String, message: String)
    /// A reply whose shape does not match what was asked.
    case malformed(String)
    /// The far end reports a family this pnnlab has no driver for.
    case unknownFamily(device: String, family: String, known: [String])
    /// `--record` given for a remote device (the link is on the server).
    case recordingRemote(String)
    /// This server was built without a run launcher: runs can be read, not started.
    case runsReadOnly
    /// Pause asked of a run this server is not training.
    case notTraining(run: Int64, status: String)
    /// StartRun or ResumeRun with a contrastive method (they train from the client).
    case contrastiveOverTheWire(device: String)
    /// Resume asked of a run whose device this server does not serve.
    case runDeviceNotServed(run: Int64, device: String, served: [String])

    public var description: String {
        switch self {
        case .badAddress(let text, let why): "'\(text)' is not a usable address: \(why)"
        case .tokenRequired(let listen):
            "listening on \(listen) lets other machines in; give an access token with --token or "
                + "\(RemoteDefaults.tokenVariable) (or listen on 127.0.0.1)"
        case .tls(let why): "TLS: \(why)"
        case .unknownDevice(let name, let served):
            "this server has no device '\(name)'; it serves "
                + (served.isEmpty ? "none" : served.joined(separator: ", "))
        case .leased(let device, let holder, let since):
            "device \(device) is in use: \(holder) holds its write lease (since \(since)); "
                + "reading and measuring still work, programming waits until it is released"
        case .needsLease(let device, let operation):
            "\(operation) changes device \(device) and needs its write lease (AcquireLease) first"
        case .unauthenticated:
            "the server wants an access token: set \(RemoteDefaults.tokenVariable) to the token 'pnnlab serve' was given"
        case .unknownRun(let id): "the server's run store has no run \(id)"
        case .unreachable(let server, let why): "cannot reach pnnlab serve at \(server): \(why)"
        case .refused(let device, let message): "\(device): \(message)"
        case .malformed(let what): "malformed reply from pnnlab serve: \(what)"
        case .unknownFamily(let device, let family, let known):
            "\(device) is a '\(family)' device, which this pnnlab has no driver for (known: "
                + known.joined(separator: ", ") + ")"
        case .recordingRemote(let device):
            "--record writes the frames of a local link; \(device) is on another machine (record on the server)"
        case .contrastiveOverTheWire(let device):
            "runs started over the wire train with the Jacobian methods ("
                + TrainingMethod.allCases.map(\.rawValue).joined(separator: ", ")
                + "); train a contrastive method from the client: pnnlab train remote://HOST:PORT/\(device) --method …"
        case .runsReadOnly: "this server reads runs but does not start, pause or resume them"
        case .notTraining(let run, let status):
            "run \(run) is not training in this server (its status is \(status)); only a running run can be paused"
        case .runDeviceNotServed(let run, let device, let served):
            "run \(run) was trained on \(device), which this server does not serve (it serves "
                + (served.isEmpty ? "none" : served.joined(separator: ", ")) + ")"
        }
    }

    /// The gRPC status a server answers with for this error.
    var code: RPCError.Code {
        switch self {
        case .unknownDevice, .unknownRun: .notFound
        case .leased: .failedPrecondition
        case .notTraining, .runDeviceNotServed: .failedPrecondition
        case .runsReadOnly, .contrastiveOverTheWire: .unimplemented
        case .needsLease: .permissionDenied
        case .unauthenticated: .unauthenticated
        case .badAddress, .malformed: .invalidArgument
        default: .internalError
        }
    }
}
