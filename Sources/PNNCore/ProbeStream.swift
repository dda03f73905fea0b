/// The `uncheckedStream` of a substrate that measures one probe at a time: runs `probes` in
/// order in a task and yields each result as it comes; the first error ends the stream, and
/// a consumer that stops listening cancels the task before its next probe.
public enum ProbeStream {
    /// Streams `run(probe)` for each of `probes`, one after another.
    public static func sequential(
        _ probes: [Probe], _ run: @escaping @Sendable (Probe) async throws -> ProbeResult
    ) -> AsyncThrowingStream<ProbeResult, any Error> {
        let (stream, continuation) = AsyncThrowingStream<ProbeResult, any Error>.makeStream()
        let task = Task {
            do {
                for probe in probes {
                    if Task.isCancelled { break }
                    continuation.yield(try await run(probe))
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}
