#!/usr/bin/env python3
"""Deep cascades on a twin: run `pnnlab train --layers` for each method and seed and print
the markdown tables of docs/results.md ("Deep cascades").

    scripts/deep-results.py [--bin .build/release/pnnlab] [--dir /tmp/deep] [--layers 32,10]
                            [--seeds 1,2,3] [--methods in-silico,pat,dfa,pib] [--task digits|mnist1d]
                            [--epochs N] [--device sim:crossbar] [--config run.toml]

Runs whose JSON is already in --dir are not run again (delete the file to redo one).
"""
import argparse
import json
import os
import statistics
import subprocess

DIGITS = 1797  # samples in digits 8×8 (train + test)


def evaluation_measurements(method, d):
    """`evaluation_measurements`, or for JSON written before it existed: evaluations ×
    (all samples × 4 reads × units); digits only."""
    if "evaluation_measurements" in d:
        return d["evaluation_measurements"]
    units = len(d["layers"])
    evaluations = 1 if method == "in-silico" else d["epochs"] // (units if method == "pib" else 1)
    return evaluations * DIGITS * 4 * units


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", default=".build/release/pnnlab")
    p.add_argument("--dir", default="/tmp/pnnlab-deep")
    p.add_argument("--layers", default="32,10")
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--methods", default="in-silico,pat,dfa,pib")
    p.add_argument("--task", default="digits")
    p.add_argument("--epochs", default=None, help="epochs per unit (default: the trainer's, 30)")
    p.add_argument("--device", default="sim:crossbar")
    p.add_argument("--config", default=None, help="a config file handed to every run")
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    tag = a.layers.replace(",", "-") + (f"-e{a.epochs}" if a.epochs else "")
    if a.device != "sim:crossbar":
        tag = a.device.replace("sim:", "").replace(",", "+") + "-" + tag
    extra = (["--epochs", a.epochs] if a.epochs else []) + (["--config", a.config] if a.config else [])
    rows = []
    for method in a.methods.split(","):
        for seed in a.seeds.split(","):
            path = os.path.join(a.dir, f"{a.task}-{tag}-{method}-{seed}.json")
            if not os.path.exists(path):
                out = subprocess.run(
                    [a.bin, "train", a.device, "--task", a.task, "--method", method, "--layers", a.layers,
                     "--seed", seed, "--json", "--store", os.path.join(a.dir, "runs.sqlite")] + extra,
                    check=True, capture_output=True, text=True).stdout
                with open(path, "w") as f:
                    f.write(out)
            with open(path) as f:
                rows.append((method, seed, json.load(f)))
    print("| method | seed | test | model (ideal twin, same θ) | digital ceiling | training measurements | all measurements | wall s |")
    print("|---|---|---|---|---|---|---|---|")
    for method, seed, d in rows:
        model = d.get("model_test_accuracy")
        train = d["measurements"] - evaluation_measurements(method, d)
        print(f"| {method} | {seed} | {100 * d['test_accuracy']:.1f} % | "
              f"{'–' if model is None else f'{100 * model:.1f} %'} | {100 * d['digital_ceiling']:.1f} % | "
              f"{train:.3g} | {d['measurements']:.3g} | {d['wall_seconds']:.0f} |")
    print()
    print("| method | seeds | test accuracy | digital ceiling | gap | training measurements | all measurements | wall s |")
    print("|---|---|---|---|---|---|---|---|")
    for method in a.methods.split(","):
        ds = [d for m, _, d in rows if m == method]
        t = [100 * d["test_accuracy"] for d in ds]
        c = [100 * d["digital_ceiling"] for d in ds]
        gap = [x - y for x, y in zip(t, c)]
        sd = lambda v: statistics.stdev(v) if len(v) > 1 else 0.0
        print(f"| {method} | {len(ds)} | {statistics.mean(t):.1f} % ± {sd(t):.1f} | {statistics.mean(c):.1f} % ± {sd(c):.1f} | "
              f"{statistics.mean(gap):+.1f} | "
              f"{statistics.mean(d['measurements'] - evaluation_measurements(method, d) for d in ds):.3g} | "
              f"{statistics.mean(d['measurements'] for d in ds):.3g} | "
              f"{statistics.mean(d['wall_seconds'] for d in ds):.0f} |")


if __name__ == "__main__":
    main()
