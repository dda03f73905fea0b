"""pnnlab.cli: the binary with --json, parsed; its one-line message on failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import pnnlab
from conftest import Recorded


def test_cli_returns_parsed_json(recorded: Recorded) -> None:
    runs = pnnlab.cli("runs", store=recorded.path)
    assert isinstance(runs, list) and [r["run"] for r in runs] == [3, 2, 1]
    show = pnnlab.cli("show", 1, store=recorded.path)
    assert show["run"] == 1 and show["task"] == "xor" and "evaluations" in show
    text = pnnlab.cli("export", 1, "--format", "csv", store=recorded.path, json=False)
    assert text.splitlines()[0].startswith("step,epoch,batch_loss,eval_loss")


def test_cli_trains(tmp_path: Path) -> None:
    result = pnnlab.cli("train", "sim:crossbar", "--task", "xor", "--epochs", "1", store=tmp_path / "s.sqlite")
    assert result["status"] == "completed" and result["epochs"] == 1
    assert pnnlab.open_store(tmp_path / "s.sqlite", pandas=False).runs()[0].as_json() == result


def test_cli_failure_carries_the_binarys_line(recorded: Recorded) -> None:
    with pytest.raises(pnnlab.PnnlabError) as caught:
        pnnlab.cli("show", 999, store=recorded.path)
    assert str(caught.value) == f"pnnlab: run 999 does not exist in {recorded.path}"
    assert caught.value.returncode == 1
    with pytest.raises(pnnlab.PnnlabError, match="^pnnlab: unknown task 'nope'"):
        pnnlab.cli("train", "sim:crossbar", "--task", "nope", store=recorded.path)


def test_binary_from_path_or_pnnlab_bin(bin_path: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PNNLAB_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pnnlab.PnnlabError, match="not on PATH"):
        pnnlab.cli("runs")
    os.symlink(bin_path, tmp_path / "pnnlab")
    assert pnnlab.binary() == str(tmp_path / "pnnlab")
    assert pnnlab.cli("runs", store=tmp_path / "empty.sqlite") == []
    monkeypatch.setenv("PNNLAB_BIN", str(tmp_path / "missing"))
    with pytest.raises(pnnlab.PnnlabError, match="PNNLAB_BIN"):
        pnnlab.cli("runs")
