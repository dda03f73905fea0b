"""A thin wrapper over the ``pnnlab`` command line: run a subcommand with ``--json`` and get
the parsed JSON back, or a :class:`PnnlabError` carrying the binary's one-line message."""

from __future__ import annotations

import json as _json
import os
import shutil
import subprocess
from typing import Any, Mapping, Optional, Union

from .errors import PnnlabError

#: Subcommands that take no ``--json`` flag (their JSON, if any, is chosen otherwise).
_NO_JSON_FLAG = {"export", "emulate", "twin", "help"}


def binary() -> str:
    """The ``pnnlab`` executable: ``$PNNLAB_BIN`` if set, else ``pnnlab`` on ``PATH``."""
    configured = os.environ.get("PNNLAB_BIN")
    if configured:
        if not (os.path.isfile(configured) and os.access(configured, os.X_OK)):
            raise PnnlabError(f"PNNLAB_BIN={configured} is not an executable file")
        return configured
    found = shutil.which("pnnlab")
    if found is None:
        raise PnnlabError(
            "the pnnlab binary is not on PATH: install it (make install) or set PNNLAB_BIN to its path"
        )
    return found


def _one_line(stderr: str, returncode: int) -> str:
    """The binary's own message: its last ``pnnlab:`` line, else its last non-empty line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("pnnlab:") or line.startswith("Error:"):
            return line
    if lines:
        return "pnnlab: " + lines[-1]
    return f"pnnlab exited with status {returncode} and no message"


def cli(
    *args: Union[str, int, float, os.PathLike],
    store: Union[None, str, os.PathLike] = None,
    json: bool = True,
    timeout: Optional[float] = None,
    env: Optional[Mapping[str, str]] = None,
    cwd: Union[None, str, os.PathLike] = None,
) -> Any:
    """Runs ``pnnlab ARGS... [--store STORE] --json`` and returns its parsed JSON output.

    ``pnnlab.cli("runs", store="lab.sqlite")`` → a list of dicts (``pnnlab runs --json``);
    ``pnnlab.cli("train", "sim:crossbar", "--task", "iris")`` → the result dict. Output
    that is one JSON document per line gives a list of them. With ``json=False`` no flag is
    added and stdout is returned as text.

    Raises :class:`PnnlabError` when the binary cannot be found, exits non-zero (the message
    is its one stderr line; ``returncode`` and the whole ``stderr`` are attributes) or
    prints something that is not JSON.
    """
    command = [binary(), *(os.fspath(a) if isinstance(a, os.PathLike) else str(a) for a in args)]
    if store is not None:
        command += ["--store", os.fspath(store)]
    subcommand = command[1] if len(command) > 1 else ""
    if json and "--json" not in command and subcommand not in _NO_JSON_FLAG:
        command.append("--json")
    environment = dict(os.environ if env is None else env)
    try:
        done = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, env=environment, cwd=cwd
        )
    except subprocess.TimeoutExpired as e:
        stderr = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        raise PnnlabError(f"pnnlab {subcommand} did not finish within {timeout} s", stderr=stderr, command=command) from None
    except OSError as e:
        raise PnnlabError(f"cannot run {command[0]}: {e.strerror or e}", command=command) from None
    if done.returncode != 0:
        raise PnnlabError(
            _one_line(done.stderr, done.returncode), returncode=done.returncode, stderr=done.stderr, command=command
        )
    if not json:
        return done.stdout
    text = done.stdout.strip()
    if not text:
        return None
    try:
        return _json.loads(text)
    except ValueError:
        pass
    try:
        return [_json.loads(line) for line in text.splitlines() if line.strip()]
    except ValueError:
        raise PnnlabError(
            f"pnnlab {subcommand} printed output that is not JSON: {text.splitlines()[0][:120]}",
            returncode=0, stderr=done.stderr, command=command,
        ) from None
