import PNNTransport
import PNNWire
import Synchronization

extension WireClient {
    // MARK: Deadlines

    /// Makes sure a timer fires at the earliest request deadline (or earlier). The timer
    /// sleeps on the injected clock, so a test's ``ManualClock/advance(by:)`` fires it.
    func scheduleTimer() {
        guard failure == nil else {
            cancelTimer()
            return
        }
        // With nothing in flight a running timer is left to fire (it finds nothing to do):
        // cancelling and re-creating it for every stop-and-wait request costs more. Not on
        // a test's manual clock, where it would be a sleeper the test did not expect.
        guard let next = tracker.nextDeadline else {
            if !clock.idleTimersMayRun { cancelTimer() }
            return
        }
        if timerTask != nil, let target = timerTarget, target <= next { return }
        cancelTimer()
        timerGeneration += 1
        let generation = timerGeneration
        timerTarget = next
        let clock = self.clock
        timerTask = Task { [weak self] in
            do {
                try await clock.sleep(until: .seconds(next))
            } catch {
                return
            }
            await self?.timerFired(generation)
        }
    }

    func timerFired(_ generation: UInt64) {
        guard generation == timerGeneration else { return }
        timerTask = nil
        timerTarget = nil
        tick()
    }

    func cancelTimer() {
        timerTask?.cancel()
        timerTask = nil
        timerTarget = nil
    }
}
