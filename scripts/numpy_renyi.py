#!/usr/bin/env python3
"""Matrix-based Rényi entropy and its gradient in numpy: the baseline of pnnbench's entropy
bench (issue 13; run by `make bench` through Sources/pnnbench/EntropyBench.swift).

    numpy_renyi.py FILE N [N ...] --alphas 2,1.01 --repeats R

FILE holds, for each N in order, N×N little-endian float64 values: a trace-normalised
Gram matrix A (written by pnnbench; the same matrix pnnlab times). For each N and α the
script times S_α(A) and ∂S_α/∂A together, best of R:

- α = 2, closed form: S = −log2 ΣA², ∂S/∂A = −2A / (ln2 · ΣA²);
- any other α, by eigen-decomposition (numpy.linalg.eigh):
  S = log2(Σλ^α)/(1−α), ∂S/∂A = α/((1−α)·ln2·Σλ^α) · V diag(λ^(α−1)) Vᵀ.

Prints one JSON line: {"results": [{"n", "alpha", "seconds", "entropy", "gradient_sum"}]}.
"""

import argparse
import json
import math
import time

import numpy as np


def entropy_and_gradient(a: np.ndarray, alpha: float):
    if alpha == 2:
        sq = float(np.sum(a * a))
        return -math.log2(sq), (-2.0 / (math.log(2.0) * sq)) * a
    lam, v = np.linalg.eigh(a)
    lam = np.clip(lam, 0.0, None)
    powered = lam**alpha
    total = float(powered.sum())
    s = math.log2(total) / (1.0 - alpha)
    c = alpha / ((1.0 - alpha) * math.log(2.0) * total)
    scale = np.where(lam > 0, c * lam ** (alpha - 1.0), 0.0)
    return s, (v * scale) @ v.T


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("sizes", type=int, nargs="+")
    parser.add_argument("--alphas", default="2,1.01")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    alphas = [float(a) for a in args.alphas.split(",")]
    raw = np.fromfile(args.file, dtype="<f8")
    offset = 0
    results = []
    for n in args.sizes:
        a = raw[offset : offset + n * n].reshape(n, n)
        offset += n * n
        for alpha in alphas:
            best = math.inf
            s, g = entropy_and_gradient(a, alpha)
            for _ in range(args.repeats):
                start = time.perf_counter()
                s, g = entropy_and_gradient(a, alpha)
                best = min(best, time.perf_counter() - start)
            results.append(
                {"n": n, "alpha": alpha, "seconds": best, "entropy": s, "gradient_sum": float(np.sum(g))}
            )
    print(json.dumps({"results": results}))


if __name__ == "__main__":
    main()
