import PNNCore
import Testing

@Suite("SafetyGuard")
struct SafetyGuardTests {
    let guardian = SafetyGuard(SafetyFixtures.descriptor())

    @Test func safeParametersPassUnchangedIncludingTheBounds() throws {
        for policy in [SafetyPolicy.reject, .clamp] {
            #expect(try guardian.checkParameters(SafetyFixtures.safeParameters, policy: policy) == SafetyFixtures.safeParameters)
            #expect(try guardian.checkParameters([0, 0, 1, 20], policy: policy) == [0, 0, 1, 20])
        }
    }

    @Test func outOfRangeParameterIsRejectedWithItsNameAndRange() throws {
        let error = try #require(throws: SafetyViolation.self) {
            try guardian.checkParameters([0.5, 1.2, 0, 15], policy: .reject)
        }
        #expect(error == .parameterOutOfRange(name: "G−[0,0]", value: 1.2, lower: 0, upper: 1, unit: "µS"))
        #expect(error.description == "refused: parameter G−[0,0] = 1.2 µS is outside its safe range [0.0, 1.0] µS")
        #expect(throws: SafetyViolation.self) { try guardian.checkParameters([0.5, 1, -1, 9.99], policy: .reject) }
    }

    @Test func clampingMovesValuesToTheNearestBound() throws {
        #expect(try guardian.checkParameters([-3, 1.5, -1.01, 1e9], policy: .clamp) == [0, 1, -1, 20])
        #expect(try guardian.checkParameter(index: 3, value: 5, policy: .clamp) == 10)
    }

    @Test(arguments: [Double.nan, .infinity, -.infinity, -.nan])
    func nonFiniteValuesAreNeverClamped(value: Double) throws {
        for policy in [SafetyPolicy.reject, .clamp] {
            let error = try #require(throws: SafetyViolation.self) {
                try guardian.checkParameters([0.5, value, 0, 15], policy: policy)
            }
            #expect(error == .notFinite(what: "parameter G−[0,0]"))
            let inputs = Matrix([[0, 0, 0], [0.1, value, 0]])
            #expect(throws: SafetyViolation.notFinite(what: "input 1 of vector 1")) {
                try guardian.checkInputs(inputs, policy: policy)
            }
        }
    }

    @Test func wrongCountsAndIndicesAreRejected() {
        #expect(throws: SafetyViolation.wrongParameterCount(expected: 4, got: 3)) {
            try guardian.checkParameters([0, 0, 0], policy: .clamp)
        }
        #expect(throws: SafetyViolation.wrongInputWidth(expected: 3, got: 2)) {
            try guardian.checkInputs(Matrix(rows: 1, cols: 2), policy: .clamp)
        }
        for index in [-1, 4] {
            #expect(throws: SafetyViolation.parameterIndexOutOfRange(index: index, count: 4)) {
                try guardian.checkParameter(index: index, value: 0.5, policy: .clamp)
            }
        }
    }

    @Test func inputsAreCheckedPerVectorAndChannel() throws {
        let inputs = Matrix([[0, 0.5, -0.5], [0.1, 0.2, 0.51]])
        let error = try #require(throws: SafetyViolation.self) { try guardian.checkInputs(inputs, policy: .reject) }
        #expect(error == .inputOutOfRange(row: 1, channel: 2, value: 0.51, lower: -0.5, upper: 0.5, unit: "V"))
        #expect(error.description.contains("input 2 of vector 1 = 0.51 V"))
        #expect(try guardian.checkInputs(inputs, policy: .clamp) == Matrix([[0, 0.5, -0.5], [0.1, 0.2, 0.5]]))
        #expect(try guardian.checkInputs(Matrix(rows: 0, cols: 3), policy: .reject).rows == 0)
    }

    @Test func probesAreCheckedInBothChangesAndInputs() throws {
        let good = Probe(id: 1, changes: [ParameterChange(index: 3, value: 12)], inputs: SafetyFixtures.inputs(rows: 2))
        let checked = try guardian.checkProbe(good, policy: .reject)
        #expect(checked.changes == good.changes && checked.inputs == good.inputs && checked.id == 1)

        let badChange = Probe(id: 2, changes: [ParameterChange(index: 0, value: 2)], inputs: SafetyFixtures.inputs(rows: 1))
        #expect(throws: SafetyViolation.self) { try guardian.checkProbe(badChange, policy: .reject) }
        let badIndex = Probe(id: 3, changes: [ParameterChange(index: 7, value: 0)], inputs: SafetyFixtures.inputs(rows: 1))
        #expect(throws: SafetyViolation.parameterIndexOutOfRange(index: 7, count: 4)) {
            try guardian.checkProbe(badIndex, policy: .clamp)
        }
        let badInput = Probe(id: 4, inputs: Matrix([[0, 0, 0.9]]))
        #expect(throws: SafetyViolation.self) { try guardian.checkProbe(badInput, policy: .reject) }
        let nanChange = Probe(id: 5, changes: [ParameterChange(index: 1, value: .nan)], inputs: Matrix([[0, 0, 0]]))
        #expect(throws: SafetyViolation.self) { try guardian.checkProbe(nanChange, policy: .clamp) }

        let clamped = try guardian.checkProbe(
            Probe(id: 6, changes: [ParameterChange(index: 0, value: 2)], inputs: Matrix([[0, 0, 0.9]])), policy: .clamp)
        #expect(clamped.changes == [ParameterChange(index: 0, value: 1)])
        #expect(clamped.inputs == Matrix([[0, 0, 0.5]]))
    }
}
