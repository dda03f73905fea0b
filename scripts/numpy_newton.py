#!/usr/bin/env python3
"""Dense Newton solve of a CLLN-like nonlinear resistor graph in numpy: the baseline of the
CLLN 300-node / 1500-edge solve in `make bench` (issue 11).

It repeats exactly what pnnbench times for the twin (Sources/pnnbench/CLLNBench.swift): move
one gate by ±1 mV, solve the floating network (to derive the clamp's held output voltages),
then the free and the clamped network, each by Newton's method on Kirchhoff's current law
warm-started from its previous solution, with a dense Jacobian and numpy.linalg.solve
(LAPACK gesv). Edge law (DESIGN.md "CLLN board"): K = S·softplus_w(G − V_T − V̄) + K_off on
trainable edges, a fixed conductance on the others.

    scripts/numpy_newton.py PROBLEM.json     # the graph pnnbench writes
    scripts/numpy_newton.py --random 300 1500 # a random graph of that size, same law

Prints one JSON object: seconds per free + clamped solve (best of 3 runs), Newton
iterations, the floating network's output (to check against the twin), numpy's BLAS.
The thread count is numpy's own (set OPENBLAS_NUM_THREADS=1 for one thread).
"""
import argparse
import json
import sys
import time

import numpy as np


def random_problem(nodes, edges, seed=7):
    rng = np.random.default_rng(seed)
    seen, pairs = set(), []

    def add(a, b):
        key = (min(a, b), max(a, b))
        if a != b and key not in seen:
            seen.add(key)
            pairs.append([a, b, True])

    for n in range(1, nodes):
        add(n, int(rng.integers(n)))
    while len(pairs) < edges:
        add(int(rng.integers(nodes)), int(rng.integers(nodes)))
    return {
        "nodes": nodes,
        "edges": pairs,
        "inputs": [0, 1, 2, 3, 4, 5],
        "sources": [0.3, 0.1, 0.135, 0.335, 0.435, 0.018],
        "gates": [3.0 + 0.1 * float(rng.standard_normal()) for _ in pairs],
        "physics": {"s": 8e-4, "vt": 0.7, "width": 1e-3, "off": 1e-9, "fixed": 1 / 600, "gmax": 5, "vPlus": 0.435, "vMinus": 0.018},
        "outputs": [[nodes - 1, nodes - 2]],
        "clamp": {"eta": 1.0, "targets": [0.02]},
        "repeats": 20,
    }


class Network:
    def __init__(self, p):
        self.n = p["nodes"]
        e = np.array([[a, b] for a, b, _ in p["edges"]], dtype=np.int64)
        self.a, self.b = e[:, 0], e[:, 1]
        self.trainable = np.array([t for _, _, t in p["edges"]], dtype=bool)
        self.trainable_index = np.flatnonzero(self.trainable)
        self.gates = np.array(p["gates"], dtype=float)
        ph = p["physics"]
        self.s, self.vt, self.w, self.off, self.fixed = ph["s"], ph["vt"], ph["width"], ph["off"], ph["fixed"]
        self.gmax = ph["gmax"]
        self.inputs = np.array(p["inputs"], dtype=np.int64)
        self.sources = np.array(p["sources"], dtype=float)
        self.outputs = p["outputs"]
        self.eta = p["clamp"]["eta"]
        self.targets = p["clamp"]["targets"]
        mid = (ph["vPlus"] + ph["vMinus"]) / 2
        self.predicted = np.full(self.n, mid)
        self.free = np.full(self.n, mid)
        self.clamped = np.full(self.n, mid)
        self.iterations = []

    def conductance(self, v):
        x = self.gates - self.vt - 0.5 * (v[self.a] + v[self.b])
        z = x / self.w
        with np.errstate(over="ignore"):
            softplus = np.where(z > 40, x, np.where(z < -40, 0.0, self.w * np.log1p(np.exp(np.minimum(z, 40)))))
            sigmoid = 1 / (1 + np.exp(-z))
        k = np.where(self.trainable, self.s * softplus + self.off, self.fixed)
        slope = np.where(self.trainable, -0.5 * self.s * sigmoid, 0.0)
        return k, slope

    def solve(self, v, held):
        """Newton on KCL with input and held nodes fixed; v is the warm start and the result."""
        n = self.n
        v[self.inputs] = self.sources
        for node, value in held.items():
            v[node] = value
        fixed = np.zeros(n, dtype=bool)
        fixed[self.inputs] = True
        fixed[list(held)] = True
        index = np.full(n, -1, dtype=np.int64)
        unknown = np.flatnonzero(~fixed)
        u = unknown.size
        index[unknown] = np.arange(u)
        lo, hi = v[fixed].min(), v[fixed].max()
        v[unknown] = np.clip(v[unknown], lo, hi)
        ia, ib = index[self.a], index[self.b]
        ra, rb = ia >= 0, ib >= 0
        both = ra & rb
        # Flat Jacobian positions of the four stamps of every edge.
        aa = ia[ra] * u + ia[ra]
        ab = ia[both] * u + ib[both]
        bb = ib[rb] * u + ib[rb]
        ba = ib[both] * u + ia[both]
        for iteration in range(1, 41):
            k, slope = self.conductance(v)
            d = v[self.a] - v[self.b]
            current = k * d
            dia = k + d * slope
            dib = -k + d * slope
            rhs = np.bincount(ib[rb], weights=current[rb], minlength=u) - np.bincount(ia[ra], weights=current[ra], minlength=u)
            jac = (
                np.bincount(aa, weights=dia[ra], minlength=u * u)
                + np.bincount(ab, weights=dib[both], minlength=u * u)
                - np.bincount(bb, weights=dib[rb], minlength=u * u)
                - np.bincount(ba, weights=dia[both], minlength=u * u)
            ).reshape(u, u)
            step = np.linalg.solve(jac, rhs)
            new = np.clip(v[unknown] + np.clip(step, -0.2, 0.2), lo, hi)
            largest = np.max(np.abs(new - v[unknown]))
            v[unknown] = new
            if largest < 1e-11:
                return iteration
        return 40

    def output(self, v):
        return [v[p] - (v[m] if m is not None else 0) for p, m in self.outputs]

    def held_clamped(self):
        v = self.predicted
        held = {}
        for (plus, minus), target, o in zip(self.outputs, self.targets, self.output(v)):
            delta = self.eta * (target - o)
            share = 0.5 if minus is not None else 1.0
            held[plus] = v[plus] + share * delta
            if minus is not None:
                held[minus] = v[minus] - share * delta
        return held

    def step(self, k):
        """One timed unit: a gate change, then the floating, free and clamped solves."""
        g = self.trainable_index[k % self.trainable_index.size]
        self.gates[g] = min(max(self.gates[g] + (1e-3 if k % 2 == 0 else -1e-3), 0), self.gmax)
        self.iterations.append(self.solve(self.predicted, {}))
        held = self.held_clamped()
        self.iterations.append(self.solve(self.free, {}))
        self.iterations.append(self.solve(self.clamped, held))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("problem", nargs="?", help="JSON graph written by pnnbench")
    ap.add_argument("--random", nargs=2, type=int, metavar=("NODES", "EDGES"))
    ap.add_argument("--repeats", type=int)
    args = ap.parse_args()
    if args.problem:
        with open(args.problem) as f:
            p = json.load(f)
    elif args.random:
        p = random_problem(*args.random)
    else:
        ap.error("give a PROBLEM.json or --random NODES EDGES")
    repeats = args.repeats or p.get("repeats", 20)
    net = Network(p)
    net.solve(net.predicted, {})  # as the twin's setClamp does
    initial_output = net.output(net.predicted)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for k in range(repeats):
            net.step(k)
        best = min(best, time.perf_counter() - t0)
    try:
        from numpy.__config__ import CONFIG

        blas = CONFIG["Build Dependencies"]["blas"].get("openblas configuration") or CONFIG["Build Dependencies"]["blas"]["name"]
    except Exception:
        blas = "unknown"
    json.dump(
        {
            "nodes": p["nodes"],
            "edges": len(p["edges"]),
            "seconds_per_solve": best / repeats,
            "repeats": repeats,
            "mean_newton_iterations": float(np.mean(net.iterations)),
            "initial_output": initial_output,
            "numpy": np.__version__,
            "blas": blas,
        },
        sys.stdout,
    )
    print()


if __name__ == "__main__":
    main()
