#!/usr/bin/env python3
"""Information-plane trajectory of a `--method pib` run: I(X;Z) against I(Y;Z) of each
hidden unit, one point per committed epoch (the checkpoint's iXZ and iYZ, bits: the mean
over the epoch's batches of the matrix-based Rényi α = 2 estimates), as an SVG.

    scripts/deep-info-plane.py STORE RUN OUT.svg
"""
import json
import sqlite3
import sys


def main():
    store, run, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    method, = db.execute("select method from run where id = ?", (run,)).fetchone()
    if method != "pib":
        sys.exit(f"run {run} is a {method} run; the information plane is recorded by pib runs")
    units = {}
    for (checkpoint,) in db.execute("select checkpoint from step where run_id = ? order by step", (run,)):
        c = json.loads(checkpoint)
        if c.get("iXZ") is not None:
            units.setdefault(c["pibUnit"], []).append((c["iXZ"], c["iYZ"]))
    if not units:
        sys.exit(f"run {run} has no information-plane points yet")
    pts = [p for u in units.values() for p in u]
    x0, x1 = min(p[0] for p in pts), max(p[0] for p in pts)
    y0, y1 = min(p[1] for p in pts), max(p[1] for p in pts)
    padx, pady = 0.05 * (x1 - x0 or 1), 0.05 * (y1 - y0 or 1)
    x0, x1, y0, y1 = x0 - padx, x1 + padx, y0 - pady, y1 + pady
    w, h, m = 480, 360, 56
    sx = lambda v: m + (v - x0) / (x1 - x0) * (w - 1.5 * m)
    sy = lambda v: h - m - (v - y0) / (y1 - y0) * (h - 1.5 * m)
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<line x1="{m}" y1="{h - m}" x2="{w - m / 2}" y2="{h - m}" stroke="black"/>',
           f'<line x1="{m}" y1="{h - m}" x2="{m}" y2="{m / 2}" stroke="black"/>',
           f'<text x="{w / 2}" y="{h - 14}" text-anchor="middle">I(X;Z), bits</text>',
           f'<text x="16" y="{h / 2}" text-anchor="middle" transform="rotate(-90 16 {h / 2})">I(Y;Z), bits</text>']
    for v in (x0 + padx, x1 - padx):
        svg.append(f'<text x="{sx(v):.1f}" y="{h - m + 16}" text-anchor="middle">{v:.2f}</text>')
    for v in (y0 + pady, y1 - pady):
        svg.append(f'<text x="{m - 6}" y="{sy(v) + 4:.1f}" text-anchor="end">{v:.2f}</text>')
    for k, (unit, p) in enumerate(sorted(units.items())):
        col = colours[k % len(colours)]
        path = " ".join(f"{sx(a):.1f},{sy(b):.1f}" for a, b in p)
        svg.append(f'<polyline points="{path}" fill="none" stroke="{col}" stroke-width="1.5"/>')
        for i, (a, b) in enumerate(p):
            r = 4 if i in (0, len(p) - 1) else 2
            svg.append(f'<circle cx="{sx(a):.1f}" cy="{sy(b):.1f}" r="{r}" fill="{col}"/>')
        svg.append(f'<text x="{w - m}" y="{m / 2 + 16 * (k + 1)}" fill="{col}" text-anchor="end">unit {unit + 1} '
                   f'(epoch 1 → {len(p)})</text>')
    svg.append(f'<text x="{w / 2}" y="18" text-anchor="middle">run {run}: PIB information plane</text>')
    svg.append("</svg>")
    with open(out, "w") as f:
        f.write("\n".join(svg) + "\n")


if __name__ == "__main__":
    main()
