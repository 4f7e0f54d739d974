"""Hostname normalization: one canonical form for a name however a sensor logged it.

The same endpoint shows up as ``Evil.Workers.Dev.`` in a DNS query, ``evil.workers.dev:8443`` in an
HTTP Host header, ``b\\xc3\\xbccher.example`` in a Zeek TSV field and ``bücher.example`` in JSON.
Matching, prevalence and beacon grouping all key on the canonical form, so it must be computed
one way, here. Every value is attacker-controlled: this never raises and never hangs (no
backtracking regexes on unbounded input), and what is not a hostname is *recorded* as such
(``ip`` / ``invalid`` / ``empty``) rather than guessed at.

Canonical form: lower-case ASCII (IDNA 2008 / UTS-46 punycode for Unicode names), no trailing dot,
no port, labels of 1-63 characters from ``[a-z0-9_-]``, at most 253 characters. IP literals are
returned in Python's canonical text form (IPv6 compressed, no brackets).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

import idna

__all__ = ["NormalizedName", "normalize_host", "decode_zeek_escapes", "is_canonical", "line_indices", "valid_tail"]

_MAX_NAME = 253
# Already canonical (the common case: Zeek lower-cases DNS queries). The last character must be a
# letter, '-' or '_' because a trailing digit may mean an IPv4 literal, which the slow path checks.
_FAST = re.compile(r"[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})*", re.ASCII)
_LABEL = re.compile(r"[a-z0-9_-]{1,63}", re.ASCII)
_ESCAPE = re.compile(rb"\\x([0-9a-fA-F]{2})")
_BRACKETED = re.compile(r"\[([^\[\]]*)\](?::([0-9]*))?")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")
_IDNA_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
_EMPTY_MARKERS = ("-", "(empty)")


@dataclass(frozen=True)
class NormalizedName:
    """The canonical name (None unless ``kind`` is hostname or ip) and how it was obtained."""

    name: str | None
    kind: str          # hostname | ip | invalid | empty
    note: str = ""     # what was changed or why it is invalid, e.g. "port 8443 stripped; lower-cased"


def normalize_host(raw: str | None, *, escapes: bool = True) -> NormalizedName:
    """Normalize a DNS query, CNAME target, TLS SNI, HTTP Host or CONNECT target.

    Steps, in order: trim surrounding whitespace; decode Zeek ``\\xNN`` escapes (UTF-8); strip a
    ``:port`` (also ``[v6]:port``); strip one trailing dot; recognize IP literals; IDNA-encode
    Unicode labels (UTS-46 mapping, non-transitional); lower-case; validate label syntax.

    ``escapes=False`` for a name read from the store, which the ingest already decoded (Zeek TSV's
    ``\\xNN``): a ``\\x`` left in it is text the log carried (Zeek writes a literal backslash as
    ``\\x5c``), and decoding it again turned the SNI ``\\x41.workers.dev`` into ``a.workers.dev``.
    """
    if raw is None:
        return NormalizedName(None, "empty", "no name")
    if is_canonical(raw):
        return NormalizedName(raw, "hostname", "")
    return _slow(raw, escapes)


def valid_tail(raw: str, *, max_labels: int = 127) -> str | None:
    """The longest run of valid labels (lower-cased) at the end of a name that is not valid as a whole.

    A Host header or SNI is chosen by the client: ``=1+2.qa.workers.dev`` or ``<x>.qa.workers.dev``
    is no valid name, but its last labels still say which tenant it was sent to, and an implant must
    not leave the serverless category by adding one odd character. A ``:port`` and one trailing dot
    are stripped first. None when fewer than two valid labels end the name. Linear in the name's
    length; looks at its last ``max_labels`` labels only.
    """
    s = raw.strip(" \t\r\n")
    port = s.rfind(":")
    if port >= 0 and s[port + 1:].isascii() and s[port + 1:].isdigit():
        s = s[:port]
    if s.endswith("."):
        s = s[:-1]
    labels = s.rsplit(".", max_labels)
    tail: list[str] = []
    for label in reversed(labels[1:] if len(labels) > max_labels else labels):
        low = label.lower()
        if not (low.isascii() and _LABEL.fullmatch(low)):
            break
        tail.append(low)
    if len(tail) < 2:
        return None
    name = ".".join(reversed(tail))
    while len(name) > _MAX_NAME:
        name = name.split(".", 1)[1]
    return name if name.count(".") >= 1 else None


def line_indices(text: str, positions: list[int]) -> list[int]:
    """For offsets into ``"\\n" + "\\n".join(items) + "\\n"``, the index of the item each falls in.

    Counts separators incrementally over the sorted positions, so the total work is one C-level pass.
    """
    out: list[int] = []
    index, last = -1, 0
    for pos in sorted(positions):
        index += text.count("\n", last, pos + 1)
        last = pos + 1
        out.append(index)
    return out


def is_canonical(raw: str) -> bool:
    """True when ``raw`` is already in normal form (``normalize_host`` would return it unchanged).

    ``sql/10_names.sql`` computes the same predicate in DuckDB (tested to agree), so that only the
    other names cross into Python.
    """
    return (len(raw) <= _MAX_NAME and _FAST.fullmatch(raw) is not None and not raw[-1].isdigit()
            and raw != "-")


def decode_zeek_escapes(text: str) -> str:
    """Decode Zeek's ``\\xNN`` byte escapes as UTF-8; raises UnicodeDecodeError on invalid UTF-8."""
    data = text.encode("utf-8", "surrogateescape")
    return _ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), data).decode("utf-8")


def _slow(raw: str, escapes: bool = True) -> NormalizedName:
    notes: list[str] = []
    s = raw.strip(" \t\r\n")
    if s != raw:
        notes.append("whitespace trimmed")
    if not s or s in _EMPTY_MARKERS:
        return NormalizedName(None, "empty", "empty value")
    if len(s) > 4 * _MAX_NAME:  # bound the work on pathological input before any decoding
        return NormalizedName(None, "invalid", f"too long ({len(s)} characters)")
    if escapes and "\\x" in s:
        try:
            s = decode_zeek_escapes(s)
        except UnicodeError:  # invalid UTF-8 after decoding, or a lone surrogate before it
            return NormalizedName(None, "invalid", "\\x escapes do not decode as UTF-8")
        notes.append("\\x escapes decoded")
    if _CONTROL.search(s):
        return NormalizedName(None, "invalid", "contains whitespace or control characters")
    if not s.isascii():
        s = s.translate(_IDNA_DOTS)  # ideographic/full-width dots separate labels too (UTS-46)

    # Ports: Host headers and CONNECT targets carry them; a bracketed part is an IPv6 literal.
    if s.startswith("["):
        m = _BRACKETED.fullmatch(s)
        if not m:
            return NormalizedName(None, "invalid", "unbalanced brackets")
        if m.group(2):
            notes.append(f"port {m.group(2)} stripped")
        return _ip_or_invalid(m.group(1), notes, "bracketed value is not an IPv6 address")
    colons = s.count(":")
    if colons == 1:
        host, port = s.split(":")
        if port and not (port.isascii() and port.isdigit() and len(port) <= 5):
            return NormalizedName(None, "invalid", f"bad port {port[:16]!r}")
        s = host
        notes.append(f"port {port} stripped" if port else "empty port stripped")
    elif colons > 1:
        return _ip_or_invalid(s, notes, "colons in a name that is not an IPv6 address")

    if s.endswith("."):
        s = s[:-1]
        notes.append("trailing dot stripped")
    if not s or s in _EMPTY_MARKERS:  # Zeek's unset or empty marker with a port or a dot: '-:', '-.'
        return NormalizedName(None, "empty", "; ".join(notes + ["nothing left" if not s else "empty value"]))
    if s[-1].isdigit():  # no colon is left here, so only an IPv4 literal is possible, and it ends in a digit
        try:
            ip = ipaddress.ip_address(s)
        except ValueError:
            pass
        else:
            return NormalizedName(str(ip), "ip", "; ".join(notes + ["IP literal"]))

    if s.isascii():
        lowered = s.lower()
        if lowered != s:
            notes.append("lower-cased")
        s = lowered
    else:
        encoded = _idna_encode(s)
        if encoded is None:
            return NormalizedName(None, "invalid", "; ".join(notes + ["not a valid IDNA name"]))
        s = encoded
        notes.append("IDNA (punycode)")
    if len(s) > _MAX_NAME:
        return NormalizedName(None, "invalid", f"name longer than {_MAX_NAME} characters")
    bad = next((label for label in s.split(".") if not _LABEL.fullmatch(label)), None)
    if bad is not None:
        reason = "empty label" if not bad else f"bad label {bad[:40]!r}"
        return NormalizedName(None, "invalid", "; ".join(notes + [reason]))
    return NormalizedName(s, "hostname", "; ".join(notes))


def _ip_or_invalid(text: str, notes: list[str], reason: str) -> NormalizedName:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return NormalizedName(None, "invalid", reason)
    return NormalizedName(str(ip), "ip", "; ".join(notes + ["IP literal"]))


def _idna_encode(name: str) -> str | None:
    """Encode label by label, so that ASCII labels with '_' (which IDNA rejects) survive."""
    out = []
    for label in name.split("."):
        if label.isascii():
            out.append(label.lower())
            continue
        try:
            out.append(idna.encode(label, uts46=True, transitional=False).decode("ascii"))
        except (idna.IDNAError, UnicodeError, ValueError):
            return None
    return ".".join(out)
