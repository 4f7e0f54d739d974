"""Replay packet captures through Suricata into eve.json, so a pcap can be scanned like sensor logs.

A user with a capture and no sensor runs ``serverless-c2 scan --pcap FILE``; this module is the
part that turns each capture into an ``eve.json`` with a minimal, shipped configuration
(``analyzer/data/suricata-replay.yaml``: DNS eve v2, TLS with SNI/JA3/JA4, HTTP, flow, alert).
Suricata is an optional external program: when it is missing, :class:`ToolMissingError` says how
to install it instead of failing somewhere deep inside ``subprocess``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from analyzer.errors import InputError, ToolMissingError

INSTALL_HINT = (
    "suricata is not installed or not on PATH; install it: "
    "apt-get install -t bookworm-backports suricata "
    "(add the suite first: echo 'deb http://deb.debian.org/debian bookworm-backports main' "
    "> /etc/apt/sources.list.d/backports.list && apt-get update). "
    "Other systems: https://docs.suricata.io/en/latest/install.html"
)
REPLAY_TIMEOUT_S = 900


def find_suricata(executable: str | None = None) -> str:
    """The path of the suricata binary (``$SURICATA`` or PATH), or :class:`ToolMissingError`."""
    name = executable or os.environ.get("SURICATA") or "suricata"
    found = shutil.which(name)
    if found is None:
        raise ToolMissingError(INSTALL_HINT)
    return found


def replay_config() -> resources.abc.Traversable:
    """The shipped minimal Suricata configuration (package data, so it works from a wheel)."""
    return resources.files("analyzer") / "data" / "suricata-replay.yaml"


def _tail(text: str, lines: int = 5) -> str:
    """Suricata's error lines (or its last lines), printable characters only, for a message."""
    all_lines = text.strip().splitlines()
    kept = [line for line in all_lines if line.startswith("Error")][:lines] or all_lines[-lines:]
    return " | ".join("".join(ch if ch.isprintable() else "?" for ch in line) for line in kept)


def replay_pcaps(pcaps: Sequence[Path], workdir: Path, *, rules: Path | None = None,
                 suricata: str | None = None) -> list[Path]:
    """Run Suricata on each capture and return the eve.json paths, in the order of ``pcaps``.

    Each capture gets its own output folder under ``workdir`` (``000-<name>/eve.json``), because
    Suricata always names its output ``eve.json``. Without ``rules`` detection is disabled, which
    is faster and never loads whatever rule set the system happens to have installed; with
    ``rules`` only that file is loaded (``-S``), so its alerts land in the same eve.json.
    Checksums are ignored (``-k none``): captures taken on the sending host carry offloaded,
    wrong checksums and Suricata would otherwise drop those packets from stream reassembly.
    """
    binary = find_suricata(suricata)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    outputs: list[Path] = []
    with resources.as_file(replay_config()) as config:
        for index, pcap in enumerate(pcaps):
            pcap = Path(pcap)
            if not pcap.is_file():
                raise InputError("capture not found or not a file", path=str(pcap))
            outdir = workdir / f"{index:03d}-{pcap.stem[:60]}"
            outdir.mkdir(parents=True, exist_ok=True)
            eve = outdir / "eve.json"
            eve.unlink(missing_ok=True)  # never hand back a stale file from an earlier run
            cmd = [binary, "-c", str(config), "-r", str(pcap), "-l", str(outdir),
                   "-k", "none", "--runmode", "single"]
            if rules is not None:
                if not Path(rules).is_file():
                    raise InputError("rules file not found", path=str(rules))
                cmd += ["-S", str(rules)]
            else:
                cmd += ["--disable-detection"]
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace",
                                      timeout=REPLAY_TIMEOUT_S, check=False)
            except subprocess.TimeoutExpired as exc:
                raise InputError(f"suricata did not finish within {REPLAY_TIMEOUT_S} s",
                                 path=str(pcap)) from exc
            if proc.returncode != 0 or not eve.is_file():
                raise InputError(
                    f"suricata could not replay this capture (exit {proc.returncode}): "
                    f"{_tail(proc.stderr + proc.stdout)}", path=str(pcap))
            outputs.append(eve)
    return outputs


def validate_rules(rules: Path, *, suricata: str | None = None) -> None:
    """Check a rule file with ``suricata -T``; :class:`InputError` carries Suricata's complaint."""
    binary = find_suricata(suricata)
    with resources.as_file(replay_config()) as config, tempfile.TemporaryDirectory() as logdir:
        proc = subprocess.run(
            [binary, "-T", "-c", str(config), "-S", str(rules), "-l", logdir],
            capture_output=True, text=True, errors="replace", timeout=120, check=False)
    if proc.returncode != 0:
        raise InputError(f"suricata rejected the rules: {_tail(proc.stderr + proc.stdout, 8)}",
                         path=str(rules))
