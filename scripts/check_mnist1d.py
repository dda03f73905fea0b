#!/usr/bin/env python3
"""Independent check of pnnlab's MNIST-1D (Sources/PNNTraining/Datasets/MNIST1D.swift) against
the reference generator, the PyPI `mnist1d` package (Greydanus 2020): the same procedure with
the published seed 42, 4000 training and 1000 test samples of 40 points.

pnnlab writes its set with `pnnbench --mnist1d-csv FILE` (label, then 40 values per line, the
4000 training rows first); this script builds the reference with `mnist1d.data.make_dataset`
(no download) and compares sample by sample. Prints one JSON object; exits 1 on a mismatch.

The `mnist1d` package (with numpy and scipy) goes into a private virtual environment:

    python3 -m venv .venv-mnist1d && .venv-mnist1d/bin/pip install mnist1d
    .venv-mnist1d/bin/python scripts/check_mnist1d.py --pnnbench .build/debug/pnnbench

Without `--pnnbench`, `--csv FILE` reads a file written earlier.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np


def reference() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError:
        sys.exit("check_mnist1d: the PyPI package mnist1d is not installed (see this script's docstring)")
    d = make_dataset(get_dataset_args())
    return d["x"], d["y"], d["x_test"], d["y_test"]


def pnnlab(args: argparse.Namespace) -> np.ndarray:
    if args.csv:
        return np.loadtxt(args.csv, delimiter=",")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "mnist1d.csv")
        subprocess.run([args.pnnbench, "--mnist1d-csv", path], check=True)
        return np.loadtxt(path, delimiter=",")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--pnnbench", default=".build/debug/pnnbench")
    p.add_argument("--csv", help="a file written by pnnbench --mnist1d-csv")
    p.add_argument("--tolerance", type=float, default=1e-9)
    args = p.parse_args()
    x, y, x_test, y_test = reference()
    ours = pnnlab(args)
    labels, values = ours[:, 0].astype(int), ours[:, 1:]
    n = len(y)
    report = {
        "reference_train": int(n),
        "reference_test": int(len(y_test)),
        "pnnlab_samples": int(len(labels)),
        "length": int(values.shape[1]),
        "labels_equal": bool(np.array_equal(labels[:n], y) and np.array_equal(labels[n:], y_test)),
        "max_abs_difference": float(max(np.abs(values[:n] - x).max(), np.abs(values[n:] - x_test).max())),
        "reference_train_mean": float(x.mean()),
        "reference_train_std": float(x.std()),
        "pnnlab_train_mean": float(values[:n].mean()),
        "pnnlab_train_std": float(values[:n].std()),
    }
    print(json.dumps(report, indent=1))
    ok = report["labels_equal"] and report["max_abs_difference"] <= args.tolerance and values.shape == (5000, 40)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
