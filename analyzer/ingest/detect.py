"""Which format and log kind a file holds, decided from its first bytes (the name is a fallback).

* Zeek TSV: a ``#separator`` or ``#fields`` line (possibly after a stray TAB, as in slips' test10,
  or after comment lines such as btest's ``### BTest baseline data``). The kind is ``#path``.
* JSON lines: the first object decides. ``event_type`` makes it Suricata eve.json; otherwise it is
  Zeek JSON, whose kind is ``_path`` (per line, see zeek_json) or else the file name. A first object
  with neither does not make a file eve.json that its next lines or its name show to be one.
* A pcap or pcapng capture is skipped with a reason that says how to scan it (``scan --pcap``).
* Anything else is "not a log" and skipped with that reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from analyzer.replay import CAPTURE_MAGICS

#: why a pcap/pcapng file is skipped: a capture is scanned by replaying it (``scan`` does that itself
#: for a capture given as a PATH; one inside a folder is left to the user, as replays take time)
CAPTURE_REASON = "packet capture: scan it with --pcap FILE, which replays it through Suricata"

ZEEK_TSV = "zeek-tsv"
ZEEK_JSON = "zeek-json"
EVE = "eve"

#: Zeek log kinds we load, and the table each one fills. open_conn, open_ssl and open_http (the
#: open-connections package, as RITA's Zeek setup runs it) log connections still open at each
#: rotation: a C2 session held for days is in them long before conn.log has it, if ever. Each open
#: record repeats its connection's uid and start, so the ingest keeps one row per connection
#: (analyzer.ingest.duplicates: the first loaded; open_* files load last, so a closed record wins).
ZEEK_KINDS: dict[str, str] = {
    "conn": "conn", "dns": "dns", "ssl": "tls", "http": "http",
    "open_conn": "conn", "open_ssl": "tls", "open_http": "http",
}

_NAME_KIND = re.compile(r"^([A-Za-z0-9_-]+?)(?:__|\.|$)")
_PATH_LINE = re.compile(rb"(?m)^[ \t]*#path[\t ]([^\t\r\n]*)")
_FIELDS_LINE = re.compile(rb"(?m)^[ \t]*#fields\t([^\r\n]*)")


@dataclass(frozen=True)
class Detection:
    """The result of :func:`detect`. ``skip`` is the reason when the file is not loaded."""

    format: str | None
    kind: str | None
    skip: str | None = None
    #: Zeek JSON with ``_path``: each line names its own kind (a JSON stream can mix logs)
    kind_per_line: bool = False
    #: Zeek JSON whose first object has an epoch number as its ``ts`` (Zeek's default), not ISO-8601
    #: text (``LogAscii::json_timestamps``): the fast read has DuckDB read every ts as a number
    #: (analyzer.ingest.zeek_json.fast_read)
    epoch_ts: bool = False


def kind_from_name(name: str) -> str | None:
    """The log kind a Zeek file name implies: ``dns.09:00:00-10:00:00.log.gz`` -> ``dns``,
    ``conn__2023-11-14-09-00-00__....log`` -> ``conn``, ``conn.log.labeled`` -> ``conn``."""
    m = _NAME_KIND.match(name)
    return m.group(1).lower() if m else None


def kind_from_fields(fields: set[str]) -> str | None:
    """The log kind a set of Zeek field names implies, for files with no ``#path``/``_path``
    and a name that says nothing (``conn_json.log``, ``capture.log``)."""
    if "query" in fields and fields & {"qtype", "qtype_name", "rcode", "rcode_name"}:
        return "dns"
    if fields & {"server_name", "ssl_history"} or {"version", "cipher"} <= fields:
        return "ssl"
    if {"method", "uri"} <= fields or "status_code" in fields:
        return "http"
    if "conn_state" in fields or {"history", "orig_bytes"} <= fields:
        return "conn"
    return None


def _safe(text: str, limit: int = 60) -> str:
    """A short printable rendering of untrusted text for a message."""
    out = text[:limit].encode("unicode_escape").decode("ascii")
    return out + ("..." if len(text) > limit else "")


def detect(head: bytes, name: str) -> Detection:
    """Detect format and kind from the first bytes ``head`` of the (decompressed) file ``name``."""
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if not head.strip():
        return Detection(None, None, "empty file" if not head else "empty file (only blank lines)")
    if head[:4] in CAPTURE_MAGICS:
        return Detection(None, None, CAPTURE_REASON)
    if b"\n" not in head and b"\r" in head.rstrip(b"\r"):
        # no sensor writes this, and read by LF the whole file would be one line (its data lost
        # inside what looks like one header line): said, not guessed at
        return Detection(None, None, "not a log: lines end in CR only (classic Mac line endings); "
                                     "convert them first: tr '\\r' '\\n'")
    lines = head.split(b"\n")
    if len(lines) > 1:
        lines = lines[:-1] if not head.endswith(b"\n") and len(head) >= 65536 else lines
    for raw in lines[:200]:
        stripped = raw.strip(b" \t\r")
        if not stripped:
            continue
        if stripped.startswith((b"#separator", b"#fields", b"#set_separator", b"#path")):
            m = _PATH_LINE.search(head)
            if m:
                return Detection(ZEEK_TSV, m.group(1).decode("utf-8", "replace").strip() or None)
            kind = kind_from_name(name)
            if kind not in ZEEK_KINDS:
                f = _FIELDS_LINE.search(head)
                if f:
                    names = set(f.group(1).decode("utf-8", "replace").split("\t"))
                    kind = kind_from_fields(names) or kind
            return Detection(ZEEK_TSV, kind)
        if stripped.startswith(b"#"):
            continue  # a comment line (e.g. "### BTest baseline data"); keep looking
        if stripped.startswith(b"{"):
            return _detect_json(lines, name)
        if b"\x00" in head[:4096]:
            return Detection(None, None, "not a log: binary data")
        return Detection(
            None, None,
            f"not a log: first line is no Zeek header or JSON ({_safe(stripped.decode('utf-8', 'replace'))})",
        )
    return Detection(None, None, "not a log: no data in the first 64 KiB")


def _detect_json(lines: list[bytes], name: str) -> Detection:
    """The first object decides, unless it says nothing of its format: ``event_type`` makes the
    file eve.json, ``_path`` a Zeek JSON stream (each line its kind). A first object with neither is
    Zeek JSON of the kind the file name or its fields imply (a ``_path`` on later lines still names
    theirs), unless an object of the first lines has an ``event_type``, or the file is named eve:
    then it is eve.json, and that first line is rejected as an event without one. (A first line
    without its ``event_type`` made a whole eve.json a skipped file of unknown kind 'eve'.)"""
    first: dict | None = None
    for raw in lines[:50]:
        s = raw.strip()
        if not s or s.startswith(b"#"):
            continue
        try:
            obj = json.loads(s)
        except (ValueError, RecursionError):
            continue  # a malformed first line is rejected later; look at the next one
        if not isinstance(obj, dict):
            continue
        if "event_type" in obj:
            return Detection(EVE, "eve")
        path = obj.get("_path")
        if first is None and isinstance(path, str) and path:
            return Detection(ZEEK_JSON, path, kind_per_line=True)
        if first is None:
            first = obj
    if first is None:
        return Detection(None, None, "not a log: JSON lines without a parseable object in the first lines")
    kind = kind_from_name(name)
    if kind == "eve":
        return Detection(EVE, "eve")
    if kind not in ZEEK_KINDS:
        kind = kind_from_fields(set(first)) or kind
    ts = first.get("ts")
    return Detection(ZEEK_JSON, kind, epoch_ts=isinstance(ts, (int, float)) and not isinstance(ts, bool))


def json_line_complete(tail: bytes) -> bool:
    """True when ``tail`` (bytes after the last newline) is one complete JSON object."""
    try:
        return isinstance(json.loads(tail), dict)
    except (ValueError, RecursionError):
        return False
