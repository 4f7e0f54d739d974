"""The finding: what ``scan`` produces and ``report`` renders.

The JSON shape (``Finding.to_dict``) is the documented, stable output schema.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

SEVERITIES = ("high", "medium", "low", "info")


@dataclass
class Finding:
    src: str                      # internal host (source address)
    host: str | None              # destination name (SNI / Host / query); None when keyed by IP
    platform: str | None          # e.g. "Cloudflare Workers"; None for non-serverless channels
    tenant: str | None            # the customer account on that platform
    category: str                 # faas-edge | app-platform | tunnel | request-bin | intel | non-serverless
    score: float                  # combined score in [0, 1]
    severity: str                 # high | medium | low | info
    connections: int
    period_s: float | None
    jitter: float | None          # Cobalt-Strike-style jitter fraction estimated from the interval quartiles
    first_seen: datetime | None
    last_seen: datetime | None
    user_agent: str | None
    ja3: str | None
    ja4: str | None
    bytes_out: int | None
    bytes_in: int | None
    reasons: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)   # which logs supported it: conn, dns, ssl, http, eve
    kind: str = "beacon"          # beacon | contact (a non-beaconing serverless contact by a non-browser client)
    dst: str | None = None        # destination address when known (or the only key when there is no name)
    dst_port: int | None = None
    cname_of: str | None = None   # the name that was CNAMEd to `host`, when the match came from a CNAME
    channel_key: str | None = None  # stable identity of the channel, for "new since last report"
    # HTTP requests timed as check-ins when requests after the first on kept-alive connections were
    # (those connections' requests and the other connections); None when every check-in is a connection
    http_requests: int | None = None
    # a beacon rotating among several serverless tenants (one client timed across all of them): the
    # names it used, busiest first (None for every other channel)
    rotation: list[str] | None = None
    # component scores: beacon, poisson_z, periodicity, regularity, size, context, qcd
    scores: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        for key in ("first_seen", "last_seen"):
            if d[key] is not None:
                d[key] = d[key].isoformat().replace("+00:00", "Z")
        return d


@dataclass
class ScanResult:
    """What ``analyzer.scan.run_scan`` returns."""

    findings: list[Finding] = field(default_factory=list)
    suppressed: dict[str, int] = field(default_factory=dict)   # allowlist entry (its text/reason) -> findings suppressed
    expired_allowlist: list[str] = field(default_factory=list)  # expired entries, reported not applied
    window_start: datetime | None = None
    window_end: datetime | None = None
    channels_scored: int = 0
    hosts: int = 0
    #: the window ends at the latest timestamp of the store (no --until / --since given)
    window_at_latest: bool = True
    #: what the scan thinks the reader must know: a window that is probably wrong ...
    warnings: list[str] = field(default_factory=list)


def printable(text: str, limit: int | None = None) -> str:
    """Untrusted text (a file name, a log value) for a message: one line, printable, bounded. Control
    and line-breaking characters become escapes (\\n, \\x1b, \\u2028), so that a name cannot add
    lines of its own to the output, nor reach a terminal raw."""
    cut = text if limit is None else text[:limit]
    out = "".join(
        ch if ch.isprintable() and ch not in "\x1b\x9b" else ch.encode("unicode_escape").decode("ascii")
        for ch in cut
    )
    return out + ("..." if limit is not None and len(text) > limit else "")
