"""Replay packet captures through Suricata into eve.json, so a pcap can be scanned like sensor logs.

A user with a capture and no sensor runs ``serverless-c2 scan --pcap FILE``; this module is the
part that turns each capture into an ``eve.json`` with a minimal, shipped configuration
(``analyzer/data/suricata-replay.yaml``: DNS eve v2, TLS with SNI/JA3/JA4, HTTP, flow, alert).
Suricata is an optional external program: when it is missing, :class:`ToolMissingError` says how
to install it instead of failing somewhere deep inside ``subprocess``.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import shutil
import zlib
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from importlib import resources
from importlib.resources.abc import Traversable
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
# pcap (micro- and nanosecond, both byte orders) and pcapng section header block.
CAPTURE_MAGICS = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1",
                  b"\xa1\xb2\x3c\x4d", b"\x0a\x0d\x0d\x0a")


def find_suricata(executable: str | None = None) -> str:
    """The path of the suricata binary (``$SURICATA`` or PATH), or :class:`ToolMissingError`."""
    name = executable or os.environ.get("SURICATA") or "suricata"
    found = shutil.which(name)
    if found is None:
        raise ToolMissingError(INSTALL_HINT)
    return found


def replay_config() -> Traversable:
    """The shipped minimal Suricata configuration (package data, so it works from a wheel)."""
    return resources.files("analyzer") / "data" / "suricata-replay.yaml"


def _magic(path: Path) -> bytes | None:
    """The first 4 bytes of the file ``path``, or None when it cannot be read."""
    try:
        with Path(path).open("rb") as fh:
            return fh.read(4)
    except OSError:
        return None


def _gzip_magic(path: Path) -> bytes | None:
    """The first 4 bytes of a gzip file's content, or None (not gzip, unreadable, or cut too short)."""
    if (_magic(path) or b"")[:2] != b"\x1f\x8b":
        return None
    try:
        with gzip.open(path, "rb") as fh:
            return fh.read(4)
    except (OSError, EOFError, zlib.error):
        return None


def is_capture(path: Path) -> bool:
    """Whether ``path`` is a file that starts as a pcap or pcapng capture does, or a gzip of one, as
    capture archives keep them (False when unreadable)."""
    return _magic(path) in CAPTURE_MAGICS or _gzip_magic(path) in CAPTURE_MAGICS


def split_captures(paths: Sequence[str | Path]) -> tuple[list[Path], list[str | Path]]:
    """``(captures, the rest)`` of ``paths``, each in the given order: the pcap/pcapng files named
    among them, each once (a folder's files are not looked into: the ingest skips those, saying how
    to scan them)."""
    captures = list(dict.fromkeys(Path(p) for p in paths if Path(p).is_file() and is_capture(Path(p))))
    rest = [p for p in paths if Path(p) not in captures]
    return captures, rest


def check_capture(pcap: Path) -> None:
    """Refuse anything that is not a pcap/pcapng file before Suricata sees it.

    Suricata 7 does not exit on an unreadable capture: its reader thread fails and the main
    thread waits a full minute ("failed to start in time") before giving up.
    """
    if not pcap.is_file():
        raise InputError("capture not found or not a file", path=str(pcap))
    magic = _magic(pcap)
    if magic is None:
        raise InputError("capture cannot be read", path=str(pcap))
    if magic not in CAPTURE_MAGICS and _gzip_magic(pcap) not in CAPTURE_MAGICS:
        hint = " (a gzip file, but not of a capture)" if magic[:2] == b"\x1f\x8b" else ""
        raise InputError(f"not a pcap or pcapng capture{hint}", path=str(pcap))


def _unpacked(pcap: Path, outdir: Path) -> Path:
    """The capture Suricata reads: ``pcap`` itself, or a gzip'd one decompressed into ``outdir`` (Suricata
    reads no gzip). A gzip cut short is an error: a capture's packets would end mid-record."""
    if (_magic(pcap) or b"")[:2] != b"\x1f\x8b":
        return pcap
    plain = outdir / "capture.pcap"
    try:
        with gzip.open(pcap, "rb") as src, plain.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise InputError(f"the gzip'd capture cannot be decompressed whole: {exc}", path=str(pcap)) from exc
    return plain


def _tail(text: str, lines: int = 5) -> str:
    """Suricata's error lines (or its last lines), printable characters only, for a message."""
    all_lines = text.strip().splitlines()
    kept = [line for line in all_lines if line.startswith("Error")][:lines] or all_lines[-lines:]
    return " | ".join("".join(ch if ch.isprintable() else "?" for ch in line) for line in kept)


# Suricata 7 does not exit when its capture reader fails (e.g. an unsupported link type such as
# NFLOG): it waits about a minute for the thread first. This line means that is under way.
_READER_FAILED = "thread failed to initialize"


def _run(cmd: list[str], pcap: Path) -> tuple[int, str]:
    """Run Suricata, stopping it as soon as it reports that its reader failed; (exit code, output)."""
    lines: list[str] = []
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            errors="replace")
    timer = threading.Timer(REPLAY_TIMEOUT_S, proc.kill)
    timer.start()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if _READER_FAILED in line:
                proc.kill()       # SIGTERM is not handled while Suricata waits for its threads
                break
        code = proc.wait()
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    if code < 0 and not any(_READER_FAILED in line for line in lines):
        raise InputError(f"suricata was stopped after {REPLAY_TIMEOUT_S} s or by a signal "
                         f"({-code})", path=str(pcap))
    return (code if code >= 0 else 1), "\n".join(lines)


_FLOW_ID = re.compile(rb'"flow_id":(\d+)')
_FLOW_EVENT = re.compile(rb'"event_type":"flow"')
_FLOW_START = re.compile(rb'"start":"([^"]*)"')
_TUPLE = re.compile(rb'"(?:src_ip|src_port|dest_ip|dest_port|proto)":("[^"]*"|\d+)')


def _stable_flow_ids(eve: Path, pcap: Path) -> None:
    """Rewrite ``eve``'s flow ids as a function of the capture's content: Suricata draws them anew on
    every run, so one capture replayed twice gave records that differ in their ids alone, and a store
    (``--db``) that keeps a record it already holds once loaded the capture's flows twice.
    The packet-driven events (dns, tls, http, quic ...) come in capture order on every run; the flow
    records, written as flows time out, do not. So a flow is numbered by its first packet-driven
    event, and a flow with none by its start and addresses. Ids stay distinct within the file and,
    salted with the capture's hash, across captures, and under 2^53, as JSON readers need."""
    digest = hashlib.blake2b(digest_size=16)
    with pcap.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    salt = digest.digest()
    first: dict[bytes, int] = {}                 # original id -> line of its first packet-driven event
    flow_only: dict[bytes, bytes] = {}           # original id -> its flow record's start and addresses
    with eve.open("rb") as src:
        for n, line in enumerate(src):
            m = _FLOW_ID.search(line)
            if m is None:
                continue
            if _FLOW_EVENT.search(line):
                start = _FLOW_START.search(line)
                flow_only[m.group(1)] = (start.group(1) if start else b"") + b"|" + b"|".join(_TUPLE.findall(line))
            elif m.group(1) not in first:
                first[m.group(1)] = n
    order = sorted(first, key=first.__getitem__)
    order += sorted((k for k in flow_only if k not in first), key=lambda k: (flow_only[k], k))
    ids = {}
    for index, old in enumerate(order):
        h = hashlib.blake2b(index.to_bytes(8, "little"), key=salt, digest_size=8).digest()
        ids[old] = str(int.from_bytes(h, "little") >> 11 or 1).encode()
    tmp = eve.with_suffix(".stable")
    with eve.open("rb") as src, tmp.open("wb") as dst:
        for line in src:
            dst.write(_FLOW_ID.sub(lambda m: b'"flow_id":' + ids.get(m.group(1), m.group(1)), line, count=1)
                      if b'"flow_id":' in line else line)
    tmp.replace(eve)


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
            check_capture(pcap)
            outdir = workdir / f"{index:03d}-{pcap.stem[:60]}"
            outdir.mkdir(parents=True, exist_ok=True)
            eve = outdir / "eve.json"
            eve.unlink(missing_ok=True)  # never hand back a stale file from an earlier run
            cmd = [binary, "-c", str(config), "-r", str(_unpacked(pcap, outdir)), "-l", str(outdir),
                   "-k", "none", "--runmode", "single"]
            if rules is not None:
                if not Path(rules).is_file():
                    raise InputError("rules file not found", path=str(rules))
                cmd += ["-S", str(rules)]
            else:
                cmd += ["--disable-detection"]
            code, output = _run(cmd, pcap)
            (outdir / "capture.pcap").unlink(missing_ok=True)   # a decompressed copy: gone once replayed
            if code != 0 or not eve.is_file():
                raise InputError(f"suricata could not replay this capture (exit {code}): "
                                 f"{_tail(output)}", path=str(pcap))
            _stable_flow_ids(eve, pcap)
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
