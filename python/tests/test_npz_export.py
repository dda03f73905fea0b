"""``pnnlab export RUN --format npz``: loaded with numpy alone, checked against the run itself.

The batch loss the trainer stored is recomputed from the exported raw batch outputs, the
sample ids and the labels, so a wrong sample id or a wrong row order fails the test.
"""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="module")
def exported(bin_path: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A Gauss-Newton Iris run on a crossbar twin with stuck devices, Jacobians recorded, exported as npz."""
    folder = tmp_path_factory.mktemp("npz")
    store = folder / "pnnlab.sqlite"
    config = folder / "run.toml"
    config.write_text("[trainer]\nepochs = 3\nbatch_size = 16\nrecord_jacobians = true\n[twin]\nstuck_fraction = 0.1\n")
    subprocess.run(
        [bin_path, "train", "sim:crossbar", "--task", "iris", "--method", "gauss-newton", "--seed", "5",
         "--config", str(config), "--store", str(store), "--json"],
        check=True, capture_output=True, timeout=300, stdin=subprocess.DEVNULL,
    )
    npz = folder / "run1.npz"
    done = subprocess.run(
        [bin_path, "export", "1", "--format", "npz", "-o", str(npz), "--store", str(store)],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    return npz, store


def softmax_loss(outputs: np.ndarray, labels: np.ndarray, gain: float) -> float:
    logits = gain * outputs
    logits -= logits.max(axis=1, keepdims=True)
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(labels)), labels].mean())


def test_npz_loads_with_numpy_and_describes_every_array(exported: tuple[Path, Path]) -> None:
    npz, _ = exported
    with np.load(npz, allow_pickle=False) as z:
        meta = json.loads(str(z["metadata_json"]))
        assert meta["format"] == "pnnlab-run-npz" and meta["version"] == 1
        assert set(meta["arrays"]) == set(z.files) - {"metadata_json"}
        assert meta["result"]["run"] == 1 and meta["result"]["loss_unit"] == "nats"
        # Units in the names, and the same units in the metadata.
        assert meta["arrays"]["parameters_uS"]["unit"] == "uS"
        assert meta["arrays"]["batch_outputs_uA"]["unit"] == "uA"
        assert meta["arrays"]["jacobian_uA_per_uS"]["unit"] == "uA/uS"
        steps = z["step"]
        assert steps.dtype == np.int64 and list(steps) == list(range(1, len(steps) + 1))
        assert z["parameters_uS"].shape == (len(steps), len(z["parameter_row"]))


def test_geometry_maps_every_parameter_to_row_column_and_device(exported: tuple[Path, Path]) -> None:
    with np.load(exported[0], allow_pickle=False) as z:
        rows, cols, signs, names = z["parameter_row"], z["parameter_column"], z["parameter_sign"], z["parameter_name"]
        assert set(signs.tolist()) == {1, -1} and (signs[0::2] == 1).all() and (signs[1::2] == -1).all()
        for i in range(len(names)):
            assert names[i] == f"G{'+' if signs[i] > 0 else '−'}[{rows[i]},{cols[i]}]"
        assert cols.max() + 1 == len(z["class_name"]) == 3
        lower, upper = z["parameter_lower_uS"], z["parameter_upper_uS"]
        theta = z["parameters_uS"]
        assert ((theta >= lower - 1e-9) & (theta <= upper + 1e-9)).all()
        stuck = z["stuck_parameter_index"]
        assert stuck.size > 0 and stuck.max() < len(names)  # 10 % of 90 devices stuck


def test_raw_batch_outputs_and_sample_ids_reproduce_the_stored_batch_loss(exported: tuple[Path, Path]) -> None:
    with np.load(exported[0], allow_pickle=False) as z:
        meta = json.loads(str(z["metadata_json"]))
        gain = meta["settings"]["trainer"]["gain"]
        outputs, row_step = z["batch_outputs_uA"], z["batch_outputs_step"]
        ids, labels = z["batch_outputs_train_sample_id"], z["train_label"]
        assert len(outputs) == len(row_step) == len(ids)
        for step, stored in zip(z["step"], z["step_batch_loss_nats"]):
            rows = row_step == step
            assert 0 < rows.sum() <= 16
            recomputed = softmax_loss(outputs[rows][:, :3], labels[ids[rows]], gain)
            assert abs(recomputed - stored) < 1e-12, f"step {step}: {recomputed} vs {stored}"
        # Every epoch's batches cover the training split exactly once.
        batches_per_epoch = -(-len(labels) // 16)
        epoch_of_row = (row_step - 1) // batches_per_epoch
        assert z["step_epoch"][batches_per_epoch - 1] == 1  # epochs completed once the step was committed
        for epoch in np.unique(epoch_of_row):
            assert sorted(ids[epoch_of_row == epoch].tolist()) == list(range(len(labels)))


def test_evaluation_outputs_give_the_stored_test_accuracy(exported: tuple[Path, Path]) -> None:
    with np.load(exported[0], allow_pickle=False) as z:
        test_out, row_step, test_ids = z["test_outputs_uA"], z["test_outputs_step"], z["test_outputs_test_sample_id"]
        test_labels = z["test_label"]
        assert list(z["eval_index"]) == [1, 2, 3]
        for step, accuracy, loss in zip(z["eval_step"], z["eval_test_accuracy_fraction"], z["eval_loss_nats"]):
            rows = row_step == step
            predicted = test_out[rows].argmax(axis=1)
            assert abs((predicted == test_labels[test_ids[rows]]).mean() - accuracy) < 1e-12
            assert z["step_eval_loss_nats"][step - 1] == loss and np.isfinite(loss)
        # The Jacobian: rows = batch samples × class outputs, one block per epoch.
        jac, jac_step = z["jacobian_uA_per_uS"], z["jacobian_step"]
        assert jac.shape[1] == z["parameters_uS"].shape[1]
        assert len(np.unique(jac_step)) == 3
        assert (z["jacobian_output"][:3] == [0, 1, 2]).all()
        assert (z["jacobian_train_sample_id"] == np.repeat(z["batch_outputs_train_sample_id"][np.isin(z["batch_outputs_step"], np.unique(jac_step))], 3)).all()


def test_csv_and_json_agree_with_the_npz(exported: tuple[Path, Path], bin_path: str) -> None:
    npz, store = exported
    text = subprocess.run(
        [bin_path, "export", "1", "--format", "csv", "--store", str(store)],
        check=True, capture_output=True, text=True, timeout=120,
    ).stdout
    table = list(csv.reader(text.splitlines()))
    header, body = table[0], table[1:]
    first_theta = header.index("theta_0")
    with np.load(npz, allow_pickle=False) as z:
        theta = np.array([[float(v) for v in row[first_theta:]] for row in body])
        assert np.array_equal(theta, z["parameters_uS"])
        document = json.loads(
            subprocess.run(
                [bin_path, "export", "1", "--format", "json", "--store", str(store)],
                check=True, capture_output=True, text=True, timeout=120,
            ).stdout
        )
        assert [s["step"] for s in document["steps"]] == z["step"].tolist()
        assert [e["eval_loss"] for e in document["evaluations"]] == z["eval_loss_nats"].tolist()
