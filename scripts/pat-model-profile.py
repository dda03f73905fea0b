#!/usr/bin/env python3
"""PAT (and in-silico) on an emulated crossbar with hidden, non-default constants: the
family's ideal model against the model of the board's own calibration (`--model-profile`).
Prints the markdown tables of docs/results.md ("PAT with a calibrated model").

    scripts/pat-model-profile.py [--bin .build/debug/pnnlab] [--dir /tmp/pat-profile]
        [--board-seed 5] [--seeds 1,2,3] [--methods pat,in-silico] [--layers 10]
        [--emulator-options "--adc-gain-spread 0.2 --adc-offset-spread 0.01"]

Two emulated boards with the same seed (the same hidden constants), one per model, so the
two conditions run at once and neither board sees the other's training: board `ideal`
trains with the family's ideal model, board `calibrated` is calibrated first
(`pnnlab calibrate PORT --json`) and trains through that profile's model. With --layers
H,C, each condition gets two boards (H outputs, then C), and the calibrated ones get a
profile each. Runs whose JSON is already in --dir are not run again.
"""
import argparse
import json
import os
import shlex
import signal
import statistics
import subprocess
import threading
import time


def start_emulator(a, link, rows, outputs, seed):
    log = open(link + ".log", "w")
    p = subprocess.Popen(
        [a.bin, "emulate", "crossbar", "--link", link, "--rows", str(rows), "--outputs", str(outputs), "--seed",
         str(seed)] + shlex.split(a.emulator_options), stdout=log, stderr=subprocess.STDOUT)
    for _ in range(600):
        if os.path.exists(link) and os.path.getsize(link + ".log") > 0:
            return p
        time.sleep(0.1)
    raise SystemExit(f"emulator on {link} did not come up")


def run_json(cmd, path):
    if not os.path.exists(path):
        t0 = time.time()
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        d = json.loads(out)
        d["command_wall_seconds"] = time.time() - t0
        with open(path, "w") as f:
            json.dump(d, f)
    with open(path) as f:
        return json.load(f)


def condition(a, name, widths, lines, results):
    store = os.path.join(a.dir, f"{name}.sqlite")
    boards, procs = [], []
    try:
        for u, outputs in enumerate(widths):
            link = os.path.join(a.dir, f"{name}-u{u + 1}")
            if os.path.exists(link):
                os.remove(link)
            procs.append(start_emulator(a, link, lines[u], outputs, a.board_seed + u))
            boards.append(link)
        profiles = []
        if name == "calibrated":
            for u, link in enumerate(boards):
                cal = run_json([a.bin, "calibrate", link, "--json", "--store", store],
                               os.path.join(a.dir, f"calibration-u{u + 1}.json"))
                results.setdefault("calibrations", []).append(cal)
                profiles.append(str(cal["calibration_id"]))
        for method in a.methods.split(","):
            for seed in a.seeds.split(","):
                cmd = [a.bin, "train", ",".join(boards), "--task", a.task, "--layers", a.layers, "--method", method,
                       "--seed", seed, "--json", "--store", store]
                if profiles:
                    cmd += ["--model-profile", ",".join(profiles)]
                path = os.path.join(a.dir, f"{name}-{method}-{seed}.json")
                results.setdefault(name, []).append((method, seed, run_json(cmd, path)))
    finally:
        for p in procs:
            p.send_signal(signal.SIGINT)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", default=".build/debug/pnnlab")
    p.add_argument("--dir", default="/tmp/pat-profile")
    p.add_argument("--board-seed", type=int, default=5)
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--methods", default="pat,in-silico")
    p.add_argument("--layers", default="10")
    p.add_argument("--task", default="digits")
    p.add_argument("--emulator-options", default="--adc-gain-spread 0.2 --adc-offset-spread 0.01")
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    widths = [int(w) for w in a.layers.split(",")]
    lines = [65] + [w + 1 for w in widths[:-1]]  # digits: 64 features + bias line; then width + bias
    results = {}
    threads = [threading.Thread(target=condition, args=(a, n, widths, lines, results)) for n in ("ideal", "calibrated")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    for u, cal in enumerate(results.get("calibrations", [])):
        r = cal["result"]
        print(f"calibration of unit {u + 1}: id {cal['calibration_id']}, twin fidelity {cal['twin_fidelity']:.2f}, "
              f"pulses {r['pulses_total']}, reads {r['reads']}, vectors {r['vectors']}, "
              f"stuck {len(r['stuck_devices'])}, dead columns {r['dead_columns']}, "
              f"wall {cal['command_wall_seconds']:.0f} s")
    print()
    print("| model | method | seed | test | digital ceiling | model (ideal, same θ) | training measurements | all measurements | wall s |")
    print("|---|---|---|---|---|---|---|---|---|")
    summary = {}
    for name in ("ideal", "calibrated"):
        for method, seed, d in results.get(name, []):
            train = d["measurements"] - d["evaluation_measurements"]
            model = d.get("model_test_accuracy")
            print(f"| {name} | {method} | {seed} | {100 * d['test_accuracy']:.1f} % | {100 * d['digital_ceiling']:.1f} % | "
                  f"{'–' if model is None else f'{100 * model:.1f} %'} | {train:.3g} | {d['measurements']:.3g} | "
                  f"{d['wall_seconds']:.0f} |")
            summary.setdefault((name, method), []).append(d)
    print()
    print("| model | method | seeds | test accuracy | digital ceiling | gap | training measurements | all measurements | wall s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (name, method), ds in summary.items():
        acc = [100 * d["test_accuracy"] for d in ds]
        ceil = [100 * d["digital_ceiling"] for d in ds]
        sd = lambda x: statistics.stdev(x) if len(x) > 1 else 0.0
        print(f"| {name} | {method} | {len(ds)} | {statistics.mean(acc):.1f} % ± {sd(acc):.1f} | "
              f"{statistics.mean(ceil):.1f} % ± {sd(ceil):.1f} | {statistics.mean(acc) - statistics.mean(ceil):+.1f} | "
              f"{statistics.mean(d['measurements'] - d['evaluation_measurements'] for d in ds):.3g} | "
              f"{statistics.mean(d['measurements'] for d in ds):.3g} | {statistics.mean(d['wall_seconds'] for d in ds):.0f} |")


if __name__ == "__main__":
    main()
