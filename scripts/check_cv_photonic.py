#!/usr/bin/env python3
"""Independent check of pnnlab's sim:cv-photonic physics against thewalrus (PyPI).

    pnnlab twin export sim:cv-photonic --task iris -o cv.json
    python3 -m pip install thewalrus      # not needed by pnnlab itself
    python3 scripts/check_cv_photonic.py cv.json

Rebuilds, with thewalrus's own symplectic matrices (hbar = 2, xxpp ordering), the mesh of
beam splitters and phase shifters from the exported angles, then the covariance at the
detectors (squeezed vacuum -> mesh -> uniform pure loss), and compares both with what the
twin exported. Also checks that every element and the mesh are symplectic, and the mean of
a displaced input. Exits 1 on a mismatch larger than 1e-9.
"""
import json
import sys

import numpy as np
from thewalrus import symplectic as sp

HBAR = 2.0


def main(path):
    doc = json.load(open(path))
    assert doc["hbar"] == HBAR and doc["ordering"] == "xxpp", "expects hbar = 2, xxpp"
    cfg = doc["config"]
    if cfg.get("layout", "interferometer") != "interferometer":
        print(f"only the interferometer layout is checked here (this state's layout: {cfg['layout']})", file=sys.stderr)
        return 2
    n = max(cfg["modes"], cfg["inputs"], cfg["readouts"])
    angles = doc["angles"]
    pairs = doc["beam_splitters"]
    worst = 0.0

    omega = sp.sympmat(n)
    mesh = np.eye(2 * n)
    for b, (i, j) in enumerate(pairs):
        s = sp.expand(sp.beam_splitter(angles[2 * b], angles[2 * b + 1]), [i, j], n)
        worst = max(worst, np.abs(s @ omega @ s.T - omega).max())
        mesh = s @ mesh
    offset = 2 * len(pairs)
    for k in range(n):
        s = sp.expand(sp.rotation(angles[offset + k]), k, n)
        mesh = s @ mesh
    worst = max(worst, np.abs(mesh @ omega @ mesh.T - omega).max())
    d_mesh = np.abs(mesh - np.array(doc["mesh_symplectic"])).max()

    sq = np.eye(2 * n)
    for k in range(n):
        sq = sp.expand(sp.squeezing(cfg["squeezing"], 0.0), k, n) @ sq
    mu = np.zeros(2 * n)
    cov = sq @ (HBAR / 2 * np.eye(2 * n)) @ sq.T
    cov = mesh @ cov @ mesh.T
    for k in range(n):
        mu, cov = sp.loss(mu, cov, cfg["transmission"], k, nbar=0, hbar=HBAR)
    d_cov = np.abs(cov - np.array(doc["detected_covariance"])).max()

    # A displaced input: alpha_j = 0.1 (j + 1) on the input modes (thewalrus displacement).
    mu = np.zeros(2 * n)
    for j in range(cfg["inputs"]):
        mu[j] += np.sqrt(2 * HBAR) * 0.1 * (j + 1)
    mu = np.sqrt(cfg["transmission"]) * (mesh @ mu)
    alpha = np.array([0.1 * (j + 1) for j in range(cfg["inputs"])])
    twin_mu = np.sqrt(cfg["transmission"]) * 2 * np.array(doc["mesh_symplectic"])[:, :cfg["inputs"]] @ alpha
    d_mu = np.abs(mu - twin_mu).max()

    print(f"modes {n}, beam splitters {len(pairs)}, angles {len(angles)}")
    print(f"symplectic defect (max |S Ω Sᵀ − Ω|): {worst:.2e}")
    print(f"mesh symplectic vs thewalrus:        {d_mesh:.2e}")
    print(f"detected covariance vs thewalrus:    {d_cov:.2e}")
    print(f"displaced means vs thewalrus:        {d_mu:.2e}")
    ok = max(worst, d_mesh, d_cov, d_mu) < 1e-9
    print("OK" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
