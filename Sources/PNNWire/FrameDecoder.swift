#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Incremental receiver: feed it whatever bytes the link delivers, in chunks of any size,
/// and it hands back complete, verified frames. Bytes up to each 0x00 delimiter form one
/// candidate frame; a candidate failing COBS, length, size, CRC, version or flag checks is
/// counted in `statistics` and dropped — never delivered. After garbage or a lost byte it
/// resynchronises at the next 0x00, so at most the damaged frame is lost.
///
/// Allocation-free per byte: one fixed buffer, decoded in place; only delivered payloads
/// allocate (one array per frame).
public struct FrameDecoder: Sendable {
    /// Counters of what the decoder saw.
    public struct Statistics: Sendable, Equatable {
        /// Verified frames handed to the caller.
        public var framesDelivered = 0
        /// All bytes fed in.
        public var bytesReceived = 0
        /// Candidates that were not valid COBS.
        public var cobsErrors = 0
        /// Candidates whose CRC did not match.
        public var crcErrors = 0
        /// Candidates larger than the limits (dropped without being decoded when too long
        /// to buffer).
        public var oversize = 0
        /// Candidates shorter than header + CRC, or with reserved flag bits.
        public var malformed = 0
        /// CRC-valid frames of another protocol version.
        public var versionErrors = 0
        /// The version byte of the last such frame: lets the host report "device speaks
        /// protocol N" instead of a bare timeout.
        public var lastForeignVersion: UInt8?
        /// Bytes belonging to rejected candidates (delimiters excluded).
        public var bytesDiscarded = 0
        /// CRC or COBS failures that start like a frame of this protocol (first decoded byte =
        /// the version): frames of a pnnlab peer damaged on the line (noise), as opposed to
        /// bytes that were never frames (e.g. a baud-rate mismatch).
        public var damagedFrames = 0

        /// Total rejected candidates.
        public var framesRejected: Int { cobsErrors + crcErrors + oversize + malformed + versionErrors }

        public init() {}
    }

    /// The size limits applied.
    public let limits: FrameLimits
    /// What has been seen so far.
    public private(set) var statistics = Statistics()

    private var buffer: [UInt8]
    private var count = 0
    private var overflowing = false

    public init(limits: FrameLimits = .standard) {
        self.limits = limits
        let largest = max(limits.maxBulkFrame, limits.maxControlFrame)
        buffer = [UInt8](repeating: 0, count: COBS.maxEncodedCount(largest))
    }

    /// Bytes of a partial frame waiting for its delimiter.
    public var pendingByteCount: Int { count }

    /// Feeds bytes; `deliver` is called once per verified frame, in order. Delimiters are
    /// found with `memchr` and each run up to one is copied with one `memcpy`.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, _ deliver: (Frame) -> Void) {
        feed(bytes, deliver, damaged: {})
    }

    /// Feeds bytes; `deliver` is called once per verified frame and `damaged` once per
    /// candidate counted in ``Statistics/damagedFrames``, each in the order of the bytes (a
    /// device answers a damaged request with a notice in its place among the others, §8).
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, _ deliver: (Frame) -> Void, damaged: () -> Void) {
        let n = bytes.count
        guard let input = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), n > 0 else { return }
        statistics.bytesReceived += n
        let capacity = buffer.count
        var start = 0
        while start < n {
            let end: Int
            if let z = memchr(input + start, 0, n - start) {
                end = UnsafeRawPointer(z) - UnsafeRawPointer(input)
            } else {
                end = n
            }
            let segment = end - start
            if !overflowing {
                if count + segment <= capacity {
                    if segment > 0 {
                        let at = count
                        buffer.withUnsafeMutableBufferPointer { b in
                            (b.baseAddress! + at).update(from: input + start, count: segment)
                        }
                    }
                    count += segment
                } else {
                    overflowing = true
                }
            }
            if overflowing { statistics.bytesDiscarded += segment }
            start = end
            if end < n {  // delimiter found
                finishCandidate(deliver, damaged)
                start += 1
            }
        }
    }

    /// Feeds bytes and returns the frames they completed.
    public mutating func feed(_ bytes: [UInt8]) -> [Frame] {
        var frames: [Frame] = []
        bytes.withUnsafeBytes { feed($0) { frames.append($0) } }
        return frames
    }

    private mutating func finishCandidate(_ deliver: (Frame) -> Void, _ damaged: () -> Void) {
        defer {
            count = 0
            overflowing = false
        }
        if overflowing {
            statistics.oversize += 1
            statistics.bytesDiscarded += count
            return
        }
        if count == 0 { return }  // idle delimiters are allowed between frames
        let encoded = count
        // A frame of this protocol begins with a COBS code ≥ 2 and the version byte.
        let looksLikeFrame = count >= 2 && buffer[0] >= 2 && buffer[1] == PNNWireVersion.protocolVersion
        let limits = self.limits
        let result = buffer.withUnsafeMutableBufferPointer { b -> Result<Frame, FrameError> in
            let candidate = UnsafeMutableBufferPointer(rebasing: b[0..<encoded])
            let n: Int
            do throws(COBSError) { n = try COBS.decodeInPlace(candidate) } catch { return .failure(.cobs(error)) }
            do throws(FrameError) {
                return .success(try Frame.decode(raw: UnsafeBufferPointer(rebasing: candidate[0..<n]), limits: limits))
            } catch { return .failure(error) }
        }
        switch result {
        case .success(let frame):
            statistics.framesDelivered += 1
            deliver(frame)
        case .failure(let error):
            statistics.bytesDiscarded += encoded
            switch error {
            case .cobs:
                statistics.cobsErrors += 1
                if looksLikeFrame {
                    statistics.damagedFrames += 1
                    damaged()
                }
            case .crcMismatch:
                statistics.crcErrors += 1
                if looksLikeFrame {
                    statistics.damagedFrames += 1
                    damaged()
                }
            case .oversize: statistics.oversize += 1
            case .tooShort, .reservedFlags: statistics.malformed += 1
            case .unsupportedVersion(let v):
                statistics.versionErrors += 1
                statistics.lastForeignVersion = v
            }
        }
    }
}
