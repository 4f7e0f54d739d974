"""The allowlist: documented, owned, expiring exceptions that suppress findings.

File format: one entry per line; ``#`` starts a comment line; blank lines are ignored. An entry is
``key=value`` pairs separated by spaces; quote values that contain spaces (shell rules)::

    tenant=acme-corp platform="Cloudflare Workers" reason="our production edge" owner=web-team expires=2027-01-01
    src=10.20.0.0/16 reason="CI runners call our own functions"
    ua="^curl/" host=*.acme-health.azurewebsites.net reason="uptime probe" owner=noc
    ja4=t13d190900_9dc949149365_97f8aa674fd9 src=10.9.8.7 reason="Go updater on the build host"

Conditions (every condition given must hold; at least one is required):

``tenant``    the finding's tenant, exactly (case-insensitive)
``platform``  the finding's platform name, exactly (case-insensitive), e.g. ``"AWS Lambda Function URL"``
``host``      ``name`` exactly, or ``*.name`` for any name under it (not ``name`` itself); compared with the
              finding's host and with the name CNAMEd to it
``src``       an address or CIDR, IPv4 or IPv6
``ua``        a regular expression searched in the User-Agent (Python ``re``)
``ja3``       a JA3 hash (32 hex digits); ``ja4`` a JA4 fingerprint; both exact, case-insensitive

Required: ``reason``. Optional: ``owner``, ``expires`` (YYYY-MM-DD, the last day the entry applies).
An expired entry is not applied; it is listed in :attr:`Allowlist.expired` so the report can say so,
because an exception that silently stops working and one that silently works forever are both bugs.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Protocol

from analyzer.catalog import CatalogErrors
from analyzer.errors import CatalogError
from analyzer.normalize import normalize_host

CONDITIONS = ("tenant", "platform", "host", "src", "ua", "ja3", "ja4")
ATTRIBUTES = ("reason", "owner", "expires")
_JA3 = re.compile(r"[0-9a-f]{32}")
_JA4 = re.compile(r"[a-z0-9_]{10,64}")


class _FindingLike(Protocol):
    src: str
    host: str | None
    tenant: str | None
    platform: str | None
    user_agent: str | None
    ja3: str | None
    ja4: str | None


@dataclass(frozen=True)
class AllowEntry:
    """One allowlist line. Conditions are stored normalized; ``text`` is the line as written."""

    source: str                       # "file:line"
    reason: str
    owner: str | None = None
    expires: date | None = None
    tenant: str | None = None
    platform: str | None = None
    host: str | None = None           # exact name, or "*.name"
    src: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None
    ua: str | None = None
    ja3: str | None = None
    ja4: str | None = None
    text: str = ""
    _ua_re: re.Pattern[str] | None = field(default=None, repr=False, compare=False)

    def conditions(self) -> dict[str, str]:
        out = {}
        for key in CONDITIONS:
            value = getattr(self, key)
            if value is not None:
                out[key] = str(value)
        return out

    def describe(self) -> str:
        """Short text for "suppressed N by <entry>": ``allow.txt:3 tenant=acme-corp (our edge)``."""
        conds = " ".join(f"{k}={_quote(v)}" for k, v in self.conditions().items())
        owner = f", owner {self.owner}" if self.owner else ""
        return f"{self.source} {conds} ({self.reason}{owner})"

    def is_expired(self, today: date) -> bool:
        return self.expires is not None and today > self.expires

    def matches(self, finding: _FindingLike) -> bool:
        """True when every condition of this entry holds for ``finding``."""
        if self.tenant is not None and (finding.tenant or "").casefold() != self.tenant:
            return False
        if self.platform is not None and (finding.platform or "").casefold() != self.platform:
            return False
        if self.host is not None:
            rotation = getattr(finding, "rotation", None)
            if rotation:
                # a client rotating among tenants (scan stage 25): allowed only when every name it used
                # is, or one allowed name among them would hide the others
                if not all(self._host_matches(n) for n in rotation):
                    return False
            else:
                names = [finding.host, getattr(finding, "cname_of", None)]
                if not any(self._host_matches(n) for n in names if n):
                    return False
        if self.src is not None:
            try:
                if ipaddress.ip_address(finding.src) not in self.src:
                    return False
            except (ValueError, TypeError):
                return False
        if self._ua_re is not None and not self._ua_re.search(finding.user_agent or ""):
            return False
        if self.ja3 is not None and (finding.ja3 or "").lower() != self.ja3:
            return False
        if self.ja4 is not None and (finding.ja4 or "").lower() != self.ja4:
            return False
        return True

    def _host_matches(self, raw: str) -> bool:
        assert self.host is not None
        name = normalize_host(raw).name
        if name is None:
            return False
        if self.host.startswith("*."):
            return name.endswith(self.host[1:])
        return name == self.host


@dataclass
class Allowlist:
    entries: list[AllowEntry] = field(default_factory=list)     # active entries
    expired: list[AllowEntry] = field(default_factory=list)     # reported, never applied

    def match(self, finding: _FindingLike) -> AllowEntry | None:
        """The first active entry that suppresses ``finding``, or None."""
        return next((e for e in self.entries if e.matches(finding)), None)


def load_allowlist(path: str | Path, *, today: date | None = None) -> Allowlist:
    """Parse an allowlist file; raises :class:`~analyzer.catalog.CatalogErrors` listing every bad line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"cannot read allowlist: {exc}", str(path)) from exc
    return parse_allowlist(text, str(path), today=today)


def parse_allowlist(text: str, path: str = "<allowlist>", *, today: date | None = None) -> Allowlist:
    today = today or date.today()
    result = Allowlist()
    errors: list[CatalogError] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            entry = _parse_line(line, f"{path}:{lineno}")
        except ValueError as exc:
            errors.append(CatalogError(str(exc), path, lineno))
            continue
        (result.expired if entry.is_expired(today) else result.entries).append(entry)
    if errors:
        raise CatalogErrors(errors)
    return result


def _parse_line(line: str, source: str) -> AllowEntry:
    try:
        tokens = shlex.split(line, comments=True, posix=True)
    except ValueError as exc:
        raise ValueError(f"cannot split the line: {exc}") from exc
    values: dict[str, str] = {}
    for token in tokens:
        key, sep, value = token.partition("=")
        if not sep:
            raise ValueError(f"expected key=value, found {token[:40]!r}")
        if key not in CONDITIONS + ATTRIBUTES:
            raise ValueError(f"unknown key {key!r}: expected one of {', '.join(CONDITIONS + ATTRIBUTES)}")
        if key in values:
            raise ValueError(f"{key} given twice")
        if not value.strip():
            raise ValueError(f"{key} is empty")
        values[key] = value.strip()
    if "reason" not in values:
        raise ValueError("reason is required: say why this traffic is expected")
    if not any(k in values for k in CONDITIONS):
        raise ValueError(f"no condition: give at least one of {', '.join(CONDITIONS)}")
    kwargs: dict[str, object] = {"source": source, "reason": values["reason"], "owner": values.get("owner"),
                                 "text": line}
    if "expires" in values:
        try:
            kwargs["expires"] = date.fromisoformat(values["expires"])
        except ValueError as exc:
            raise ValueError(f"bad expires {values['expires']!r}: use YYYY-MM-DD") from exc
    for key in ("tenant", "platform"):
        if key in values:
            kwargs[key] = values[key].casefold()
    if "host" in values:
        kwargs["host"] = _parse_host(values["host"])
    if "src" in values:
        try:
            kwargs["src"] = ipaddress.ip_network(values["src"], strict=False)
        except ValueError as exc:
            raise ValueError(f"bad src {values['src']!r}: expected an address or CIDR") from exc
    if "ua" in values:
        try:
            kwargs["_ua_re"] = re.compile(values["ua"])
        except re.error as exc:
            raise ValueError(f"bad ua regex {values['ua']!r}: {exc}") from exc
        kwargs["ua"] = values["ua"]
    if "ja3" in values:
        if not _JA3.fullmatch(values["ja3"].lower()):
            raise ValueError(f"bad ja3 {values['ja3']!r}: expected 32 hex digits")
        kwargs["ja3"] = values["ja3"].lower()
    if "ja4" in values:
        if not _JA4.fullmatch(values["ja4"].lower()):
            raise ValueError(f"bad ja4 {values['ja4']!r}")
        kwargs["ja4"] = values["ja4"].lower()
    return AllowEntry(**kwargs)  # type: ignore[arg-type]


def _parse_host(value: str) -> str:
    wildcard = value.startswith("*.")
    norm = normalize_host(value[2:] if wildcard else value)
    if norm.kind != "hostname" or norm.name is None or "*" in value[2 if wildcard else 0:]:
        raise ValueError(f"bad host {value!r}: expected a hostname or *.hostname")
    return ("*." if wildcard else "") + norm.name


def _quote(value: str) -> str:
    return shlex.quote(value) if value else "''"
