"""The scan stage: score every channel in the store and turn the high scorers into findings.

The scoring is the SQL in ``sql/20_*.sql`` .. ``sql/49_*.sql``, run in order with every tunable bound as
a named parameter (``ScanParams``): this module only prepares the inputs those stages read
(``name_matches`` from the matcher, ``scan_name_groups``, ``scan_client_class``), runs them, and writes
the reasons an analyst reads. The algorithm and its calibration are described in the SQL files and in
``docs`` (burst collapse -> gap removal -> test against a Poisson null -> regularity and size
consistency -> evidence beyond timing).

Windows are relative to the **latest timestamp in the store**, not to the wall clock: a nightly run
over yesterday's logs, or a replay of an old capture, scans the last 24 h *of data*.

What the candidate algorithm of the scoring notes needed to survive its own scenario tests
(``analyzer.simulate``; ``tests/test_scan.py``), kept here because each one is a tested behaviour:

* the burst gap uses the upper quartile of raw gaps, not the median: in an Apps Script channel half
  the raw gaps are the sub-second redirect gaps, and a median-based gap reported a 0.6 s "period";
* prevalence is counted per (destination, client fingerprint): on script.google.com every browser
  counts, which buried the implant under a "fleet-wide" penalty;
* a beacon needs a period >= ``min_period_s`` and activity over >= ``min_span_s``: on real data
  (WRCCDC 2018) scanners and brute force hitting a port every second for minutes are perfectly
  regular, and were the top of the list without it;
* evidence beyond timing decides the ranking among perfect timers: an exact 60 s heartbeat from six
  hosts has a perfect beacon score, and ranks below jittery C2 only through the fleet penalty.

Measured on 8 seeds of the ``mixed`` scenario (13 C2 channels: CS jitter 0-50 %, sleeps 27 s-1 h,
office hours, laptop gaps, tasking, redirect pairs, spoofed UA, rotating workers, DNS caching, a DNS
tunnel, a non-serverless beacon): every C2 channel scored >= 0.90 on every seed; the best benign
finding (the heartbeat) scored 0.70; browsing and Poisson channels had a beacon score of 0.
"""

from __future__ import annotations

import ipaddress
import math
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb

from analyzer.errors import AnalyzerError, InputError, StoreError
from analyzer.findings import SEVERITIES, Finding, ScanResult, printable
from analyzer.ingest.duplicates import MIN_OVERLAP_SHARE
from analyzer.narrow import MOVED, moved, narrow
from analyzer.normalize import normalize_host
from analyzer.sqlfiles import list_sql, read_sql
from analyzer.store import drop, settings

#: Names that are one logical destination although they differ: a Google Apps Script web app answers
#: every call on script.google.com with a 302 to script.googleusercontent.com, so one check-in makes two
#: connections. Grouped, the pair is one channel and burst collapse turns each pair into one check-in.
NAME_GROUPS: dict[str, str] = {
    "script.google.com": "script.google.com",
    "script.googleusercontent.com": "script.google.com",
}

_WINDOW_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


@dataclass(frozen=True)
class ScanParams:
    """Every number the scoring SQL uses. Field names are the SQL parameter names (``$name``)."""

    dns_port: int = 53               # connections to this port are DNS, scored from dns rows instead
    sensor_match_s: float = 1.0      # Zeek and Suricata records of one connection/query start this close
    sensor_match_min_share: float = 0.5  # ... and merged only when this share of Suricata's has a Zeek twin
    sensor_skew_max_s: float = 120.0  # the two sensors' clocks measured apart up to this much, and matched so
    min_checkins: int = 4            # a channel needs at least this many events to be timed
    min_intervals: int = 3           # ... and this many kept intervals to get a beacon score
    request_gap_s: float = 5.0       # a later request on a kept-alive HTTP connection is a check-in of its
                                     # own after this much quiet on it; sooner, it belongs to the one before
    burst_max_s: float = 10.0        # burst gap b = min(burst_max_s, burst_frac * q75 raw gap)
    burst_frac: float = 0.2
    burst_quantile: float = 0.75     # ... of the raw gaps' upper quartile (robust to redirect pairs)
    burst_floor_s: float = 1.0       # ... of the gaps this long or longer (robust to 4+ connections per check-in)
    gap_factor: float = 3.0          # intervals > gap_factor * median are sleep gaps, removed
    rhythm_share: float = 0.1        # a median rhythm holding less of a channel's time than this ...
    rhythm_min_intervals: int = 12   # ... beside this many intervals over gap_factor x it: re-timed (stage 35) ...
    rhythm_kept_share: float = 0.3   # ... when the slower rhythm holds this share of the time at least
    win_lo: float = 0.5              # jitter window [win_lo, win_hi] x median: CS jitter <= 67 %, sym +-50 %
    win_hi: float = 1.5
    p0: float = 0.404                # P(window | exponential, <= 3 m): the Poisson null
    tight_win: float = 0.2           # narrow window (1 +- tight_win) x median: precise timers, few check-ins
    median_corr: int = 1             # intervals the sample median puts in the narrow window by construction
    z_lo: float = 3.0                # z at which timing evidence starts to count ...
    z_hi: float = 6.0                # ... and reaches full credit
    qcd_scale: float = 0.6           # QCD at which regularity reaches 0 (Poisson QCD = 0.656)
    regular_min: float = 0.5         # regularity at which timing short of a beacon still reads as regular
    size_abs_tol: float = 32.0       # request size "the same" within max(32 B, 20 %)
    size_rel_tol: float = 0.2
    w_regular: float = 0.7
    w_size: float = 0.3
    label_min_len: int = 16          # labels this long are judged for entropy / grouped when DNS-only
    label_min_entropy: float = 3.6   # bits per character
    long_conn_s: float = 3600.0      # a connection this long ...
    long_conn_max_bps: float = 50.0  # ... moving fewer bytes/s than this is a keep-alive channel
    upload_min_bytes: int = 50_000_000   # a channel that sent this much, and ...
    upload_ratio: float = 5.0            # ... this many times what it received, says so (no weight)
    long_conn_browser_s: float = 14400.0  # a browser's keep-alive channel this long, to a serverless tenant no
                                          # other host reaches, is listed (a uTLS implant polling inside it)
    nxdomain_min: int = 5
    answer_lead_s: float = 1.0       # a DNS answer logged up to this long after a connection still names it
    answer_lookback_s: float = 7 * 86400.0  # answers this long before the window still name its connections
    ja3_varies_min: int = 4          # a source's connections to one name with this many JA3s (and no JA4) ...
    ja3_varies_share: float = 0.5    # ... one per 2 connections or more: a shuffling (Chromium) client, keyed without it
    rotation_min_dests: int = 2      # a client reaching this many serverless tenants is also timed across them ...
    rotation_max_share: float = 0.8  # ... when none of them has more than this share of its events (stage 25)
    forwarder_min_names: int = 100   # a source looking up this many names it never connects to ...
    forwarder_share: float = 0.9     # ... this share of its names at least: a DNS resolver or forwarder
    forwarder_min_served: int = 10   # ... or as few as this many, when other hosts connect to ...
    forwarder_served_share: float = 0.5  # ... at least this share of them: it looks names up for them
    w_dead_lookup: float = 0.3       # DNS-only, one name, every answer NXDOMAIN: a retrying lookup, not a channel
    beacon_min: float = 0.3          # beacon score at which a channel is a beacon finding
    steady_timing: float = 0.8       # a timing score this high is "periodic" in a reason, not "weakly periodic"
    min_period_s: float = 5.0        # faster is a "fast cadence": kept only to a public address, few per source
    strobe_max_fanout: int = 3       # a source with more fast channels than this is a scanner / brute forcer
    min_span_s: float = 600.0        # a beacon must be active over at least this long ...
    span_frac: float = 0.5           # ... or this share of the span the logs cover (short pcaps)
    w_serverless: float = 1.0
    w_other: float = 0.8
    w_nonbrowser: float = 0.1
    w_tool: float = 0.1              # ... and more when it is a known scripting runtime / attack tool
    w_mismatch: float = 0.15
    w_single: float = 0.1
    w_common: float = 0.4            # a fleet of at least prev_common hosts: an agent deployed by IT ...
    prev_common: int = 3
    fleet_large: int = 5
    fleet_wide: int = 20             # a fleet this large, and ...
    fleet_wide_share: float = 0.5    # ... of this share of the internal hosts, that is not new (nor began
    w_fleet_wide: float = 0.7        # late): software deployed across the site, discounted this much
    w_small_fleet: float = 0.2       # ... or, to a serverless tenant, fewer than fleet_large hosts (any number when
                                     # the tenant is new to a store with history, or the channel began
                                     # late_start_s after its host's first traffic): one implant on a few hosts
    late_start_s: float = 10800.0    # a channel this long after its host's first traffic, in a fleet none of
                                     # whose hosts began it sooner into the window: a fleet that began today
    fleet_period_ratio: float = 1.25  # hosts timed at periods further apart than this are not one fleet
    w_new: float = 0.05
    novelty_history_s: float = 43200.0  # "new to the store" needs this much of the store before the window,
    history_bin_s: float = 3600.0       # counted in clock hours (bins of this width) with a connection in them
    w_dns: float = 0.1
    w_intel: float = 0.3
    w_inbound: float = 0.5           # an outside address reaching a private one: a monitor or scanner, mostly
    w_internal: float = 0.5          # a private address reached with no TLS or HTTP name: a poll, mostly
    time_sync_port: int = 123        # NTP: clients poll their servers on a timer by design ...
    w_time_sync: float = 0.5         # ... so a channel to this port weighs this much
    w_long_conn: float = 0.3
    contact_base: float = 0.2
    contact_cap: float = 0.6
    sev_high: float = 0.8
    sev_medium: float = 0.6
    sev_low: float = 0.4


@dataclass
class ScanOptions:
    """What to scan and how.

    ``window`` ('24h' default, '7d' for slow beacons; s/m/h/d/w units) ends at ``until`` or else at the
    latest timestamp in the store (not the wall clock); given with ``since`` alone, it starts there.
    ``since``/``until`` (datetimes, UTC when naive) override it; all three given is an error (None:
    the default length, which ``since`` and ``until`` together override). ``min_score`` filters beacon findings; contacts (non-browser clients talking to
    serverless) are listed regardless unless ``include_contacts`` is False.
    """

    window: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    min_score: float = 0.5
    include_contacts: bool = True
    catalog_files: tuple[str, ...] = ()
    intel_files: tuple[str, ...] = ()
    allowlist: str | Path | None = None
    params: ScanParams = field(default_factory=ScanParams)
    #: Fills ``name_matches`` (see ``build_name_matches``); replaceable so tests can isolate scoring.
    name_matcher: Callable[[Any, "ScanOptions"], list[str] | None] | None = None
    #: Drop the log tables from the store once the scoring stages have read them (``_RELEASE_AFTER``),
    #: so that the later stages have their memory: for a store that ends with the scan (the CLI's
    #: scratch store), never for one kept or reported on afterwards.
    release_logs: bool = False


#: the scan window's length when neither --window nor both --since and --until are given
DEFAULT_WINDOW = "24h"

#: the longest window: back to 1970 from 2100, the range of times the ingest accepts (sql/01)
MAX_WINDOW_S = 130 * 365.25 * 86400


def parse_window(text: str) -> float:
    """'24h' -> 86400.0. Raises ``InputError`` on anything else."""
    m = _WINDOW_RE.match(text or "")
    if not m:
        raise InputError(f"bad window {text!r}: use a number and a unit, e.g. 24h, 7d, 90m")
    seconds = float(m.group(1)) * _UNIT_S[m.group(2).lower()]
    if seconds <= 0:
        raise InputError(f"bad window {text!r}: must be positive")
    if not seconds < MAX_WINDOW_S:
        raise InputError(f"bad window {text!r}: at most {MAX_WINDOW_S / 86400 / 365.25:.0f} years")
    return seconds


def _epoch(dt: datetime) -> float:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def _utc(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, timezone.utc)


def scoring_stages() -> list[str]:
    """The SQL files of the scan, in the order they run (20..49)."""
    return [n for n in list_sql() if n[:2].isdigit() and 20 <= int(n[:2]) <= 49]


_COMMENT_RE = re.compile(r"--[^\n]*")
_PARAM_RE = re.compile(r"\$([a-z_][a-z0-9_]*)")


def run_stage(con: Any, name: str, values: dict[str, Any]) -> None:
    """Run one SQL stage, binding exactly the ``$parameters`` it uses (an unused one is an error in DuckDB).

    A stage of several statements runs them one by one, as DuckDB's parser splits them: DuckDB binds
    parameters only in the last statement of a multi-statement string.
    """
    sql = read_sql(name)
    used = sorted(set(_PARAM_RE.findall(_COMMENT_RE.sub("", sql))))
    missing = [p for p in used if p not in values]
    if missing:
        raise AnalyzerError(f"sql/{name}: no value for parameter(s) {', '.join(missing)}")
    statements = con.extract_statements(sql)
    try:
        if len(statements) <= 1:
            con.execute(sql, {p: values[p] for p in used})
            return
        for statement in statements:
            con.execute(statement.query, {p: values[p] for p in sorted(statement.named_parameters)})
    except duckdb.OutOfMemoryException as exc:
        raise StoreError(out_of_memory(con, exc, f"stage sql/{name}")) from exc


def out_of_memory(con: Any, exc: Exception, where: str) -> str:
    """What to tell a user whose scan DuckDB could not fit under its memory cap (``where``: what ran)."""
    try:
        cap = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    except duckdb.Error:
        cap = "its"
    said = str(exc).strip().split("\n")[0]
    return (f"out of memory in {where}, under DuckDB's cap of {cap} (--memory-limit): give it more if "
            f"the machine has it (--memory-limit 4GB), or scan fewer hours at a time (--since/--until, or "
            f"fewer files). DuckDB said: {said}")


# --- inputs the SQL reads -------------------------------------------------------------------------


def build_name_matches(con: Any, options: ScanOptions) -> list[str]:
    """Fill ``name_matches`` with the matcher (catalogue + intel), one row per distinct raw name; the
    warnings for the scan (:func:`_intel_warning`)."""
    from analyzer.catalog import load_catalog
    from analyzer.intel import read_intel
    from analyzer.matcher import Matcher

    catalog = load_catalog(list(options.catalog_files))
    intel = read_intel(list(options.intel_files)) if options.intel_files else None
    warning = _intel_warning(intel.rejects) if intel is not None else None
    Matcher(catalog, intel=intel.patterns if intel is not None else None).match_store(con)
    return [warning] if warning else []


#: sleep gaps (stage 40) averaging less than this are read as a slower cadence, not as sleep
SLEEP_GAP_S = 3600.0
#: scan_client_class.client_label of a client known by nothing but a hello shaped like a browser's
BROWSER_SHAPED = "browser-shaped"
#: The fewest extensions a browser's QUIC hello carries (Chromium 115 without a resumed session: 10).
QUIC_BROWSER_MIN_EXTENSIONS = 9
#: The JA4 "a" part: protocol, TLS version, SNI flag, cipher count, extension count, ALPN.
_JA4_A_RE = re.compile(r"^[tqd](?:\d\d|s\d|00)[di](\d\d)(\d\d)([0-9a-z]{2})_")


def ja4_browser_shaped(ja4: str | None) -> bool:
    """A TLS-over-TCP JA4 with a browser's structure: h2/h3 ALPN, >= 14 cipher suites and >= 14
    extensions, as every current Chrome/Edge/Firefox/Safari hello has (t13d1516h2, t13d1715h2,
    t13d2014h2) and scripting runtimes and Windows WinHTTP/WinINet do not (t13d1812h1, t13d1311h2,
    t12d190900). A client can build such a hello with any cipher list of its own."""
    m = _JA4_A_RE.match((ja4 or "").lower())
    if not m or ja4 is None or ja4[0] in "qQ":
        return False
    ciphers, exts, alpn = int(m.group(1)), int(m.group(2)), m.group(3)
    return alpn in ("h2", "h3") and ciphers >= 14 and exts >= 14


def ja4_browser_like(ja4: str | None) -> bool | None:
    """Whether a JA4 looks like a browser's ClientHello; None when unknown / unparsable, or when it
    only has a browser's shape.

    Known values first (``analyzer.clients``: browser families by their cipher hash, and known tools).
    An unknown TLS-over-TCP hello with a browser's structure (:func:`ja4_browser_shaped`) but no
    browser's cipher list is None: neither a browser, whose exemptions (a page reloading itself, a tab
    kept open, several sites timed together) an implant would then enjoy by building a hello of that
    shape (an outside tester's, with 14 suites and 14 extensions, rotated among five Worker accounts
    unseen), nor a non-browser client. Any other unknown hello is not a browser's.

    QUIC (``q``) is TLS 1.3 only: a browser offers the three suites like every other client, so the
    cipher count says nothing. A browser's QUIC hello names the server, offers h3 and carries at least
    ``QUIC_BROWSER_MIN_EXTENSIONS`` extensions (Chromium 115 q13d0311h3, Firefox 102 q13d0314h3);
    curl 8.1's HTTP/3 (q13d0308h3), quic-go's interop client (ALPN hq-interop: q13d0311hp) and the
    Merlin C2 agent (no SNI: q13i0311h3) do not (Zeek's QUIC traces, replayed through Suricata 7);
    nor does Python's aioquic (q13d0307h3). Apple's stack carries 11 (q13d0311h3, published captures).
    A client with as many extensions passes for a browser (curl 8.21 with ngtcp2 shows q13d0312h3):
    its SNI and timing still count.
    """
    if not ja4:
        return None
    from analyzer.clients import classify_ja4

    known = classify_ja4(ja4)
    if known is not None:
        return known.browser
    m = _JA4_A_RE.match(ja4.lower())
    if not m:
        return None
    exts, alpn = int(m.group(2)), m.group(3)
    if ja4[0] in "qQ":
        return ja4[3] in "dD" and alpn == "h3" and exts >= QUIC_BROWSER_MIN_EXTENSIONS
    return None if ja4_browser_shaped(ja4) else False


def _build_client_class(con: Any) -> None:
    """Judge each distinct (User-Agent, JA4, JA3) of the scored channels once, in Python.

    nonbrowser: the UA family is not a browser, or there is no UA and the TLS fingerprint is not a
    browser's; mismatch: a browser UA with a non-browser TLS fingerprint (a spoofed implant); browser:
    a browser's JA4 and no User-Agent that says otherwise.
    """
    from analyzer.clients import classify_user_agent, is_known_tool_fingerprint

    rows = con.execute(
        "SELECT DISTINCT coalesce(user_agent, ''), coalesce(ja4, ''), coalesce(ja3, ''), user_agent IS NULL "
        "FROM scan_facts").fetchall()
    out = []
    for ua, ja4, ja3, ua_null in rows:
        tool = is_known_tool_fingerprint(ja3 or None, ja4 or None)
        tls_browser = False if tool is not None else ja4_browser_like(ja4 or None)
        known_tool = tool is not None
        if ua_null:
            nonbrowser = tls_browser is False
            mismatch = False
            label = (tool.label if tool is not None else f"TLS client {ja4}") if nonbrowser else \
                (BROWSER_SHAPED if tls_browser is None and ja4_browser_shaped(ja4) else None)
        else:
            info = classify_user_agent(ua)
            nonbrowser = not info.browser
            mismatch = info.browser and tls_browser is False
            # a recognised tool family (PowerShell, curl, python-requests, certutil, an empty UA ...)
            # says more than an OS service (Windows CryptoAPI) or an unrecognised UA (an app's updater)
            known_tool = known_tool or (nonbrowser and info.tool)
            label = info.label
            if mismatch and tool is not None:
                label = f"{info.label}, but the TLS fingerprint is {tool.label}"
        # a browser by its handshake: a browser's JA4, and no User-Agent that says otherwise
        browser = tls_browser is True and not nonbrowser and not mismatch
        out.append((ua, ja4, ja3, nonbrowser, mismatch, known_tool, label, browser))
    _create_filled(con, "scan_client_class", (("ua", "VARCHAR"), ("ja4", "VARCHAR"), ("ja3", "VARCHAR"),
                                              ("nonbrowser", "BOOLEAN"), ("mismatch", "BOOLEAN"),
                                              ("tool", "BOOLEAN"), ("client_label", "VARCHAR"),
                                              ("browser", "BOOLEAN")), out)


def _build_addr_class(con: Any, beacon_min: float) -> None:
    """Class each distinct destination and source address of the channels that time as beacons
    (beacon score at least ``beacon_min``, the only ones stage 49 asks about), once:

    - private (a destination): not globally routable (RFC 1918, loopback, link-local, CGNAT, ULA ...):
      a fast cadence to such an address is a scanner, brute force or monitoring, not an implant
      calling out;
    - no_reply (a destination): multicast or the limited broadcast (SSDP to 239.255.255.250 every 2
      minutes, LLMNR, WS-Discovery): announcements to whoever listens, which no server answers with
      commands;
    - outside (a source, ``scan_src_class``): a globally routable address. Connecting to a private
      destination, it is an outside host reaching in (an uptime monitor, a scanner), not an internal
      host calling out. A public source to a public destination is not judged: networks that number
      their hosts in public space exist, and a sensor cannot tell them from the Internet.

    Anything that is not an IP literal is none of these.
    """
    rows = con.execute(
        "SELECT DISTINCT f.dst FROM scan_facts f JOIN scan_beacon b ON b.chan_id = f.chan_id "
        "WHERE f.dst IS NOT NULL AND b.beacon >= $b", {"b": beacon_min},
    ).fetchall()
    out = []
    for (dst,) in rows:
        ip = _ip(dst)
        if ip is None:
            out.append((dst, False, False))
            continue
        no_reply = ip.is_multicast or (ip.version == 4 and int(ip) == 0xFFFFFFFF)
        out.append((dst, not ip.is_global, no_reply))
    _create_filled(con, "scan_dst_class", (("dst", "VARCHAR"), ("private", "BOOLEAN"), ("no_reply", "BOOLEAN")),
                   out)
    rows = con.execute(
        "SELECT DISTINCT f.src FROM scan_facts f JOIN scan_beacon b ON b.chan_id = f.chan_id "
        "WHERE f.src IS NOT NULL AND b.beacon >= $b", {"b": beacon_min},
    ).fetchall()
    srcs = [(src, ip is not None and ip.is_global) for (src,) in rows for ip in [_ip(src)]]
    _create_filled(con, "scan_src_class", (("src", "VARCHAR"), ("outside", "BOOLEAN")), srcs)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _create_filled(con: Any, table: str, columns: tuple[tuple[str, str], ...], rows: list[tuple[Any, ...]]) -> None:
    """Create temp table ``table`` holding ``rows``, in one statement.

    One bound list per column, unnested side by side: ``executemany`` costs a statement per row, which
    on a big day (tens of thousands of distinct destinations) took seconds. ``table`` and the column
    names are constants of this module, never data; the values are bound.
    """
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} ({', '.join(f'{n} {t}' for n, t in columns)})")
    if rows:
        lists = [list(col) for col in zip(*rows)]
        select = ", ".join(f"unnest(CAST(? AS {t}[]))" for _, t in columns)
        con.execute(f"INSERT INTO {table} SELECT {select}", lists)


def p0_window(half_width: float, gap_factor: float) -> float:
    """P(|D/m - 1| <= half_width | D <= gap_factor x m) for exponential intervals D of median m: the share of
    random traffic's intervals (after gap removal) that falls in a window around the median. The
    exponential's survival is P(D > x m) = 2^-x, since m is its median."""
    return (2 ** -(1 - half_width) - 2 ** -(1 + half_width)) / (1 - 2 ** -gap_factor)


def _data_span(con: Any, t0: float, t1: float) -> float:
    """Seconds of the window that the logs actually cover (a replayed pcap covers minutes)."""
    lo, hi = _latest_epoch(con)
    if lo is None or hi is None:
        return 0.0
    return max(0.0, min(hi, t1) - max(lo, t0))


def _ensure_name_matches(con: Any) -> None:
    con.execute(
        "CREATE TABLE IF NOT EXISTS name_matches (raw_name VARCHAR, name VARCHAR, name_kind VARCHAR, "
        "platform VARCHAR, provider VARCHAR, tenant VARCHAR, category VARCHAR, confidence VARCHAR, "
        "severity VARCHAR, pattern VARCHAR, entry_id VARCHAR, via_cname VARCHAR, bare_severity VARCHAR, "
        "intel_pattern VARCHAR, intel_source VARCHAR, seen_in VARCHAR[], name_note VARCHAR)")


# --- the scan -------------------------------------------------------------------------------------


#: Per-event tables, dropped as soon as no later stage reads them (memory: they hold every event).
#: What stays after a scan is per channel: scan_channels, scan_facts, scan_beacon, scan_findings ...
#: (conn_n and tls_n are views, of the logs or of the rows a scan-owned store kept: analyzer.narrow.)
_DROP_AFTER = {
    "21": ("scan_answer_names", "scan_answer_times", "scan_http_c", "conn_n", "tls_n", *MOVED.values(), "scan_addr_dict", "scan_name_dict",
           "scan_client_dict", "scan_tls_names", "scan_conn_span", "scan_dup_flows",
           "scan_zeek_twins"),
    "23": ("scan_addr_apart", "scan_zeek_dns_twins"),
    "25": ("scan_clients", "scan_agents", "scan_part_keys", "scan_ja3_varies"),
    "26": ("scan_events", "scan_raw_names"),
    "30": ("scan_raw",),
    "35": ("scan_rhythm_intervals",),
    "43": ("scan_intervals", "scan_bursts"),
    "45": ("scan_parts", "scan_addrs", "scan_long_conns"),
    "46": ("scan_seen", "scan_store_span"),
    "47": ("scan_dup_dns", "scan_dns_names"),
}

#: With ScanOptions.release_logs, the log tables dropped after a stage file: no later file reads
#: them. http is read for the last time by its file of stage 21, conn and tls, narrowed (conn_n, tls_n:
#: analyzer.narrow, dropped after stage 21 in any store), by the file that joins them (stage 20,
#: 20_first_seen included, reads what it needs before), dns by stage 47. A store that ends with the
#: scan has had its conn and tls emptied already when they were narrowed during its ingest.
_RELEASE_AFTER = {"21_events_1_http.sql": ("http",),
                  "21_events_2_conn.sql": ("conn", "tls"), "47_dns_evidence.sql": ("dns",)}


#: DuckDB settings while the scan runs, restored after (names are constants, not data). No stage
#: reads rows in insertion order (results are ordered explicitly where order matters), and keeping it
#: makes DuckDB buffer whole per-event results to reassemble the order. The progress bar goes to
#: stdout, into the JSON a nightly job redirects there.
_SCAN_SETTINGS = {"preserve_insertion_order": False, "enable_progress_bar": False}

#: the stage file that joins the logs on their connection ids (:func:`repeated_ids`, :func:`join_multiplied`)
JOIN_STAGE = "21_events_2_conn.sql"

#: TLS SNIs that name no destination: the outer (public) name of an Encrypted Client Hello, which
#: Chrome and Firefox send to every site of a provider that offers ECH (Cloudflare: cloudflare-ech.com,
#: its only one), and a Go 1.23+ client configured with ECH sends too. The real name is inside the
#: encrypted hello; a connection with one of these is named from its host's DNS answers, as one with
#: no SNI is (stage 21). Keyed by the outer name, an implant's Worker became a non-serverless
#: "cloudflare-ech.com" beacon beside a DNS-only channel of the Worker timed by its lookups.
ECH_OUTER_NAMES = ("cloudflare-ech.com",)
#: the raw spellings of those names stage 21 takes ($ech_1 ... ; a name logged in more case or
#: trailing-dot variants than this keeps the others as names)
ECH_SLOTS = 4


def _ech_values(con: Any) -> dict[str, Any]:
    """The stage-21 parameters $ech_1 ... $ech_<ECH_SLOTS>: the numbers (scan_raw_names, stage 20) of
    the ECH outer names the window's events carry, NULL for the unused slots."""
    rows = con.execute("SELECT raw_id FROM scan_raw_names WHERE rtrim(lower(raw_name), '.') IN "
                       f"({', '.join('?' for _ in ECH_OUTER_NAMES)}) ORDER BY raw_id LIMIT ?",
                       [*ECH_OUTER_NAMES, ECH_SLOTS]).fetchall()
    ids = [r[0] for r in rows] + [None] * ECH_SLOTS
    return {f"ech_{i + 1}": ids[i] for i in range(ECH_SLOTS)}


#: DuckDB settings for one stage file while it runs (engine-specific, so kept out of the SQL).
#: 21_events_2_conn: its SQL puts the side to build each hash join on at the right, the smaller one.
#: DuckDB's optimizer picks sides from its estimates instead, and for the join of the connections to
#: the TLS handshakes it guesses wrong: it estimated the 10M connections, after their filters, at
#: fewer rows than the 7M handshakes, so it built on the connections and partitioned them to disk
#: under the memory cap. Keeping the written sides: that join 3.2 -> 1.5 CPU-s, the
#: file 5.7 -> 4.6 s (DuckDB's profile, 10M connections, 1.6 GB cap).
_STAGE_SETTINGS: dict[str, dict[str, str]] = {
    JOIN_STAGE: {"disabled_optimizers": "build_side_probe_side"},
}


#: The range of a 64-bit count, which a sum of a connection's HTTP body lengths is held to (a crafted
#: log can make it overflow: it saturates instead of failing the scan): 21_events_1_http.sql.
BIGINT_RANGE = {"bigint_min": -2**63, "bigint_max": 2**63 - 1}

#: The bit of each log in a channel part's ``logs`` (22_channel_parts.sql): which logs saw the part's
#: events, gathered by one bit_or() over every event and read back as its src_* flags.
LOG_BITS = {"bit_conn": 1, "bit_eve": 2, "bit_ssl": 4, "bit_http": 8, "bit_answer": 16}


#: rows of conn and of tls sampled (at random, each row alike) to tell whether their connection ids
#: repeat; a day of at most this many rows is checked whole (sql/21_events_2_conn.sql, $repeated_ids)
REPEAT_SAMPLE_ROWS = 100_000


def repeated_ids(con: Any) -> bool:
    """Whether a connection id (Zeek uid, Suricata flow_id) repeats within conn or within tls.

    A sensor writes each id once; a log concatenated with itself, or a crafted one, repeats them, and
    joined on the id alone (stage 21) every copy pairs with every other: 20k rows sharing one uid
    were 400M events (minutes, tens of GB of spill), and two hosts sharing ids were credited with each
    other's names. A sample of :data:`REPEAT_SAMPLE_ROWS` rows finds an id in it twice when ids repeat
    widely (a log twice over: hundreds of pairs at 10M rows) or one id repeats thousands of times (the
    only way a repetition costs much), in about 0.1 s for a day of 10M connections. A few repeated ids
    can go unseen: the stage then checks its own events (:func:`join_multiplied`) and, when a Zeek row
    became more than one event, runs again as if this had said yes. An exact count of distinct ids
    up front cost 1-2 CPU-s, and DuckDB's approximate one is 4 % off at 10M rows."""
    tables = ("conn_moved", "tls_moved") if moved(con) else ("conn", "tls")
    for table in tables:  # constants of this module, never data
        row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
        n = int(row[0]) if row and row[0] else 0
        if n < 2:
            continue
        share = 100.0 * REPEAT_SAMPLE_ROWS / n
        sample = "" if share >= 100 else f" USING SAMPLE {share:.6f} PERCENT (bernoulli, 7)"
        row = con.execute(f"SELECT max(c) FROM (SELECT count(*) AS c FROM (SELECT uid FROM {table}{sample}) s "
                          "WHERE uid IS NOT NULL GROUP BY uid) g").fetchone()
        if row and row[0] and row[0] > 1:
            return True
    return False


def join_multiplied(con: Any, values: dict[str, Any]) -> bool:
    """Whether :data:`JOIN_STAGE`, run on the connection ids taken as unique, made more than one event
    of one Zeek conn, ssl or http row: an id that repeats, which the sample of :func:`repeated_ids`
    missed (a few hundred copies of one id can go unseen: 500 copies paired with 500 are 250k events).

    Each row of those logs is one event when no id repeats: the events' flags count them (by_conn,
    by_ssl, by_http: Zeek's rows), against the rows the stage read. More events than rows is a
    repetition, and the stage is run again with $repeated_ids. Two counts over the day's events and
    one over each log, about 0.05 s at 10M connections; exact for Zeek's logs. Suricata's rows share
    one flag (by_eve) with the handshakes and requests that have no flow, so their count bounds
    nothing: a flow_id repeated a few times in an eve.json adds a few events."""
    row = con.execute(
        "SELECT e.by_conn > (SELECT count(*) FROM conn_n WHERE epoch >= $t0 AND epoch < $t1 "
        "                    AND coalesce(dst_port, -1) <> $dns_port AND suri IS NOT TRUE) "
        "    OR e.by_ssl > (SELECT count(*) FROM tls_n WHERE epoch >= $t0 AND epoch < $t1 "
        "                   AND uid IS NOT NULL AND suri IS NOT TRUE) "
        "    OR e.by_http > (SELECT count(*) FROM scan_http_c WHERE suri IS NOT TRUE) "
        "FROM (SELECT count(*) FILTER (WHERE by_conn) AS by_conn, count(*) FILTER (WHERE by_ssl) AS by_ssl, "
        "             count(*) FILTER (WHERE by_http) AS by_http FROM scan_events) e",
        {"t0": values["t0"], "t1": values["t1"], "dns_port": values["dns_port"]}).fetchone()
    return bool(row and row[0])


#: how many of a small or new fleet's other hosts its reason names
FLEET_PEERS_SHOWN = 8


def _fleet_count(fleet: float, fp_prev: float) -> str:
    """How many of the hosts with this client make the fleet, when not all of them do (stage 46: those
    timed at another cadence, and with no client seen, mere visitors of a tenantless front door)."""
    return f", {int(fleet)} of them at this cadence" if fleet < fp_prev else ""


def score_channels(con: Any, t0: float, t1: float, params: ScanParams, *, stop_after: str | None = None,
                   release_logs: bool = False, two_sensors: bool = False) -> int | None:
    """Run the scoring stages over [t0, t1) (``name_matches`` and ``scan_name_groups`` must exist).
    Returns the internal hosts counted for stage 49 (:func:`_internal_hosts`), None when stopped before it.

    ``stop_after`` (a stage file name prefix such as ``"30"``) stops early and keeps every
    intermediate table: tests inspect them that way. ``release_logs``: see ScanOptions.
    ``two_sensors``: Zeek and Suricata logs of the window cover the same hours (:func:`_two_sensors`):
    their records of one connection or query are counted once (sql/21_events_0_sensors.sql).
    """
    narrow(con)
    values: dict[str, Any] = {**asdict(params), "t0": t0, "t1": t1, "data_span": _data_span(con, t0, t1),
                              "p0_tight": p0_window(params.tight_win, params.gap_factor),
                              "two_sensors": two_sensors, "repeated_ids": repeated_ids(con),
                              **BIGINT_RANGE, **LOG_BITS}
    with settings(con, _SCAN_SETTINGS):
        stages = scoring_stages()
        for i, name in enumerate(stages):
            if name.startswith("46_"):   # scan_facts (45) is there; 46 and 49 read the classes
                _build_client_class(con)
            if name.startswith("49_"):
                _build_addr_class(con, params.beacon_min)
                values["internal_hosts"] = _internal_hosts(con)   # a fleet's share of the site (stage 49)
            if name == JOIN_STAGE:
                values.update(_ech_values(con))
            with settings(con, _STAGE_SETTINGS.get(name, {})):
                run_stage(con, name, values)
                if name == JOIN_STAGE and not values["repeated_ids"] and join_multiplied(con, values):
                    values["repeated_ids"] = True
                    run_stage(con, name, values)
            # a stage number may span files (21_duckdb_answer_names, 21_events_1_http ...): "21" ends after the last
            nxt = stages[i + 1] if i + 1 < len(stages) else ""
            if stop_after is not None and name.startswith(stop_after) and not nxt.startswith(stop_after):
                return values.get("internal_hosts")
            if stop_after is None and release_logs:
                for table in _RELEASE_AFTER.get(name, ()):
                    drop(con, table)
            if stop_after is None and nxt[:2] != name[:2]:
                for table in _DROP_AFTER.get(name[:2], ()):
                    drop(con, table)
    return values.get("internal_hosts")


def prepare_inputs(con: Any, options: ScanOptions) -> list[str]:
    """Create the tables the scoring SQL reads besides the logs: name_matches, scan_name_groups (and
    the narrowed conn and tls, analyzer.narrow, whose TLS names the matcher reads); the matcher's
    warnings for the scan (bad lines of intel files)."""
    narrow(con)
    _ensure_name_matches(con)
    warnings = (options.name_matcher or build_name_matches)(con, options) or []
    con.execute("CREATE OR REPLACE TEMP TABLE scan_name_groups (name VARCHAR, group_name VARCHAR)")
    con.executemany("INSERT INTO scan_name_groups VALUES (?, ?)", sorted(NAME_GROUPS.items()))
    return list(warnings)


def _latest_epoch(con: Any) -> tuple[float | None, float | None]:
    """The first and last instant of the logs. conn's come from scan_conn_span (analyzer.narrow:
    the DNS connections are not in conn_n); tls's from the log, and from tls_n when rows were moved
    there during the ingest (otherwise tls_n is a view of the log, and reading it would number the
    rows for nothing)."""
    tls_n = "UNION ALL SELECT min(epoch), max(epoch) FROM tls_n " if moved(con) else ""
    row = con.execute(
        "SELECT min(lo), max(hi) FROM (SELECT min(first_epoch) lo, max(last_epoch) hi FROM scan_conn_span "
        f"UNION ALL SELECT min(epoch), max(epoch) FROM tls {tls_n}"
        "UNION ALL SELECT min(epoch), max(epoch) FROM http UNION ALL SELECT min(epoch), max(epoch) FROM dns)"
    ).fetchone()
    return row[0], row[1]


#: a window anchored on the latest timestamp is suspect when it holds less than this share of the
#: rows, and the others end more than a window's length before it starts
STRAY_END_SHARE = 0.01


def _conn_tls(con: Any) -> tuple[str, str]:
    """Where conn's and tls's rows are when a scan starts: the narrowed views once a scan-owned store
    has moved its rows out of the logs (analyzer.narrow), the logs themselves otherwise."""
    return ("conn_n", "tls_n") if moved(con) else ("conn", "tls")


def _every_epoch(con: Any) -> str:
    """A query of every row's time in the four logs the scan reads (their names are constants)."""
    return " UNION ALL ".join(f"SELECT epoch FROM {t}" for t in (*_conn_tls(con), "http", "dns"))


#: rows timestamped further than this past this machine's clock come from a sensor clock that jumped ahead
FUTURE_SLACK_S = 3600.0


def _now() -> float:
    """This machine's clock (epoch seconds); tests set it."""
    return time.time()


def _future_end(con: Any, latest: float) -> tuple[float, str] | None:
    """Where the default window ends when the store's latest rows are in the future: timestamped more
    than FUTURE_SLACK_S past this machine's clock, and under STRAY_END_SHARE of the rows (a sensor clock
    that jumped ahead for a moment; one such row moved "the last 24 h" of every later nightly report
    of a --db store into an empty future). The last row before them, and a warning that says so. None
    when there are none, or when nearly all the rows are in the future (synthetic logs, or a machine
    whose own clock is behind): the window then ends at the latest row, as always."""
    limit = _now() + FUTURE_SLACK_S
    if latest <= limit:
        return None
    union = _every_epoch(con)
    row = con.execute(
        f"SELECT count(*) FILTER (WHERE epoch > $limit), count(*) FILTER (WHERE epoch <= $limit), "
        f"max(epoch) FILTER (WHERE epoch <= $limit), min(epoch) FILTER (WHERE epoch > $limit) FROM ({union}) e",
        {"limit": limit}).fetchone()
    future, past, last_past, first_future = int(row[0]), int(row[1]), row[2], row[3]
    if not past or future >= STRAY_END_SHARE * (future + past):
        return None
    return last_past, (f"{future} of {future + past} rows are timestamped after this machine's clock "
                       f"({_utc(first_future):%Y-%m-%d %H:%M} to {_utc(latest):%Y-%m-%d %H:%M} UTC): a sensor clock "
                       f"that jumped ahead. The window ends at the last row before them, "
                       f"{_utc(last_past):%Y-%m-%d %H:%M:%S} UTC, not at them (--until chooses another end)")


def _stray_end(con: Any, t0: float, t1: float) -> str | None:
    """A warning when the window [t0, t1), which ends at the store's latest timestamp, holds almost
    none of the rows and the rest end long before it: the latest timestamp is then most likely a stray
    one (a sensor whose clock jumped, a capture with a bogus packet time), and the window misses the
    day that was meant. None otherwise."""
    union = _every_epoch(con)
    row = con.execute(
        f"SELECT count(*) FILTER (WHERE epoch >= $t0), count(*) FILTER (WHERE epoch < $t0), "
        f"max(epoch) FILTER (WHERE epoch < $t0) FROM ({union}) e", {"t0": t0}).fetchone()
    inside, before, last_before = int(row[0]), int(row[1]), row[2]
    if not before or inside >= STRAY_END_SHARE * (inside + before) or t0 - last_before <= t1 - t0:
        return None
    return (f"the window {_utc(t0):%Y-%m-%d %H:%M}..{_utc(t1):%Y-%m-%d %H:%M} UTC holds {inside} of "
            f"{inside + before} rows: the others end at {_utc(last_before):%Y-%m-%d %H:%M} UTC, "
            f"{human_duration(t0 - last_before).lstrip('~')} before it. The latest timestamp may be a stray one "
            f"(a sensor clock that jumped, a bogus packet time); to scan the day before it: "
            f"--until {_utc(last_before + 1):%Y-%m-%dT%H:%M:%SZ}")


def _nameless(con: Any, t0: float, t1: float) -> str | None:
    """A warning when the window holds connections but no record that could name where they went: no
    DNS query, TLS handshake or HTTP request (a sensor that keeps conn.log alone, or flows without
    Suricata's dns/tls/http events). Every channel is then keyed by address and port: beacons are
    still found, but no serverless platform or tenant can be recognized, and a user should know that
    an empty serverless list means nothing then. None otherwise."""
    conn, tls = _conn_tls(con)
    window = "WHERE epoch >= $t0 AND epoch < $t1"
    row = con.execute(  # table names are constants, never data
        f"SELECT EXISTS (SELECT 1 FROM {conn} {window}), EXISTS (SELECT 1 FROM {tls} {window}) "
        f"OR EXISTS (SELECT 1 FROM http {window}) OR EXISTS (SELECT 1 FROM dns {window})",
        {"t0": t0, "t1": t1}).fetchone()
    if not row[0] or row[1]:
        return None
    return ("the window holds connections but no DNS, TLS or HTTP record: destinations are keyed by "
            "address and port only, so no serverless platform can be named (give the sensor's dns.log and "
            "ssl.log or http.log beside conn.log, or an eve.json with its dns, tls and http events)")


def _unfingerprinted(con: Any, t0: float, t1: float) -> str | None:
    """A warning when the window holds TLS handshakes but the store no TLS client fingerprint (JA3 or
    JA4) at all: stock Zeek logs neither without a package, and Suricata only when configured to. An
    HTTPS client then cannot be told from a browser, so an HTTPS beacon lacks that evidence and a
    non-browser HTTPS client is not listed as a contact for being one (only, as any client with no JA4,
    when it alone calls a serverless endpoint at regular intervals); a user should know why. The
    dictionary of clients (stage 04) holds every handshake's, so one look at it answers for the store.
    None otherwise."""
    _, tls = _conn_tls(con)
    row = con.execute(  # table names are constants, never data
        f"SELECT EXISTS (SELECT 1 FROM scan_client_dict WHERE ja3 IS NOT NULL OR ja4 IS NOT NULL), "
        f"EXISTS (SELECT 1 FROM {tls} WHERE epoch >= $t0 AND epoch < $t1)", {"t0": t0, "t1": t1}).fetchone()
    if row[0] or not row[1]:
        return None
    return ("the TLS handshakes carry no client fingerprint (JA3/JA4): an HTTPS client cannot be told from "
            "a browser, so HTTPS beacons lack that evidence, and a non-browser HTTPS client that does not "
            "beacon is listed as a contact only when it alone calls a serverless endpoint at regular "
            "intervals (Zeek: load a JA4 or JA3 package, e.g. zkg install zeek/foxio/ja4; Suricata: "
            "app-layer.protocols.tls.ja4-fingerprints: yes, and ja3-fingerprints)")


#: a source whose TLS handshakes to at least this many names all carry one non-browser JA4 is named in a
#: warning: a proxy, NAT or gateway that makes every connection itself (:func:`_gateways`)
GATEWAY_MIN_NAMES = 20


def _gateways(con: Any) -> list[str]:
    """Warnings for sources that made every TLS handshake of the window, to :data:`GATEWAY_MIN_NAMES`
    names or more, with one non-browser JA4: what logs taken outside a TLS-intercepting proxy or
    gateway look like. The scan then attributes everyone's traffic to it: each serverless site anyone
    visits is a non-browser contact of the proxy (a simulated day of 50 users behind one: contacts for
    script.google.com, a Netlify and a Vercel site beside the implant), and one-host and fleet counts
    say nothing. A host whose one Go or Python program talks to many names gets the same words, which
    say what to check. Read after the scoring stages (scan_channels: stage 25), up to three sources."""
    # a channel is (source, destination, fingerprint), and the fingerprint is the JA4 when there is one:
    # a source's channels that share one JA4 are one per destination, so count(*) counts the names
    # (2M channels: 0.07 s, against 0.2 s with count(DISTINCT ...))
    rows = con.execute(
        "SELECT src, count(*) AS names, CAST(sum(events) AS BIGINT) AS events, min(ja4) AS ja4 "
        "FROM scan_channels WHERE ja4 IS NOT NULL GROUP BY src "
        "HAVING min(ja4) = max(ja4) AND count(*) >= $n "
        "ORDER BY events DESC, src LIMIT 3", {"n": GATEWAY_MIN_NAMES}).fetchall()
    return [f"{printable(src, 60)} made every TLS handshake ({events} connections to {names} names) with one "
            f"non-browser client (JA4 {printable(ja4, 60)}): if it is a proxy, NAT or gateway, everything it "
            f"relays is scored as its own (each serverless site visited through it is a non-browser contact, "
            f"and one-host and fleet counts say nothing); take the logs on the clients' side of it"
            for src, names, events, ja4 in rows if ja4_browser_like(ja4) is False]


def _intel_warning(rejects: list[Any]) -> str | None:
    """The warning for the lines of --intel files that are no hostname (skipped: one junk line in a
    feed of thousands must not stop a nightly scan); an intel file that cannot be read is an error."""
    unreadable = [r for r in rejects if r.line is None]
    if unreadable:
        raise unreadable[0]
    if not rejects:
        return None
    shown = "; ".join(str(r) for r in rejects[:3])
    more = f"; and {len(rejects) - 3} more" if len(rejects) > 3 else ""
    return f"intel: {len(rejects)} line(s) skipped, not a hostname or URL to match: {shown}{more}"


def _forwarders(con: Any) -> list[str]:
    """A warning naming the sources stage 25 took for DNS resolvers or forwarders (up to three, the
    busiest first): their DNS-only channels of one name were not timed (stage 49), since a resolver's
    queries of a name come at its cache's TTL while its clients keep asking."""
    rows = con.execute("SELECT src, dns_only_names, connected_names FROM scan_forwarders "
                       "ORDER BY dns_only_names DESC, src").fetchall()
    if not rows:
        return []
    # the share rounded down: 202 of 203 is 99 %, not "100 %" beside a name it did connect to
    shown = ", ".join(f"{printable(src, 60)} ({n} names, {100 * n // (n + c)}% of those it looked up)"
                      for src, n, c in rows[:3])
    more = f" and {len(rows) - 3} more" if len(rows) > 3 else ""
    return [f"taken for a DNS resolver or forwarder (it looked up names it never connected to itself): "
            f"{shown}{more}. A resolver's queries of one name come at its cache's TTL while clients keep asking, "
            f"so they are not timed (names whose labels vary, as a tunnel through it makes them, still are); "
            f"to time each host's own lookups, take dns.log on the clients' side of the resolver"]


def _two_sensors(con: Any, t0: float, t1: float) -> str | None:
    """The start of a warning when Zeek and Suricata logs of the window cover the same hours (for at
    least half of the shorter file's range, as analyzer.ingest.duplicates compares files): two sensors
    on one link. Their connection ids differ, so the scan matches their records of one connection by
    address, port and start time instead (sql/21_events_0_sensors.sql); :func:`_merged` ends the
    warning with what it matched. None otherwise."""
    row = con.execute(
        """
        WITH f AS (
            SELECT path, format = 'eve' AS suri, epoch(min_ts) AS lo, epoch(max_ts) AS hi
            FROM ingest_files
            WHERE status IN ('loaded', 'appended') AND rows_loaded > 0 AND min_ts IS NOT NULL
              AND epoch(max_ts) >= $t0 AND epoch(min_ts) < $t1
        )
        SELECT z.path, e.path, greatest(z.lo, e.lo), least(z.hi, e.hi)
        FROM f z JOIN f e ON NOT z.suri AND e.suri
        WHERE least(z.hi, e.hi) - greatest(z.lo, e.lo) >= $share * least(z.hi - z.lo, e.hi - e.lo)
          AND least(z.hi, e.hi) >= greatest(z.lo, e.lo)
        ORDER BY least(z.hi, e.hi) - greatest(z.lo, e.lo) DESC, z.path, e.path
        LIMIT 1
        """, {"t0": t0, "t1": t1, "share": MIN_OVERLAP_SHARE}).fetchone()
    if row is None:
        return None
    zeek, suri, lo, hi = row
    return (f"Zeek and Suricata logs cover the same hours (e.g. {printable(Path(zeek).name, 120)} and "
            f"{printable(Path(suri).name, 120)}, "
            f"{_utc(lo):%Y-%m-%d %H:%M}..{_utc(hi):%Y-%m-%d %H:%M} UTC)")


def _merged(con: Any, start: str, params: ScanParams) -> str:
    """The two-sensor warning (:func:`_two_sensors`), with what the scan matched across the sensors."""
    flows, queries, suricata_flows, skew_flows, skew_dns = con.execute(
        "SELECT flows, dns_queries, suricata_flows, flows_skew_s, dns_skew_s FROM scan_sensor_merge").fetchone()
    skew = skew_flows if flows else skew_dns
    if (flows or queries) and abs(skew or 0) > params.sensor_match_s / 2:
        # matched on Zeek's clock (sql/21_events_0_sensors.sql): say how far apart the two were
        start += (f" (Suricata's clock {abs(skew):.1f} s {'ahead of' if skew > 0 else 'behind'} Zeek's, measured "
                  f"on the records both logged and taken out to match them)")
    if not flows and not queries:
        return (f"{start}, but under {params.sensor_match_min_share:.0%} of Suricata's {suricata_flows} "
                f"flow(s) match a Zeek connection (same addresses and port, starting within "
                f"{params.sensor_match_s:g} s): the two watch different links, or their clocks differ by "
                f"more than that. Both are counted; if they do watch one link, a connection both saw "
                f"counts twice")
    return (f"{start}: two sensors on one link, so each connection and query is counted once, from Zeek's "
            f"record; {flows} Suricata flow(s) and {queries} DNS quer{'y' if queries == 1 else 'ies'} "
            f"matched a Zeek record (same addresses and port or query, starting within "
            f"{params.sensor_match_s:g} s) and were left out. What only one sensor saw is kept")


def run_scan(store: Any, options: ScanOptions | None = None) -> ScanResult:
    """Score every channel in ``store`` and return the findings, best first.

    Raises ``InputError`` for a bad window / allowlist, ``AnalyzerError`` for a broken SQL stage,
    ``StoreError`` when DuckDB cannot fit the scan under its memory cap (the message says what to do).
    """
    try:
        return _run_scan(store, options or ScanOptions())
    except duckdb.OutOfMemoryException as exc:  # outside a stage file: the narrowing, a Python step
        raise StoreError(out_of_memory(store.con, exc, "the scan")) from exc
    except StoreError as exc:  # a step that words its own failures (the matcher: "gathering names failed: ...")
        cause = exc.__cause__
        if isinstance(cause, duckdb.OutOfMemoryException):
            step = str(exc).split(":", 1)[0]
            raise StoreError(out_of_memory(store.con, cause, f"the scan ({step})")) from cause
        raise


def _run_scan(store: Any, options: ScanOptions) -> ScanResult:
    con = store.con
    narrow(con)
    first, latest = _latest_epoch(con)
    result = ScanResult()
    if latest is None:
        return result
    if options.since and options.until and options.window is not None:
        raise InputError("give at most two of --since, --until and --window (the window is the time between them)")
    length = parse_window(options.window or DEFAULT_WINDOW)
    if options.until:
        t1 = _epoch(options.until)
    elif options.since and options.window is not None:
        t1 = _epoch(options.since) + length                  # --since S --window W: [S, S + W)
    else:
        t1 = latest + 1e-3
        future = _future_end(con, latest)
        if future is not None:
            t1 = future[0] + 1e-3
            result.warnings.append(future[1])
    t0 = _epoch(options.since) if options.since else t1 - length
    if t0 >= t1:
        if options.until:
            raise InputError("empty scan window: --since must be before --until")
        raise InputError(f"empty scan window: --since {_utc(t0):%Y-%m-%d %H:%M:%S} UTC is after the newest log "
                         f"line ({_utc(latest):%Y-%m-%d %H:%M:%S} UTC)")
    if first is not None and t1 <= first:   # the mirror of the above: a window that ends before every row
        raise InputError(f"empty scan window: it ends at {_utc(t1):%Y-%m-%d %H:%M:%S} UTC, before the oldest log "
                         f"line ({_utc(first):%Y-%m-%d %H:%M:%S} UTC)")
    result.window_start, result.window_end = _utc(t0), _utc(t1)

    result.window_at_latest = options.until is None and options.since is None
    if result.window_at_latest:
        stray = _stray_end(con, t0, t1)
        if stray:
            result.warnings.append(stray)
    for check in (_nameless, _unfingerprinted):  # what the sensor's logs leave the scan unable to see
        warning = check(con, t0, t1)
        if warning:
            result.warnings.append(warning)
    two = _two_sensors(con, t0, t1)

    result.warnings.extend(prepare_inputs(con, options))
    hosts = score_channels(con, t0, t1, options.params, release_logs=options.release_logs, two_sensors=two is not None)
    if two:
        result.warnings.append(_merged(con, two, options.params))
    result.warnings.extend(_gateways(con))
    result.warnings.extend(_forwarders(con))

    result.channels_scored = con.execute("SELECT count(*) FROM scan_beacon").fetchone()[0]
    result.hosts = hosts or 0   # the internal hosts stage 49 weighed fleets against
    if not result.hosts and first is not None:
        result.warnings.append(f"nothing to score in the window: the logs span {_utc(first):%Y-%m-%d %H:%M:%S} to "
                               f"{_utc(latest):%Y-%m-%d %H:%M:%S} UTC (--since/--until/--window)")
    cur = con.execute("SELECT * FROM scan_findings ORDER BY score DESC, src, dest_key, fp")
    cols = [d[0] for d in cur.description]
    rows = [dict(zip(cols, row)) for row in cur.fetchall()]
    # the hosts of each small fleet (stage 49: 3-4 hosts in step with one serverless tenant), which a
    # finding names: one implant on a few hosts is one incident
    small: dict[tuple[Any, Any], list[str]] = {}
    for r in rows:
        if 0 < (r.get("fleet_discount") or 0) < options.params.w_common:
            small.setdefault((r["dest_key"], r["fp"]), []).append(r["src"])
    _rotation_names(con, rows)
    findings = []
    for r in rows:
        if (r["dest_key"], r["fp"]) in small:
            r["fleet_peers"] = sorted(set(small[(r["dest_key"], r["fp"])]) - {r["src"]})
        # compared as shown: a 0.4996 printed as 0.5 is not hidden by --min-score 0.5
        if r["kind"] == "beacon" and _shown_score(r["score"]) < options.min_score:
            if not (r["contact_ok"] and options.include_contacts):
                continue
            # a timer too weak to list as a beacon is still a non-browser contact (stage 49)
            r = {**r, "kind": "contact", "score": r["contact_score"], "severity": r["contact_severity"],
                 "weak_beacon": r["score"], "min_score": options.min_score}
        elif r["kind"] == "contact" and not options.include_contacts:
            continue
        findings.append(_to_finding(r, options.params))
    _note_rotation_members(findings)
    # by severity, then score (stable: the SQL order breaks ties): a non-serverless beacon is medium at
    # most however steady it is (a lone CI runner polling an API every minute scores 1.00), and ranked
    # by score alone it came before serverless implants at 0.92-0.97; the report orders them so too
    findings.sort(key=lambda f: (_SEVERITY_RANK.get(f.severity, len(SEVERITIES)), -f.score))

    if options.allowlist:
        from analyzer.allowlist import load_allowlist

        al = load_allowlist(str(options.allowlist))
        kept = []
        for f in findings:
            entry = al.match(f)
            if entry is None:
                kept.append(f)
            else:
                key = entry.describe() if hasattr(entry, "describe") else str(entry)
                result.suppressed[key] = result.suppressed.get(key, 0) + 1
        findings = kept
        result.expired_allowlist = [e.describe() if hasattr(e, "describe") else str(e)
                                    for e in (getattr(al, "expired", None) or [])]
    result.findings = findings
    return result


# --- findings and their reasons -------------------------------------------------------------------


#: the names a rotation finding lists in its JSON (``rotation``), busiest first; its reason says how many in all
ROTATION_NAMES_LISTED = 50
#: ... and its reason, with their check-ins
ROTATION_SHOWN = 5


def _below(score: float, threshold: float) -> str:
    """``score`` to two places, rounded down when rounding would reach ``threshold`` (0.497 under 0.50
    read "0.50 under --min-score 0.50")."""
    text = f"{score:.2f}"
    return text if float(text) < threshold else f"{math.floor(score * 100) / 100:.2f}"


def _common_parent(r: dict[str, Any], fallback: str) -> str:
    """The labels every name of a channel ends with (stage 45's names_lo and names_hi, read backwards):
    the zone a DNS tunnel's generated labels sit under, not the first of those names."""
    lo, hi = r.get("names_lo"), r.get("names_hi")
    if not lo or not hi:
        return fallback
    common: list[str] = []
    for a, b in zip(lo[::-1].split(".")[::-1], hi[::-1].split(".")[::-1]):
        if a != b:
            break
        common.append(a)
    return ".".join(reversed(common)) or fallback


#: a private, loopback, link-local or CGNAT address (IPv4), or a ULA / link-local / loopback one (IPv6)
_PRIVATE_RE = (r"^(10\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|100\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\.|127\."
               r"|169\.254\.|f[cd][0-9a-f]{0,2}:|fe[89ab][0-9a-f]?:|::1$|2001:0?db8:)")


def _internal_hosts(con: Any) -> int:
    """How many internal hosts the window's channels come from: the sources with a private address
    (RFC 1918, CGNAT, ULA, link-local, IPv6 documentation), or every source when none has one (a network
    numbered in public space). The 3,000 Internet clients of a DMZ web server are not hosts of the site:
    an outside tester's report said "181 of 3186 hosts seen" for a site of 151. A dual-stack host's global
    IPv6 address is not counted beside its private IPv4 one (a count for the summary, not a filter)."""
    row = con.execute(
        "SELECT count(*) FILTER (WHERE regexp_matches(lower(src), $re)), count(*) "
        "FROM (SELECT DISTINCT src FROM scan_channels WHERE src IS NOT NULL) s", {"re": _PRIVATE_RE}).fetchone()
    return int(row[0] or row[1] or 0)


def _note_rotation_members(findings: list[Finding]) -> None:
    """A finding of one tenant of a rotation that is listed as a beacon (same source and client, a name
    it rotates among) says so: its own channel holds only a share of the check-ins. A rotation whose
    every name is a beacon of its own says that too: parallel timers, one per name, as an uptime probe
    polling several apps has (12 apps every 60 s read as "every ~4.9 s ... a RAT reconnect loop"), and
    as an implant taking its names in turn (Cobalt Strike's round-robin) has: the timing cannot tell
    them apart, and the rotation's own period is the implant's sleep."""
    for rot in (f for f in findings if f.rotation and f.kind == "beacon"):
        names = set(rot.rotation or ())
        members = [f for f in findings
                   if f.rotation is None and f.src == rot.src and f.host in names
                   and (f.ja4, f.ja3, f.user_agent) == (rot.ja4, rot.ja3, rot.user_agent)]
        beats = sorted(f.period_s for f in members if f.kind == "beacon" and f.period_s)
        if len(beats) == len(names) and {f.host for f in members if f.kind == "beacon"} == names:
            rot.reasons.insert(1, f"each of its {len(names)} names is a beacon on its own too (every "
                                  f"{human_duration(beats[len(beats) // 2])}): parallel timers, as a monitoring "
                                  f"probe polling several apps has, or an implant taking its names in turn; "
                                  f"the period here is that of the client across them")
        for f in members:
            f.reasons.append(f"one of the {len(names)} names this client rotates among: its check-ins across "
                             f"all of them are a beacon every {human_duration(rot.period_s)} "
                             f"(listed for {printable(rot.host, 80)} +{len(names) - 1}, score {rot.score:.2f})")


def _rotation_names(con: Any, rows: list[dict[str, Any]]) -> None:
    """For each rotation channel among ``rows`` (stage 25: one client timed across several serverless
    tenants), the names it used, busiest first, with their platforms and tenants: ``rotation_names``,
    ``rotation_platforms``, ``rotation_tenants`` on the row."""
    rot = {r["chan_id"]: r for r in rows if str(r["dest_key"]).startswith("rotation:")}
    if not rot:
        return
    cur = con.execute(
        "SELECT c.chan_id, c.name, c.cnt, n.platform, n.tenant FROM scan_chan_names c "
        "JOIN (SELECT DISTINCT name, platform, tenant FROM scan_names) n ON n.name = c.name "
        "WHERE list_contains(?, c.chan_id) AND n.platform IS NOT NULL ORDER BY c.chan_id, c.cnt DESC, c.name",
        [sorted(rot)])
    for chan_id, name, cnt, platform, tenant in cur.fetchall():
        r = rot[chan_id]
        r.setdefault("rotation_names", []).append((name, int(cnt)))
        r.setdefault("rotation_platforms", set()).add(platform)
        r.setdefault("rotation_tenants", set()).add((platform, tenant or name))


_SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}

#: the largest count a finding reports, as each logged count is held (sql/01_ingest_macros.sql,
#: ingest_count): a 64-bit integer, which every JSON reader and spreadsheet can take
MAX_COUNT = 2**63 - 1


def _count(total: Any) -> int | None:
    """A channel's summed byte count as the finding reports it: held at :data:`MAX_COUNT` (logged
    counts near 2^63, which a crafted log can hold, add up past it)."""
    return None if total is None else min(int(total), MAX_COUNT)


def _shown_score(score: float) -> float:
    """A score as findings show it, three decimals: what --min-score is compared with."""
    return round(float(score), 3)


def human_duration(seconds: float) -> str:
    """0.5 -> '~0.5 s', 61.2 -> '~61 s', 300 -> '~5 min', 5400 -> '~1.5 h'."""
    if seconds < 9.95:
        return f"~{seconds:.1f} s"
    if seconds < 90:
        return f"~{seconds:.0f} s"
    if seconds < 5400:
        return f"~{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"~{seconds / 3600:.1f} h"
    return f"~{seconds / 86400:.1f} d"


def cs_jitter(q1: float, q3: float) -> float:
    """The jitter fraction j of a Cobalt-Strike-style sleep U[S(1-j), S] with these quartiles.

    For a uniform sleep the interquartile range is half the range, so range = 2 IQR and the top of the
    range is S = q3 + IQR/2; j = range / S. This is the number an operator types into a profile
    ("jitter 30"), which is why findings report it rather than a raw dispersion ratio.
    """
    iqr = max(0.0, q3 - q1)
    top = q3 + iqr / 2
    return 0.0 if top <= 0 else min(1.0, 2 * iqr / top)


def _megabytes(count: int) -> str:
    """A byte count as a reason says it: 720 MB, 1.5 MB, 46 kB, 300 B."""
    if count >= 1e7:
        return f"{count / 1e6:,.0f} MB"
    if count >= 1e6:
        return f"{count / 1e6:.1f} MB"
    return f"{count / 1e3:.0f} kB" if count >= 1e3 else f"{count} B"


def _span(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


def regular_but_few(r: dict[str, Any], p: ScanParams) -> bool:
    """A contact whose check-ins keep a regular period, but too few of them for a beacon score: an hourly
    timer over one office day (8 intervals). Its period and jitter are reported all the same."""
    return (r["beacon"] is not None and r["z"] is not None and p.z_lo <= r["z"] < p.z_hi
            and r["beacon"] < p.beacon_min and r["r_score"] >= p.regular_min)


def why_not_beacon(r: dict[str, Any], p: ScanParams, period: float | None = None) -> str:
    """Why a contact's timing did not make it a beacon, in the terms of the scoring stages. ``period``
    (seconds), when given, is named in the reason of a regular contact (:func:`regular_but_few`)."""
    if r["beacon"] is None:
        return f"too few check-ins to time (a beacon needs {p.min_intervals + 1} after burst collapse)"
    if r["z"] < p.z_lo:
        return f"not periodic: its timing is what random traffic gives (z = {r['z']:.1f})"
    if r["beacon"] < p.beacon_min:
        if regular_but_few(r, p):
            every = f" (every {human_duration(period)})" if period is not None else ""
            return (f"regular{every}, but {int(r['n'])} intervals are too few for their spread to rule out "
                    f"chance (z = {r['z']:.1f}; a longer --window adds check-ins)")
        return f"irregular timing (beacon score {r['beacon']:.2f}, under {p.beacon_min:g})"
    return (f"periodic (beacon score {r['beacon']:.2f}) but too briefly, or too fast to a private or many "
            f"addresses, to count as a beacon")


def _to_finding(r: dict[str, Any], p: ScanParams) -> Finding:
    kind = r["kind"]
    platform = r["platform"]
    host = r["host"]
    cname_of = None
    if r.get("via_cname"):
        host, cname_of = r["via_cname"], r["host"]
    period = jitter = None
    reasons: list[str] = []
    connections = int(r["connections"])
    later = int(r.get("later_requests") or 0)  # requests after the first on kept-alive HTTP connections
    # timed by DNS queries only (stage 23): every event is a query standing in for a connection (a
    # Suricata sensor's queries also mark the channel as seen in eve, so the sources cannot say it)
    dns_only = bool(r["src_dns"]) and int(r["dns_events"] or 0) >= connections + later
    unit = ("DNS quer" + ("ies" if connections != 1 else "y")) if dns_only else \
        ("connection" + ("s" if connections != 1 else ""))
    counted = f"{connections} {unit}"
    if later:
        counted = f"{connections + later} HTTP requests on {counted}"
    if kind == "beacon" or r.get("weak_beacon") is not None or (kind == "contact" and regular_but_few(r, p)):
        # the period between check-ins, and its jitter, from the burst-shifted intervals (stage 30)
        # rounded as the JSON and the table show them, so that the reasons say the same figures
        period = round(float(r["m"] + r["burst_s"]), 1)
        jitter = round(cs_jitter(r["q1"] + r["burst_s"], r["q3"] + r["burst_s"]), 3)
    if kind == "beacon":
        span = (r["last_epoch"] - r["first_epoch"])
        checkins = int(r["n"] + r["gaps"] + 1)
        # the middle half of the intervals reads the same whatever the implant's jitter style: Sliver's
        # +-30 % is 47 % on Cobalt Strike's scale (cs_jitter), which an analyst matching a config misreads
        lo, hi = float(r["q1"] + r["burst_s"]), float(r["q3"] + r["burst_s"])
        text = (f"beacons every {human_duration(period)} (median {period:.1f} s, middle half {lo:.1f}-{hi:.1f} s, "
                f"jitter {jitter:.0%}) over {_span(span)}, {counted}")
        if r["gaps"] and r["gaps"] >= 3 and r["gap_s"] / r["gaps"] < SLEEP_GAP_S:
            # many longer intervals of minutes, not a few of hours: a slower cadence for a while (an
            # implant whose sleep was changed: 60 s for 6 h, then 15 min), which "17.5 h without
            # check-ins" misdescribed, as there were 168 check-ins in them
            text += (f"; {int(r['gaps'])} longer intervals left out of the timing (averaging "
                     f"{human_duration(r['gap_s'] / r['gaps']).lstrip('~')}, {_span(r['gap_s'])} in all): a slower "
                     f"cadence for a while (a sleep changed by its operator), or many short sleeps")
        elif r["gaps"]:
            text += (f"; {int(r['gaps'])} sleep gap{'s' if r['gaps'] != 1 else ''} skipped "
                     f"({_span(r['gap_s'])} without check-ins)")
        reasons.append(text)
        if r.get("fast_cadence"):
            reasons.append(f"fast cadence (under {p.min_period_s:g} s) to a public address: the shape of a RAT "
                           f"reconnect loop or a scripted poller; brute force looks the same, check the service")
        # the narrow window is named only when it is what decided (the wide one alone fell short)
        if r["z_tight"] is not None and r["z_tight"] > r["z_wide"] and r["z_wide"] < p.z_hi:
            reasons.append(f"{int(r['k_tight'])} of {int(r['n'])} intervals within +-{p.tight_win:.0%} of the median: "
                           f"a steady timer (z = {r['z']:.1f} against random traffic)")
        else:
            text = (f"{int(r['k'])} of {int(r['n'])} intervals within {p.win_lo:g}-{p.win_hi:g}x the median "
                    f"(z = {r['z_wide']:.1f} against random traffic)")
            if r["z_tight"] is not None and r["z_tight"] > r["z_wide"]:
                # the JSON's poisson_z is the stronger of the two tests: name it here too
                text += (f"; {int(r['k_tight'])} within +-{p.tight_win:.0%} of it "
                         f"(z = {r['z_tight']:.1f}, the score's poisson_z)")
            reasons.append(text)
        if r["skips"] and r["skips"] >= max(2, 0.1 * r["n"]):
            reasons.append(f"{int(r['skips'])} of {int(r['n'])} intervals longer than {p.win_hi:g}x the median, as "
                           f"missed check-ins make: left out of the jitter figure")
        extra = connections + later - checkins - int(r["dns_events"] if r["dns_events"] and r["src_dns"] else 0)
        if extra > 0 and not r["src_dns"]:
            what = "connections or requests" if later else "connections"
            reasons.append(f"{extra} extra {what} in bursts folded into {checkins} check-ins "
                           f"(tasking, redirects or retries)")
        if r.get("fast_n"):
            # stage 35: a faster stretch outnumbered the rhythm that holds the channel's time
            reasons.append(f"among them a faster stretch, {int(r['fast_n'])} gaps of "
                           f"{human_duration(float(r['fast_period']))} (an operator working interactively, or a "
                           f"long tasking): folded into check-ins, since the {human_duration(period)} rhythm holds "
                           f"far more of the channel's time")
        if r["s_score"] is not None and r["s_score"] >= 0.8 and r.get("median_bytes_out") is not None:
            reasons.append(f"steady request size (~{r['median_bytes_out']:.0f} B out in "
                           f"{r['s_score']:.0%} of check-ins)")
        if not dns_only and r["bytes_out"] == 0 and r["bytes_in"] == 0:
            reasons.append(f"no payload either way in any of the {counted}: every attempt failed or was "
                           f"refused (an implant retrying a controller that is down or blocked)")
    elif r.get("weak_beacon") is not None:
        # under --min-score for its evidence (a fleet's discount) or for a timing that is itself weak
        steady = "periodic" if (r.get("beacon") or 0) >= p.steady_timing else "weakly periodic"
        reasons.append(f"{counted}, {steady}: about every {human_duration(period)} "
                       f"(jitter {jitter:.0%}), beacon score {_below(r['weak_beacon'], r['min_score'])} under "
                       f"--min-score {r['min_score']:.2f}")
    else:
        client = " from a non-browser client" if r["nonbrowser"] or r["mismatch"] else ""
        reasons.append(f"{counted}{client}, {why_not_beacon(r, p, period)}")
    if later:
        reasons.append(f"{later} of the requests reuse a connection kept alive between check-ins: each request "
                       f"is timed, not only the connection's start")
    if r.get("src_answer"):
        port = f", port {r['dst_port']}" if r["dst_port"] is not None else ""
        # an encrypted client hello is TLS: said only where the connections could be TLS (not port 80)
        what = ("no HTTP Host logged" if r["dst_port"] == 80 else
                "no TLS SNI or HTTP Host logged, or only an encrypted client hello's outer name")
        reasons.append(f"name taken from this host's own DNS answers for the addresses it connected to "
                       f"({what}{port})")
    rotation = r.get("rotation_names")
    tenant = r["tenant"]
    if rotation:
        # stage 25: one client timed across several serverless tenants (each also a channel of its own)
        platforms = sorted(r["rotation_platforms"])
        platform, tenant = " + ".join(platforms), None
        shown = ", ".join(f"{printable(n, 80)} ({c})" for n, c in rotation[:ROTATION_SHOWN])
        more = f" and {len(rotation) - ROTATION_SHOWN} more" if len(rotation) > ROTATION_SHOWN else ""
        reasons.insert(0, f"serverless destinations: {len(r['rotation_tenants'])} tenants of {', '.join(platforms)} "
                          f"({r['category'] or 'serverless'}), one client spreading its check-ins across them, as "
                          f"an implant rotating among its hosts does (Cobalt Strike's rotate and random host "
                          f"strategies): timed as one channel; {len(rotation)} names, by check-ins: {shown}{more}")
    elif platform and r["category"] != "intel":  # an intel-only name: its own reason says so (below)
        where = f"{platform}" + (f", tenant {r['tenant']}" if r["tenant"] else "")
        if r.get("low_conf"):
            reasons.insert(0, f"serverless destination: {where} ({r['category'] or 'serverless'}), a low-confidence "
                              f"catalogue entry (a generic CDN or hosting name, mostly ordinary sites): weighed "
                              f"as any other destination, medium at most")
        else:
            reasons.insert(0, f"serverless destination: {where} ({r['category'] or 'serverless'})")
    malformed = normalize_host(r["host"], escapes=False) if r["host"] and not cname_of else None
    if malformed is not None and malformed.kind == "invalid":
        labels = (f", sent to {platform} tenant {r['tenant']} by its valid last labels"
                  if platform and not rotation and r["tenant"] else "")
        reasons.append(f"malformed name ({malformed.note}){labels}: no browser or resolver sends one; a client "
                       f"that writes its own Host or SNI does")
    if rotation:
        pass  # said above, with the names
    elif r["names"] and r["names"] > 1 and dns_only:
        reasons.append(f"{int(r['names'])} different names under {_common_parent(r, r['host'])} "
                       f"(a new label per query)")
    elif r["names"] and r["names"] > 1:
        reasons.append(f"{int(r['names'])} different names of one destination used in turn "
                       f"(rotation across {'workers of one account' if r['tenant'] else 'a redirect pair'})")
    if r.get("intel_pattern"):
        reasons.insert(0, f"name on a threat-intel list: {r['intel_pattern']} ({r['intel_source']})")
    if r["mismatch"]:
        reasons.append(f"browser User-Agent with a non-browser TLS fingerprint (JA4 {r['ja4']})")
    elif r["nonbrowser"]:
        if r["user_agent"] is not None:
            what = "scripting or attack-tool client" if r.get("tool") else "non-browser client"
            reasons.append(f"{what} by User-Agent: {r['client_label'] or repr(r['user_agent'])}")
        elif r["client_label"] and not str(r["client_label"]).startswith("TLS client"):
            reasons.append(f"non-browser TLS fingerprint: {r['client_label']} (JA4 {r['ja4']})")
        else:
            reasons.append(f"non-browser TLS client (JA4 {r['ja4']}: not a browser's ALPN/cipher/extension set)")
    elif kind == "beacon" and r["user_agent"] and not (r["ja4"] or r["ja3"]):
        # a browser's User-Agent on plain HTTP: nothing checks it, and an implant's profile sends one
        reasons.append("a browser's User-Agent with no TLS handshake to check it against (plain HTTP): any "
                       "client can send it, as C2 profiles do; a page reloading itself on a timer looks the same")
    elif r.get("client_label") == BROWSER_SHAPED:   # ja4_browser_like: no browser's cipher list
        reasons.append(f"an unknown TLS client (JA4 {r['ja4']}) with a browser's shape (h2, 14 or more suites and "
                       f"extensions) but no known browser's cipher list: a browser missing from the catalogue, "
                       f"or a client built to look like one; judged as neither")
    elif kind == "contact" and r.get("browser") and r["long_conn"]:  # stage 49: alone, for hours
        reasons.append(f"a browser's TLS client (JA4 {r['ja4']}) held a connection to a serverless tenant no other "
                       f"host reaches open for {_span(r['long_conn_s'])} at a trickle: a page left open on a live "
                       f"feed (WebSocket, server-sent events) does this, and so does an implant that copies a "
                       f"browser's handshake (uTLS) and polls inside one kept-alive connection")
    elif kind == "beacon" and r.get("browser"):  # a browser's JA4 (scan_client_class), no UA saying otherwise
        # no score change: what to check first when a browser's handshake beacons
        reasons.append(f"a browser's TLS client (JA4 {r['ja4']}): a page left open that reloads itself on a timer "
                       f"looks like this, and so does an implant that copies a browser's handshake (uTLS)")
    if r.get("ja3_values"):
        # stage 25: keyed without a JA3 that changed from one connection to the next
        reasons.append(f"its TLS client's JA3 changed from one connection to the next ({int(r['ja3_values'])} values): "
                       f"a TLS stack that shuffles its extensions, as Chromium does (Chrome, Edge, Electron apps) "
                       f"and an implant copying its handshake (uTLS) does too; grouped as one client, not "
                       f"{int(r['ja3_values'])} (a JA4 would tell them apart)")
    if kind == "contact" and r.get("timed_contact") and not (r["long_conn"] or r.get("intel_pattern")):
        # listed for its timing alone (stage 49, which already excludes a non-browser client): say what
        # was missing to judge the client
        reasons.append("listed for its regular timing alone: no JA4 was logged to tell its client from a browser"
                       + (" (and a User-Agent can be claimed)" if r["user_agent"] is not None else ""))
    if r.get("time_sync"):
        reasons.append(f"NTP: port {p.time_sync_port}, where time synchronisation polls its servers on a timer by "
                       f"design (chrony and ntpd every 64-1024 s): weighs {p.w_time_sync:g}x")
    if r.get("internal"):
        reasons.append(f"internal: {r['dst']} is a private address, reached with no TLS or HTTP name (a monitoring "
                       f"poll, a directory, file or time service, mostly; or an implant's pivot inside the network): "
                       f"weighs {p.w_internal:g}x, as this tool looks for internal hosts calling out")
    if r.get("inbound"):
        reasons.append(f"inbound: {r['src']} is an outside address reaching an internal one (an uptime monitor "
                       f"or a scanner, mostly; or a controller reaching a listening implant): weighs "
                       f"{p.w_inbound:g}x, as this tool looks for internal hosts calling out")
    prev, fp_prev, fleet = r["prevalence"], r["fp_prevalence"], r["fleet"]
    hosts = "sources" if r.get("inbound") else "internal hosts"
    overall = f" ({int(prev)} {hosts} in all)" if prev and fp_prev and prev > fp_prev else ""
    # no JA4, JA3 or User-Agent (a connection named from DNS answers is told apart by its port): no client
    with_client = " with this client" if r["ja4"] or r["ja3"] or r["user_agent"] else ""
    if fp_prev == 1:
        reasons.append(f"only this {'source' if r.get('inbound') else 'internal host'} talks to it"
                       f"{with_client}{overall}")
    elif (r.get("fleet_discount") or 0) >= p.w_fleet_wide:
        reasons.append(f"{int(fp_prev)} {hosts} talk to it{with_client}{_fleet_count(fleet, fp_prev)}, and had "
                       f"from the window's first hours (not new to the store): software deployed across the "
                       f"site (the largest discount)")
    elif (r.get("fleet_discount") or 0) >= p.w_common:
        reasons.append(f"{int(fp_prev)} {hosts} talk to it{with_client}{_fleet_count(fleet, fp_prev)} "
                       f"(fleet-wide: less suspicious)")
    elif r.get("fleet_discount"):
        # stage 49: a small fleet to a serverless tenant, or one of any size to a tenant new to a store with
        # history, is discounted less: one implant spread to a few hosts looks the same
        peers = r.get("fleet_peers") or []
        if not (fleet and fleet >= p.fleet_large):
            what = "a small fleet, or one implant on a few hosts"
        elif r["is_new"]:
            what = "a fleet new to the store (all began inside the window): a new rollout, or one implant spreading"
        else:  # late_start: the channel began hours after its host's first traffic of the window
            what = (f"a fleet that began today (this host's channel {_span(r['first_epoch'] - r['src_first'])} "
                    f"after its first traffic of the window; an agent starts with its host): a new rollout, or "
                    f"one implant spreading")
        shown = ", ".join(printable(x, 60) for x in peers[:FLEET_PEERS_SHOWN])
        more = f" and {len(peers) - FLEET_PEERS_SHOWN} more" if len(peers) > FLEET_PEERS_SHOWN else ""
        reasons.append(f"{int(fp_prev)} {hosts} talk to it{with_client}{_fleet_count(fleet, fp_prev)}: "
                       f"{what} (a smaller discount)" + (f"; the others: {shown}{more}" if peers else ""))
    elif fp_prev and fp_prev >= p.prev_common:
        # stage 46: hosts beaconing at another cadence are no fleet, nor (no client seen) mere visitors
        # of a front door that names no tenant
        nor = "" if with_client else ", nor, with no client seen, visitors of a front door that names no tenant"
        reasons.append(f"{int(fp_prev)} {hosts} talk to it{with_client}, but only {int(fleet or 0)} count "
                       f"toward a fleet (hosts beaconing at another cadence do not{nor}): no discount")
    elif fp_prev:
        reasons.append(f"{int(fp_prev)} {hosts} talk to it{with_client}{overall}")
    if r["is_new"]:
        # the name's first use; a connection named later, from the host's own DNS answers, can be earlier
        first = min(r["store_first_epoch"], r["first_epoch"])
        reasons.append(f"first seen in the store at {_utc(first):%Y-%m-%d %H:%M} UTC (new destination)")
    if r["long_conn"]:
        # that connection's own bytes, both ways (stage 22), not the channel's total
        moved = _count(r.get("long_conn_bytes") or 0)
        reasons.append(f"long-lived low-volume connection: {_span(r['long_conn_s'])} moving {moved} bytes "
                       f"(a beacon can hide inside one keep-alive connection)")
    if r["dns_queries"] and r["min_ttl"] and r["median_query_gap"] and connections >= 2 * r["dns_queries"] \
            and r["median_query_gap"] >= 0.8 * r["min_ttl"]:
        reasons.append(f"only {int(r['dns_queries'])} DNS queries, about one per TTL ({r['min_ttl']:.0f} s), "
                       f"for {connections} connections: cached resolution")
    if r["txt_queries"]:
        reasons.append(f"{int(r['txt_queries'])} DNS TXT queries")
    if r.get("dead_lookup"):
        reasons.append(f"every one of its {int(r['dns_queries'])} queries for this one name failed (NXDOMAIN): "
                       f"a lookup retrying, with no answer and no varying name to carry data (less suspicious)")
    elif r.get("nx_burst"):
        reasons.append(f"{int(r['nxdomain'])} NXDOMAIN answers across {int(r['names'])} names")
    elif r["nxdomain"] and r["nxdomain"] >= p.nxdomain_min:
        reasons.append(f"{int(r['nxdomain'])} NXDOMAIN answers")
    out_b, in_b = _count(r["bytes_out"]) or 0, _count(r["bytes_in"]) or 0
    if out_b >= p.upload_min_bytes and out_b >= p.upload_ratio * max(in_b, 1):
        # no weight: a backup or sync client does this too; what an analyst triages first, said first
        reasons.insert(1 if reasons else 0,
                       f"sent {_megabytes(out_b)} and received {_megabytes(in_b)} ({out_b / max(in_b, 1):.0f}x): "
                       f"data leaving in volume over {counted} (exfiltration, or a backup or upload client)")
    if r["random_labels"]:
        reasons.append(f"{int(r['random_labels'])} high-entropy name labels "
                       f"(up to {r['max_label_entropy']:.1f} bits/char)")
    sources = [s for s in ("conn", "dns", "ssl", "http", "eve") if r.get(f"src_{s}")]
    if (r["dns_queries"] or r.get("src_answer")) and "dns" not in sources:
        sources.append("dns")
    scores = {k: round(float(r[v]), 4) for k, v in (("beacon", "beacon"), ("poisson_z", "z"),
                                                    ("periodicity", "c_score"), ("regularity", "r_score"),
                                                    ("size", "s_score"), ("context", "evidence"),
                                                    ("qcd", "qcd"), ("fleet_discount", "fleet_discount"))
              if r.get(v) is not None and not (isinstance(r[v], float) and math.isnan(r[v]))}
    return Finding(
        src=r["src"], host=host, platform=platform, tenant=tenant,
        category=r["category"] or ("serverless" if platform else "non-serverless"),
        score=_shown_score(r["score"]), severity=r["severity"], connections=connections,
        period_s=period, jitter=jitter,  # rounded above, as the reasons say them
        first_seen=_utc(r["first_epoch"]), last_seen=_utc(r["last_epoch"]),
        user_agent=r["user_agent"], ja3=r["ja3"], ja4=r["ja4"],
        bytes_out=_count(r["bytes_out"]), bytes_in=_count(r["bytes_in"]),
        reasons=reasons, sources=sources, kind=kind, dst=r["dst"], dst_port=r["dst_port"], cname_of=cname_of,
        channel_key=f"{r['src']}|{r['dest_key']}|{r['fp']}", scores=scores,
        http_requests=connections + later if later else None,
        rotation=[n for n, _ in rotation[:ROTATION_NAMES_LISTED]] if rotation else None,
    )


def warnings_of_the_logs(files: list[Any], result: ScanResult, *, kept_store: bool) -> list[str]:
    """What a run that ingested ``files`` (FileReports) and then scored ``result`` must add to its
    warnings: the files it could not read, and a window that is not the logs' (below)."""
    return unreadable_files(files) + window_against_logs(files, result, kept_store=kept_store)


def window_against_logs(files: list[Any], result: ScanResult, *, kept_store: bool) -> list[str]:
    """Warnings for a run that ingested logs and then scored a window of a store: the logs given lie
    outside the window (a missed night back-filled into a ``--db`` store, whose default window ends at
    the store's latest row), or the window of a kept store reaches far before them (their sensor
    stopped early: the default window then ends at their last row and scores earlier nights again,
    and the hours after it are not shown as silent). ``files``: the ingest's FileReports."""
    # the ingest's times are naive UTC: compared as epochs (_epoch), shown in UTC (_utc)
    spans = [(_epoch(f.min_ts), _epoch(f.max_ts)) for f in files if f.rows_loaded and f.min_ts and f.max_ts]
    if not spans or result.window_start is None or result.window_end is None:
        return []
    ws, we = result.window_start, result.window_end
    lo, hi = _utc(min(s[0] for s in spans)), _utc(max(s[1] for s in spans))
    assert lo is not None and hi is not None
    given = f"the logs given ({lo:%Y-%m-%d %H:%M} .. {hi:%Y-%m-%d %H:%M} UTC)"
    day = f"--since {lo:%Y-%m-%d} --window 24h"
    if hi < ws or lo >= we:
        return [f"{given} lie outside the window scored ({ws:%Y-%m-%d %H:%M} .. {we:%Y-%m-%d %H:%M} UTC): "
                f"loaded, not scored; {day} scores their day"]
    if kept_store and (lo - ws).total_seconds() > _WINDOW_LEAD_S:
        return [f"the window starts {human_duration((lo - ws).total_seconds())} before the first row of {given}: it "
                f"scores rows of earlier runs again, and the hours after their last row are not in it (did the "
                f"sensor stop?); {day} scores their day, with its silent hours"]
    return []


def unreadable_files(files: list[Any], shown: int = 3) -> list[str]:
    """A warning naming the files of a run that could not be read at all (a gzip of which nothing
    decompresses, a file that vanished): ``scan`` and ``report`` go on with the others, and the night
    must not look whole. ``files``: the ingest's FileReports."""
    failed = [f for f in files if f.status == "failed"]
    if not failed:
        return []
    named = "; ".join(f"{printable(f.path, 200)}: {printable(f.reason or 'failed', 200)}" for f in failed[:shown])
    more = f"; and {len(failed) - shown} more" if len(failed) > shown else ""
    return [f"{len(failed)} file(s) could not be read and are left out: {named}{more}"]


#: how far before the first row of a run's logs a kept store's window may start unremarked
_WINDOW_LEAD_S = 3 * 3600.0
