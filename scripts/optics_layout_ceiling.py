#!/usr/bin/env python3
"""Why in-situ phase training of `sim:optics` on digits stays near chance: the layout's ceiling.

The twin (and the rig) show the input macro-pixels and the trainable ones side by side, so
the field at camera pixel k is a_k(x) + b_k(theta): the inputs' speckle plus one complex
number per pixel from the trainable region. Class score k = |a_k(x) + b_k|^2, whatever the
trainable region's size: two real degrees of freedom per class. This script trains that
layout digitally with b_k free (an upper bound: the region can realise any b for 10 pixels),
noise-free, on the same phase encoding (pi * pixel/16, plus a bias line at pi/2), a 70/30
split, softmax readout; and, for contrast, an "overlay" layout where the trainable phases
add to the input phases on the same macro-pixels (a phase mask in the input's own plane).
Independent of pnnlab (numpy only). Prints one JSON object.

`--encoding twin` encodes the inputs as `pnnlab train sim:optics` does instead: features
standardised on the training split, v = 0.8 * clip(z / 3, -1, 1), grey round(127.5 (v + 1)),
bias line at v = 0.8, phase 2 pi grey / 256 (the twin's linear LUT, `--ideal`); on such an
SLM grey addition mod 256 is phase addition mod 2 pi, so the overlay's continuous trainable
phases are the integer grey levels relaxed.

    scripts/optics_layout_ceiling.py [--iterations 3000] [--seed 1] [--encoding script|twin]
"""
from __future__ import annotations

import argparse
import json
import pathlib
import re

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent


def digits() -> tuple[np.ndarray, np.ndarray]:
    """The bundled 8x8 digits (embedded in Sources/PNNTraining/Datasets/DigitsCSV.swift)."""
    text = (ROOT / "Sources/PNNTraining/Datasets/DigitsCSV.swift").read_text()
    body = re.search(r'#"""\n(.*)\n"""#', text, re.S).group(1)
    rows = np.array([[float(v) for v in r.split(",")] for r in re.split(r"[;\n]", body) if r])
    return rows[:, :64] / 16.0, rows[:, 64].astype(int)


def adam(grad, params: np.ndarray, iterations: int, rate: float = 0.02) -> np.ndarray:
    m = np.zeros_like(params)
    v = np.zeros_like(params)
    for _ in range(iterations):
        g = grad(params)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        params = params - rate * m / (np.sqrt(v) + 1e-8)
    return params


def softmax_terms(s: np.ndarray, labels: np.ndarray) -> np.ndarray:
    s = s - s.max(1, keepdims=True)
    p = np.exp(s)
    p /= p.sum(1, keepdims=True)
    return (p - np.eye(10)[labels]) / len(labels)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--iterations", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--encoding", choices=["script", "twin"], default="script")
    args = ap.parse_args()
    x, y = digits()
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(y))
    n = int(0.7 * len(y))
    tr, te = order[:n], order[n:]
    if args.encoding == "twin":
        mean, sd = x[tr].mean(0), x[tr].std(0)
        sd[sd < 1e-6] = 1
        v = np.concatenate([0.8 * np.clip((x - mean) / sd / 3, -1, 1), np.full((len(y), 1), 0.8)], axis=1)
        phi = 2 * np.pi * np.round(127.5 * (v + 1)) / 256
    else:
        phi = np.concatenate([np.pi * x, np.full((len(y), 1), np.pi / 2)], axis=1)  # 65 input lines
    t = (rng.normal(size=(10, 65)) + 1j * rng.normal(size=(10, 65))) / np.sqrt(2 * 129)
    a = np.exp(1j * phi) @ t.T  # the inputs' field at the 10 class pixels

    def side_grad(p: np.ndarray) -> np.ndarray:
        b, g = p[:10] + 1j * p[10:20], np.exp(p[20])
        z = a[tr] + b
        ds = softmax_terms(g * np.abs(z) ** 2, y[tr])
        dz = ds * g * 2 * z
        return np.concatenate([dz.real.sum(0), dz.imag.sum(0), [(ds * g * np.abs(z) ** 2).sum()]])

    p = adam(side_grad, np.concatenate([rng.normal(size=20) * 0.3, [np.log(10.0)]]), args.iterations)
    side = float(((np.abs(a[te] + p[:10] + 1j * p[10:20]) ** 2).argmax(1) == y[te]).mean())

    def overlay_scores(q: np.ndarray, idx: np.ndarray):
        e = np.exp(1j * (phi[idx] + q[:65]))
        z = e @ t.T
        return e, z, np.exp(q[65]) * np.abs(z) ** 2

    def overlay_grad(q: np.ndarray) -> np.ndarray:
        e, z, s = overlay_scores(q, tr)
        ds = softmax_terms(s, y[tr])
        g = np.exp(q[65])
        gth = np.real(1j * e * ((ds * g * 2 * np.conj(z)) @ t)).sum(0)
        return np.concatenate([gth, [(ds * s).sum()]])

    q = adam(overlay_grad, np.concatenate([rng.uniform(0, 2 * np.pi, 65), [np.log(10.0)]]), args.iterations)
    overlay = float((overlay_scores(q, te)[2].argmax(1) == y[te]).mean())
    print(json.dumps({
        "side_by_side_test_accuracy": side,
        "overlay_test_accuracy": overlay,
        "chance": 0.1,
        "test_samples": int(len(te)),
        "iterations": args.iterations,
        "encoding": args.encoding,
    }))


if __name__ == "__main__":
    main()
