import PNNCore
import Testing

/// The schedule state machine on a toy "device" whose free output is a single number the
/// test controls, so every rule (clamp targets, hinge, alternation, r0) can be checked.
@Suite struct ScheduleMachineTests {
    static func dataset(classification: Bool = false) -> ContrastiveDataset {
        ContrastiveDataset(tasks: [
            ContrastiveTask(
                name: "alpha", classification: classification,
                points: [ContrastivePoint(inputs: [0.1], labels: [0.02]), ContrastivePoint(inputs: [0.2], labels: [0.03])]),
            ContrastiveTask(
                name: "beta", classification: classification, points: [ContrastivePoint(inputs: [0.3], labels: [-0.05])]),
        ])
    }

    /// Drives the machine with output `out(task, point)`; returns the records and the plans.
    static func drive(_ m: inout ScheduleMachine, out: (Int, Int) -> Double) -> ([ScheduleRecord], [StepPlan]) {
        var records: [ScheduleRecord] = []
        var plans: [StepPlan] = []
        while true {
            switch m.next() {
            case .evaluate:
                let outputs = m.dataset.tasks.indices.map { t in m.dataset.tasks[t].points.indices.map { [out(t, $0)] } }
                records.append(m.record(outputs: outputs, gates: [1, 2]))
            case .trace:
                records.append(m.trace(gates: [1, 2]))
            case .step(let t, let p):
                plans.append(m.plan(outputFree: [out(t, p)]))
            case .finished:
                return (records, plans)
            }
        }
    }

    @Test func coupledAlternatesTasksWithExactSlotTimes() {
        let schedule = ContrastiveSchedule(method: .coupled, eta: 1, stepSeconds: 1e-4, periodSeconds: 1e-3, periods: 3)
        var m = ScheduleMachine(schedule: schedule, dataset: Self.dataset())
        let (records, plans) = Self.drive(&m) { _, _ in 0 }
        // 5 steps per 0.5 ms slot, 2 slots, 3 periods.
        #expect(plans.count == 30)
        #expect(plans.allSatisfy { abs($0.seconds - 1e-4) < 1e-15 && $0.clamp?.mode == .clamped && $0.clamp?.eta == 1 })
        #expect(records.first?.kind == .start)
        let ends = records.filter { $0.kind == .slotEnd }
        #expect(ends.map(\.task) == [0, 1, 0, 1, 0, 1])
        #expect(abs(ends.last!.time - 3e-3) < 1e-12)
        // Errors: alpha points have labels 0.02, 0.03 with output 0 → mean square 0.00065.
        #expect(abs(ends[0].errors[0] - 0.00065) < 1e-12)
        #expect(abs(ends[0].errors[1] - 0.0025) < 1e-12)
    }

    @Test func lastStepOfASlotIsShortened() {
        let schedule = ContrastiveSchedule(method: .coupled, eta: 0.5, stepSeconds: 3e-4, periodSeconds: 1e-3, periods: 1)
        var m = ScheduleMachine(schedule: schedule, dataset: Self.dataset())
        let (_, plans) = Self.drive(&m) { _, _ in 0 }
        #expect(plans.map(\.seconds).reduce(0, +) - 1e-3 < 1e-15)
        #expect(abs(plans[1].seconds - 2e-4) < 1e-15)
    }

    @Test func hingeZeroesEtaForCoupledAndSkipsForOverclamp() {
        let data = Self.dataset(classification: true)
        // Output 0.1 is beyond alpha's positive labels; beta (−0.05) is not satisfied.
        var coupled = ScheduleMachine(
            schedule: ContrastiveSchedule(
                method: .coupled, eta: 1, stepSeconds: 1e-4, periodSeconds: 4e-4, periods: 1, hinge: true),
            dataset: data)
        let (_, cplans) = Self.drive(&coupled) { _, _ in 0.1 }
        #expect(cplans[0].beyondLabel && cplans[0].clamp?.eta == 0 && cplans[0].seconds > 0)
        #expect(!cplans[2].beyondLabel && cplans[2].clamp?.eta == 1)
        var over = ScheduleMachine(
            schedule: ContrastiveSchedule(
                method: .overclamp, eta: 0.25, overclampLevel: 0.435, stepSeconds: 1e-4, periodSeconds: 4e-4, periods: 1,
                hinge: true),
            dataset: data)
        let (records, oplans) = Self.drive(&over) { _, _ in 0.1 }
        #expect(oplans[0].clamp == nil && oplans[0].seconds == 0)
        let beta = oplans[2]
        #expect(beta.clamp?.targets == [-0.435] && beta.clamp?.eta == 0.25)
        #expect(abs(beta.seconds - min(over.schedule.stepSeconds * 10, records[0].r0 * 0.15)) < 1e-15)
        #expect(records.last?.skipped == 2)
    }

    @Test func overclampAdaptsR0TowardThePeriod() {
        let schedule = ContrastiveSchedule(
            method: .overclamp, eta: 0.25, stepSeconds: 1e-4, periodSeconds: 2e-4, periods: 40)
        var m = ScheduleMachine(schedule: schedule, dataset: Self.dataset())
        // A constant error of 1 mV makes every step r0·1e-3: r0 must settle where a period lasts τ.
        let data = m.dataset
        let (records, _) = Self.drive(&m) { t, p in data.tasks[t].points[p].labels[0] - 1e-3 }
        let last = records.filter { $0.kind == .slotEnd }
        let perPeriod = last[last.count - 1].time - last[last.count - 3].time
        #expect(abs(perPeriod - 2e-4) / 2e-4 < 0.01)
    }

    @Test func epNudgesBothNetworks() {
        let schedule = ContrastiveSchedule(method: .ep, eta: 0.1, stepSeconds: 1e-4, periodSeconds: 2e-4, periods: 1)
        var m = ScheduleMachine(schedule: schedule, dataset: Self.dataset())
        let (_, plans) = Self.drive(&m) { _, _ in 0 }
        #expect(plans.allSatisfy { $0.clamp?.mode == .both && $0.clamp?.eta == 0.1 })
    }

    @Test func recordsOnlyChosenPeriodsAndTracesTheLast() {
        let schedule = ContrastiveSchedule(
            method: .coupled, eta: 1, stepSeconds: 1e-4, periodSeconds: 4e-4, periods: 10, recordEvery: 5, recordTail: 2,
            traceEvery: 1)
        var m = ScheduleMachine(schedule: schedule, dataset: Self.dataset())
        let (records, _) = Self.drive(&m) { _, _ in 0 }
        let ends = records.filter { $0.kind == .slotEnd }
        #expect(Set(ends.map(\.period)) == [4, 8, 9])
        let traces = records.filter { $0.kind == .trace }
        #expect(traces.count == 2 && traces.allSatisfy { $0.period == 9 })  // 4 steps, 2 replaced by slot ends
    }

    @Test func resumedScheduleContinuesNumberingWithoutAStartRecord() {
        let schedule = ContrastiveSchedule(
            method: .overclamp, eta: 0.25, stepSeconds: 1e-4, periodSeconds: 2e-4, periods: 5, startPeriod: 3,
            initialR0: 0.5)
        var m = ScheduleMachine(schedule: schedule, dataset: Self.dataset())
        #expect(m.r0 == 0.5)
        let (records, _) = Self.drive(&m) { _, _ in 0 }
        #expect(records.first?.kind == .slotEnd && records.first?.period == 3)
        #expect(records.last?.period == 4)
    }

    @Test func invalidSchedulesAndDatasetsAreRefused() {
        let bad = ContrastiveSchedule(method: .overclamp, eta: 0, periodSeconds: 1e-3, periods: 1)
        #expect(bad.problem(maxLearnSeconds: 1) != nil)
        let long = ContrastiveSchedule(method: .coupled, eta: 1, stepSeconds: 2, periodSeconds: 4, periods: 1)
        #expect(long.problem(maxLearnSeconds: 1)?.contains("step time") == true)
        let space = ChannelSpace(count: 1, lower: 0, upper: 0.5, resolution: 0, unit: .volt)
        let outputs = ChannelSpace(count: 1, lower: -1, upper: 1, resolution: 0, unit: .volt)
        var data = Self.dataset()
        #expect(data.problem(inputs: space, outputs: outputs) == nil)
        data.tasks[0].points[0].inputs = [0.9]
        #expect(data.problem(inputs: space, outputs: outputs)?.contains("outside the safe range") == true)
    }
}
