#!/usr/bin/env python3
"""Values landing in numpy through pnnlab's Python client (issue 15's bench; run by
`make bench` through Sources/pnnbench/RemoteBench.swift against an in-process server).

    remote_numpy.py HOST:PORT --device NAME --rows N --seconds S

Measures ``device.measure(x)`` on an N-row batch for about S seconds (outputs arrive as
packed little-endian float64 bytes and become an ndarray with one ``numpy.frombuffer``),
and the median round trip of a one-row measure. Prints one JSON line.
"""

import argparse
import json
import statistics
import time

import numpy as np

import pnnlab


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("address")
    parser.add_argument("--device", required=True)
    parser.add_argument("--rows", type=int, default=8192)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()

    device = pnnlab.connect(args.address).device(args.device)
    d = device.descriptor.inputs
    rng = np.random.default_rng(1)
    x = d.lower + (d.upper - d.lower) * rng.uniform(0.1, 0.9, size=(args.rows, d.count))
    y = device.measure(x)
    assert y.shape == (args.rows, device.output_count) and y.dtype == np.float64

    values = 0
    calls = []
    deadline = time.perf_counter() + args.seconds
    while time.perf_counter() < deadline or len(calls) < 3:
        t0 = time.perf_counter()
        values_now = device.measure(x).size
        calls.append(time.perf_counter() - t0)
        values += values_now
    per_call = statistics.median(calls)

    one = x[:1]
    trips = []
    for _ in range(50):
        device.measure(one)
    for _ in range(500):
        t0 = time.perf_counter()
        device.measure(one)
        trips.append(time.perf_counter() - t0)

    print(json.dumps({
        "values_per_s": y.size / per_call,
        "round_trip_s": statistics.median(trips),
        "rows": args.rows,
        "outputs": int(device.output_count),
        "calls": len(calls),
    }))


if __name__ == "__main__":
    main()
