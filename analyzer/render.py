"""Render scan results: table, json, ndjson, csv. Pure functions from a ScanResult to text.

Every string in a finding can come from an attacker (SNI, Host, User-Agent, DNS names), so:

* ``strip_control`` removes terminal control characters (C0, DEL, C1, and the Unicode bidi/format
  controls that reorder text) before anything reaches a terminal: the table format applies it to
  every cell;
* ``csv_safe`` neutralizes spreadsheet formula injection: a cell starting with ``= + - @``, TAB or CR
  (after leading spaces, or in their full-width forms) gets a leading apostrophe (the OWASP
  recommendation), after control characters are stripped.

JSON output (``SCHEMA_VERSION`` 1, stable; documented in the README)::

    {"schema": "serverless-c2/scan", "schema_version": 1,
     "window": {"start": ISO-8601 Z, "end": ISO-8601 Z},
     "summary": {"findings": int, "beacons": int, "contacts": int, "hosts": int,
                 "channels_scored": int, "suppressed": {entry: count}, "expired_allowlist": [entry]},
     "findings": [Finding.to_dict(), ...]}      # best first

ndjson: one ``Finding.to_dict()`` per line (no envelope), for log shippers.
csv: one row per finding, the Finding fields in ``CSV_COLUMNS`` order; lists joined with " | ".
JSON escapes control characters itself (``ensure_ascii``), so it needs no stripping.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence

from tabulate import tabulate

from analyzer.findings import Finding, ScanResult

SCHEMA_VERSION = 1
FORMATS = ("table", "json", "ndjson", "csv")

# C0 controls (TAB/LF/CR included: a cell is one line), DEL, C1 controls, and the Unicode format
# characters that reorder or hide text (bidi marks, overrides and isolates, zero-width joiners, BOM,
# interlinear annotations): a hostname must read as what it is. Shared with the report's sanitizers.
INVISIBLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u206f"
    "\ufeff\ufff9-\ufffb]"
)  # \u2028/\u2029: line and paragraph separators, line breaks to str.splitlines() and many viewers
_CONTROL_RE = INVISIBLE
#: what a spreadsheet may take for the start of a formula: = + - @, TAB and CR, and the full-width
#: forms of the four, which some spreadsheets fold to ASCII (checked after NFKC as well)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")

CSV_COLUMNS = ("severity", "score", "kind", "src", "host", "platform", "tenant", "category", "connections",
               "period_s", "jitter", "first_seen", "last_seen", "user_agent", "ja3", "ja4", "bytes_out",
               "bytes_in", "dst", "dst_port", "cname_of", "sources", "reasons", "channel_key", "http_requests",
               "rotation")


def strip_control(s: object) -> str:
    """``str(s)`` without terminal control characters (ESC sequences lose their ESC; bidi tricks vanish)."""
    if s is None:
        return ""
    return _CONTROL_RE.sub("", str(s))


def csv_safe(s: object) -> str:
    """A CSV cell that no spreadsheet will evaluate: controls stripped, formula starts apostrophed.

    Checked on the raw value (a leading TAB/CR is itself a formula vector), and on the text after
    stripping (which can expose a leading ``=``) without its leading spaces and in NFKC form
    (spreadsheets skip leading spaces, and some fold the full-width ``＝`` to ``=``): `` =1+1`` and
    ``＝cmd`` are formula starts too.
    """
    raw = "" if s is None else str(s)
    text = strip_control(raw)
    folded = unicodedata.normalize("NFKC", text.lstrip(" "))
    if raw.startswith(_FORMULA_START) or folded.startswith(_FORMULA_START):
        return "'" + text
    return text


def _fmt_period(f: Finding) -> str:
    if f.period_s is None:
        return "-"
    period = f"{f.period_s:.1f}s" if f.period_s < 10 else f"{f.period_s:.0f}s"
    return period + (f" ±{f.jitter:.0%}" if f.jitter is not None else "")


#: hosts named in full under a grouped finding before "and N more"
GROUP_LIST_MAX = 20
#: periods within this fraction of the group's first are one cadence
GROUP_PERIOD_TOL = 0.05
#: scores this close to the group's first are one finding's (a 12-host agent scored 0.56, 0.57 and 0.58
#: on three rows of one table, by the small differences of each host's day)
GROUP_SCORE_TOL = 0.05


def _group_key(f: Finding, host: str) -> tuple:
    """What members of one fleet share: everything shown in a row but the source, its counts, its exact
    score and its exact period (compared apart, with a tolerance)."""
    return (f.kind, f.severity, host, f.platform, f.tenant, f.ja4 or f.ja3 or f.user_agent)


def _same_cadence(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= GROUP_PERIOD_TOL * max(a, b)


def _alike(lead: Finding, f: Finding) -> bool:
    return _same_cadence(lead.period_s, f.period_s) and abs(lead.score - f.score) <= GROUP_SCORE_TOL + 1e-9


def fleet_groups(findings: Sequence[Finding], display_host: Callable[[Finding], str] | None = None) -> list[list[int]]:
    """Indexes of ``findings`` grouped into fleets: findings that differ only by their source host
    (the same destination as ``display_host`` shows it, client, kind and severity, a score within
    GROUP_SCORE_TOL and a cadence within GROUP_PERIOD_TOL of the group's first). Groups are in the order of their first member, members in input order;
    a finding alike no other is a group of one."""
    show = display_host or (lambda f: f.host or f"{f.dst}:{f.dst_port}")
    groups: list[list[int]] = []
    by_key: dict[tuple, list[list[int]]] = {}
    for i, f in enumerate(findings):
        candidates = by_key.setdefault(_group_key(f, show(f)), [])
        group = next((g for g in candidates if _alike(findings[g[0]], f)), None)
        if group is None:
            group = []
            candidates.append(group)
            groups.append(group)
        group.append(i)
    return groups


TABLE_CELL_MAX = 64     # a table cell longer than this is cut in its middle (a name's end is its platform)
TABLE_LINE_MAX = 400    # ... and a reason line at its end


def _cut(text: str, limit: int = TABLE_CELL_MAX) -> str:
    """``text`` (already stripped of control characters) cut to ``limit`` characters, the cut marked:
    one 100 kB SNI or User-Agent widened every row of the table to 100 kB."""
    if len(text) <= limit:
        return text
    if limit == TABLE_LINE_MAX:
        return text[:limit - 1] + "…"
    head = (limit - 1) // 3
    return text[:head] + "…" + text[len(text) - (limit - 1 - head):]


def render_table(result: ScanResult, *, reasons: bool = True) -> str:
    """A terminal table, best first, each finding's reasons below it; then a summary line.

    Findings that differ only by their source host (one destination, client, kind, score and period:
    a fleet of agents, several hosts running one implant) are shown once, where the best of them
    ranks, with the other sources named below it: a nightly report of a network with a 500-host
    monitoring agent stays readable. The JSON, ndjson and CSV formats keep one finding per channel.
    """
    # one host reached twice by one source (two ports of a name seen without SNI, a browser and an
    # implant at script.google.com): the port tells the rows apart when it differs
    ports: dict[tuple[str, str | None], set[int | None]] = {}
    for f in result.findings:
        ports.setdefault((f.src, f.host), set()).add(f.dst_port)

    def display_host(f: Finding) -> str:
        if f.rotation and f.host and len(f.rotation) > 1:  # a client rotating among tenants: its busiest name
            return f"{f.host} +{len(f.rotation) - 1}"
        if f.host and len(ports[(f.src, f.host)]) > 1 and f.dst_port is not None:
            return f"{f.host}:{f.dst_port}"
        return f.host or f"{f.dst}:{f.dst_port}"

    groups = [[(result.findings[i], display_host(result.findings[i])) for i in g]
              for g in fleet_groups(result.findings, display_host)]
    rows = []
    for members in groups:
        f, host = members[0]
        src = f.src if len(members) == 1 else f"{f.src} +{len(members) - 1}"
        conns = f"{f.connections} ({f.http_requests} req)" if f.http_requests else f.connections
        rows.append([f.severity, f"{f.score:.2f}", f.kind, src, host,
                     f.platform or f.category, f.tenant or "", conns, _fmt_period(f)])
    headers = ["sev", "score", "kind", "src", "host", "platform", "tenant", "conns", "period"]
    safe = [[_cut(strip_control(c)) for c in row] for row in rows]
    out = [tabulate(safe, headers=headers, tablefmt="simple", disable_numparse=True)] if rows else ["no findings"]
    if reasons and result.findings:
        out.append("")
        for i, members in enumerate(groups, start=1):
            f, host = members[0]
            more = f" and {len(members) - 1} more host{'s' if len(members) > 2 else ''}" if len(members) > 1 else ""
            out.append(f"[{i}] {_cut(strip_control(f.src))}{more} -> {_cut(strip_control(f.host or f.dst), TABLE_LINE_MAX)}")
            for r in f.reasons:
                out.append(f"    - {_cut(strip_control(r), TABLE_LINE_MAX)}")
            if len(members) > 1:
                others = [m.src for m, _ in members[1:]]
                listed = ", ".join(strip_control(s) for s in others[:GROUP_LIST_MAX])
                rest = (f" and {len(others) - GROUP_LIST_MAX} more (--format json lists every finding)"
                        if len(others) > GROUP_LIST_MAX else "")
                out.append(f"    - the same finding (destination, client; score within {GROUP_SCORE_TOL:g}, period "
                           f"within {GROUP_PERIOD_TOL:.0%}) from {listed}{rest}; the reasons above are "
                           f"{strip_control(f.src)}'s")
    out.append("")
    first, *warnings = summary_line(result).split("\n")  # the counts, then its warnings, one per line
    if len(groups) < len(result.findings):
        first += f"; shown in {len(groups)} row(s), findings that differ only by their source grouped"
    out.extend(strip_control(line) for line in (first, *warnings))
    return "\n".join(out) + "\n"


def summary_line(result: ScanResult) -> str:
    beacons = sum(1 for f in result.findings if f.kind == "beacon")
    contacts = len(result.findings) - beacons
    window = ""
    if result.window_start and result.window_end:
        window = (f" in {result.window_start:%Y-%m-%d %H:%M}..{result.window_end:%Y-%m-%d %H:%M} UTC"
                  + (" (window ends at the latest log timestamp)" if result.window_at_latest else ""))
    text = (f"{beacons} beacon(s), {contacts} contact(s) from {result.channels_scored} timed channels "
            f"of {result.hosts} hosts{window}")
    sup = sum(result.suppressed.values())
    if sup:
        text += f"; {sup} suppressed by the allowlist: " + "; ".join(
            f"{n} by {entry}" for entry, n in sorted(result.suppressed.items()))
    if result.expired_allowlist:
        text += f"; {len(result.expired_allowlist)} expired allowlist entr{'y' if len(result.expired_allowlist) == 1 else 'ies'} not applied: " + "; ".join(result.expired_allowlist)
    for warning in result.warnings:
        text += f"\nwarning: {warning}"
    return text


def _iso(dt) -> str | None:  # type: ignore[no-untyped-def]
    return None if dt is None else dt.isoformat().replace("+00:00", "Z")


def to_json_obj(result: ScanResult) -> dict:
    beacons = sum(1 for f in result.findings if f.kind == "beacon")
    return {
        "schema": "serverless-c2/scan",
        "schema_version": SCHEMA_VERSION,
        "window": {"start": _iso(result.window_start), "end": _iso(result.window_end)},
        "summary": {"findings": len(result.findings), "beacons": beacons,
                    "contacts": len(result.findings) - beacons, "hosts": result.hosts,
                    "channels_scored": result.channels_scored, "suppressed": dict(result.suppressed),
                    "expired_allowlist": list(result.expired_allowlist), "warnings": list(result.warnings)},
        "findings": [f.to_dict() for f in result.findings],
    }


def render_json(result: ScanResult) -> str:
    return json.dumps(to_json_obj(result), indent=2, sort_keys=False) + "\n"


def render_ndjson(findings: Iterable[Finding]) -> str:
    return "".join(json.dumps(f.to_dict(), separators=(",", ":")) + "\n" for f in findings)


def _cell(value: object) -> str:
    if isinstance(value, list):
        value = " | ".join(str(v) for v in value)
    elif isinstance(value, float):
        value = f"{value:g}"
    return csv_safe(value)


def render_csv(findings: Iterable[Finding]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for f in findings:
        d = f.to_dict()
        w.writerow([_cell(d.get(c)) for c in CSV_COLUMNS])
    return buf.getvalue()


def render(result: ScanResult, fmt: str) -> str:
    """Render ``result`` in one of ``FORMATS``."""
    if fmt == "table":
        return render_table(result)
    if fmt == "json":
        return render_json(result)
    if fmt == "ndjson":
        return render_ndjson(result.findings)
    if fmt == "csv":
        return render_csv(result.findings)
    raise ValueError(f"unknown format {fmt!r} ({', '.join(FORMATS)})")
