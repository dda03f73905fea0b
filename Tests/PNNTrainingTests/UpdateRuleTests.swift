import PNNCore
import PNNSim
import Testing

@testable import PNNDevices
@testable import PNNExperiments
@testable import PNNRuns
@testable import PNNTraining

@Suite("Mode A / Mode B update rules and FD Jacobians")
struct UpdateRuleTests {
    /// On the ideal twin y = V·(G+ − G−) is linear in θ, so one Mode B step with η = 1 and
    /// no damping must land exactly on the least-squares solution of a target output.
    @Test func modeBSolvesALinearLeastSquaresProblemExactlyWithNoiseOff() async throws {
        var config = CrossbarConfig.ideal
        config.rows = 4
        config.outputs = 2
        let twin = CrossbarTwin(physics: try CrossbarPhysics(config: config))
        let space = twin.descriptor.parameters
        let theta0 = (0..<space.count).map { 0.5 * (space.lower[$0] + space.upper[$0]) }
        _ = try await twin.setParameters(theta0)
        var rng = SeededRandom(seed: 9)
        let inputs = Matrix(rows: 12, cols: 4, storage: (0..<48).map { _ in 0.3 * (2 * rng.uniform() - 1) })
        // A reachable target: outputs of a known weight matrix inside the window.
        let wTrue = (0..<8).map { _ in 10 * (2 * rng.uniform() - 1) }
        var target = Matrix(rows: 12, cols: 2)
        for b in 0..<12 { for j in 0..<2 { for i in 0..<4 { target[b, j] += inputs[b, i] * wTrue[i * 2 + j] } } }

        let est = try await JacobianEstimator(scheme: .central, stepResolutions: 4).estimate(
            on: twin, theta: theta0, inputs: inputs)
        // The Jacobian of output j with respect to G±[i, j] is ±V_i exactly.
        for b in 0..<12 {
            for i in 0..<4 {
                #expect(abs(est.jacobian[b * 2 + 0, (i * 2 + 0) * 2 + 0] - inputs[b, i]) < 1e-9)
                #expect(abs(est.jacobian[b * 2 + 0, (i * 2 + 0) * 2 + 1] + inputs[b, i]) < 1e-9)
                #expect(abs(est.jacobian[b * 2 + 1, (i * 2 + 0) * 2 + 0]) < 1e-12)
            }
        }
        let e = (target - est.baseOutputs).storage
        let delta = try UpdateRule.gaussNewtonStep(
            jacobian: est.jacobian, outputStep: e, learningRate: 1, solver: .svd, damping: 0, cutoff: 1e-10)
        let theta1 = UpdateRule.apply(delta, to: theta0, space: space)
        #expect(theta1 == zip(theta0, delta).map { $0 + $1 }, "the exact step stays inside the window")
        _ = try await twin.setParameters(theta1)
        let y = try await twin.measure(inputs)
        #expect((y - target).norm / target.norm < 1e-9)
    }

    @Test func modeAFollowsTheNegativeGradient() {
        let jac = Matrix([[1, 2], [3, 4], [5, 6]])
        let g = [1.0, -1, 0.5]
        let step = UpdateRule.gradientStep(jacobian: jac, lossGradient: g, learningRate: 0.1)
        #expect(abs(step[0] - -0.1 * (1 - 3 + 2.5)) < 1e-12)
        #expect(abs(step[1] - -0.1 * (2 - 4 + 3)) < 1e-12)
    }

    @Test func dampedStepShrinksTowardZeroAsDampingGrows() throws {
        let jac = Matrix([[2, 0], [0, 1], [1, 1]])
        let e = [1.0, 2, 3]
        let small = try UpdateRule.gaussNewtonStep(
            jacobian: jac, outputStep: e, learningRate: 1, solver: .damped, damping: 1e-12, cutoff: 0)
        let exact = try jac.leastSquares(Matrix(column: e)).storage
        #expect(abs(small[0] - exact[0]) < 1e-8 && abs(small[1] - exact[1]) < 1e-8)
        let big = try UpdateRule.gaussNewtonStep(
            jacobian: jac, outputStep: e, learningRate: 1, solver: .damped, damping: 10, cutoff: 0)
        #expect(Matrix(column: big).norm < 0.2 * Matrix(column: exact).norm)
    }

    @Test func updatesNeverLeaveTheSafeRange() {
        let space = ParameterSpace(count: 3, lower: 0.25, upper: 25, resolution: 0.25, unit: .microsiemens)
        let theta = UpdateRule.apply([100, -100, 1], to: [10, 10, 10], space: space)
        #expect(theta == [25, 0.25, 11])
    }

    @Test func probesRespectBoundsOneSidedly() {
        let space = ParameterSpace(count: 2, lower: 0, upper: 10, resolution: 0.5, unit: .microsiemens)
        let est = JacobianEstimator(scheme: .central, stepResolutions: 4)
        let (probes, steps) = est.probes(theta: [9.5, 5], indices: [0, 1], inputs: Matrix(rows: 1, cols: 1), space: space)
        #expect(steps[0].plus == 0.5 && steps[0].minus == 2)
        #expect(steps[1].plus == 2 && steps[1].minus == 2)
        for p in probes { for c in p.changes { #expect(c.value >= 0 && c.value <= 10) } }
    }
}
