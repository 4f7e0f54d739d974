"""``--intel FILE``: plain lists of known-bad hostnames or suffixes (exports of public C2 feeds).

Format, one entry per line (tens of thousands of lines are expected):

    # comment                      ignored, as are blank lines and a trailing '# ...' on a data line
    evil.example                   the name and every name under it
    *.evil.example                 names under it only (also written .evil.example)
    https://evil.example/gate.php  a URL: its host is used (feeds often export URLs)

A CSV export is accepted if the host is the first comma-separated field; its header line (a first
field such as ``host``, ``domain`` or ``indicator``) is skipped. Defanged entries, as threat reports
write them (``evil[.]example``, ``hxxps://evil(.)example/x``), are refanged. Names are normalized
like log names (:func:`analyzer.normalize.normalize_host`). IP addresses and anything that is not
a hostname of two labels or more are bad lines, reported as ``file:line: reason``; the scan skips
them and says how many in a warning (one junk line in a feed of thousands must not stop a nightly
scan), and an intel file it cannot read at all is an error.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from analyzer.catalog import CatalogEntry, CatalogErrors
from analyzer.errors import CatalogError
from analyzer.normalize import normalize_host

log = logging.getLogger(__name__)

_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://([^/?#]*)")
#: defanged dots and schemes, as threat reports write indicators so that nobody clicks them
_DEFANGED_DOT = re.compile(r"\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)", re.IGNORECASE)
_DEFANGED_SCHEME = re.compile(r"^h(?:xx|XX)p(s?)(?:\[:\]|:)//")
#: first fields of a CSV export's header line (compared lower-cased)
_HEADER_FIELDS = frozenset({"host", "hostname", "domain", "domains", "domain_name", "fqdn", "indicator", "ioc",
                            "name", "url", "value", "observable"})


@dataclass(frozen=True)
class IntelPattern:
    """One intel entry: ``pattern`` matches itself and names under it, or only names under it."""

    pattern: str             # normalized host, e.g. "evil.example"
    subdomains_only: bool    # True for "*.evil.example"
    source: str              # "file:line"
    feed: str = ""           # file name, shown in findings

    def describe(self) -> str:
        shown = ("*." if self.subdomains_only else "") + self.pattern
        return f"intel {shown} ({self.source})"

    def as_entry(self) -> CatalogEntry:
        """A pseudo catalogue entry, for a name only the intel list knows about."""
        return CatalogEntry(
            id=f"intel:{self.source}", platform="Threat intel", provider=self.feed,
            category="intel", kind="suffix" if self.subdomains_only else "exact",
            suffix=self.pattern, regex=None, tenant="none", confidence="high", severity="high",
            references=(self.source,), source=self.source, bare_severity="high",
            pattern=("*." if self.subdomains_only else "") + self.pattern,
            labels=self.pattern.count(".") + 1 + (1 if self.subdomains_only else 0),
        )


@dataclass
class IntelSet:
    patterns: list[IntelPattern]
    rejects: list[CatalogError]


def read_intel(paths: Iterable[str | Path]) -> IntelSet:
    """Read intel files, collecting bad lines instead of failing (a feed with one junk line is still useful).

    An unreadable file is a reject too (with no line number).
    """
    patterns: list[IntelPattern] = []
    rejects: list[CatalogError] = []
    seen: set[tuple[str, bool]] = set()
    for path in paths:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            rejects.append(CatalogError(f"cannot read intel file: {exc.strerror or exc}", str(path)))
            continue
        first = True
        for lineno, raw in enumerate(text.splitlines(), start=1):
            line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
            if not line:
                continue
            if first and line.split(",", 1)[0].strip().strip('"').lower() in _HEADER_FIELDS:
                first = False
                continue  # a CSV export's header
            first = False
            parsed = parse_intel_line(line)
            if isinstance(parsed, str):
                rejects.append(CatalogError(parsed, str(path), lineno))
                continue
            if parsed in seen:
                continue  # duplicates are common in merged feeds and harmless
            seen.add(parsed)
            patterns.append(IntelPattern(parsed[0], parsed[1], f"{path}:{lineno}", path.name))
    return IntelSet(patterns, rejects)


def load_intel(paths: Iterable[str | Path], *, strict: bool = True) -> list[IntelPattern]:
    """Load intel files. ``strict`` raises :class:`CatalogErrors` listing every bad line;
    otherwise bad lines are logged as warnings (``file:line: reason``) and skipped."""
    result = read_intel(paths)
    if result.rejects:
        if strict:
            raise CatalogErrors(result.rejects)
        for reject in result.rejects:
            log.warning("%s", reject)
    return result.patterns


def parse_intel_line(line: str) -> tuple[str, bool] | str:
    """Return ``(pattern, subdomains_only)`` or the reason the line is bad."""
    text = line.split(",", 1)[0].strip().strip('"')
    text = _DEFANGED_SCHEME.sub(lambda m: f"http{m.group(1)}://", _DEFANGED_DOT.sub(".", text))
    m = _URL.match(text)
    if m:
        text = m.group(1).rsplit("@", 1)[-1]
    subdomains_only = False
    if text.startswith("*."):
        text, subdomains_only = text[2:], True
    elif text.startswith("."):
        text, subdomains_only = text[1:], True
    if "*" in text:
        return "wildcards are allowed only as a leading '*.'"
    norm = normalize_host(text)
    if norm.kind == "ip":
        return "IP address: intel lists match hostnames only"
    if norm.kind != "hostname" or norm.name is None:
        return f"not a hostname ({norm.note or norm.kind})"
    if "." not in norm.name:
        return f"{norm.name!r} is a single label: it would match a whole TLD"
    return norm.name, subdomains_only
