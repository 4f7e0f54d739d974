"""Export the serverless catalogue for sensors: a Zeek input-framework table and Suricata rules.

Both exporters are pure functions from a :class:`~analyzer.catalog.Catalog` to file text, so the
CLI only writes what they return and tests can check the text without touching the disk.

Suricata semantics (checked against Suricata 7.0.10, see ``tests/test_export.py``):

* Names match on label boundaries with the catalogue's semantics (``analyzer/catalog.py``):
  ``content:".workers.dev"; endswith;`` matches ``a.workers.dev`` but neither ``evilworkers.dev``
  nor ``workers.dev.evil.com``. ET writes ``dotprefix;`` in front, which also matches the bare
  apex ``workers.dev``; the catalogue deliberately does not (the apex is the vendor's own site),
  so the sensor and the analyzer agree on what is a hit.
* ``http.host`` is lower-cased by Suricata *except* when the Host header carries a port, so HTTP
  rules inspect ``http.host.raw`` case-insensitively and use a pcre that allows an optional
  ``:port`` after the name.
* Structural entries (``<id>.lambda-url.<region>.on.aws``) anchor a fast-pattern content on the
  suffix and check the full name with the entry's anchored regex through ``pcre``.
* Per entry: DNS query, TLS SNI, HTTP Host and QUIC SNI (an HTTP/3 client's hello, ``quic.sni``)
  rules see a bare contact, so their classtype and severity come from the entry's
  ``bare_severity``; one more rule, an HTTP request to the host from a non-browser User-Agent
  (curl, python, PowerShell, Go...), carries the entry's ``severity``, the one the catalogue gives a
  non-browser hit.
* Informational and low rules are rate limited per source (``threshold: type limit``): a bare
  contact is common and worth one line per host and window.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable

from analyzer.catalog import Catalog, CatalogEntry

MITRE_TECHNIQUE = "T1583.007"
MITRE_TACTIC = "TA0042"  # Resource Development
DEFAULT_SID_BASE = 9_583_000
SID_BLOCK = 100_000        # the four first rules of every entry: [sid_base, sid_base + SID_BLOCK)
RULES_PER_ENTRY = 4        # dns, tls, http host, http non-browser client
# The QUIC SNI rule (HTTP/3) came later: each entry's is at sid_base + SID_BLOCK + its slot, so that
# the four older sids of every entry stayed where a sensor's suppressions and tuning refer to them.
QUIC_SID_BLOCK = SID_BLOCK // RULES_PER_ENTRY
SID_RANGE = SID_BLOCK + QUIC_SID_BLOCK   # the exporter never writes a sid outside [sid_base, sid_base + SID_RANGE)

CLASSTYPES = {
    "high": "trojan-activity",
    "medium": "bad-unknown",
    "low": "misc-activity",
    "info": "misc-activity",
}
SIGNATURE_SEVERITY = {"high": "Major", "medium": "Minor", "low": "Informational", "info": "Informational"}
RATE_LIMITED = frozenset({"low", "info"})
# User-Agents of scripting tools and HTTP libraries (not browsers), for the non-browser HTTP rule.
# PowerShell 7 sends "Mozilla/5.0 (...) PowerShell/7.x", so the Mozilla prefix alone proves nothing.
NON_BROWSER_UA = (r"(?:curl|wget|python|powershell|go-http-client|okhttp|libwww|java\/|axios|"
                  r"node-fetch|aiohttp|httpx|winhttp|microsoft-cryptoapi|nim httpclient|"
                  r"^-?$)")

_SAFE_CONTENT = re.compile(r"[A-Za-z0-9._\-]")
_PORT_SUFFIX = r"(?::\d{1,5})?"

# The Zeek input framework's ASCII reader: fields are TAB separated and an empty string must be
# written as the empty_field marker; the unset marker is "-".
ZEEK_FIELDS = ("suffix", "id", "platform", "provider", "category", "kind", "regex",
               "tenant", "confidence", "severity")


# ---------------------------------------------------------------------------------------- Suricata


def _content(text: str) -> str:
    """Quote ``text`` for a Suricata ``content``: anything but a hostname character becomes ``|xx|``.

    Catalogue suffixes are plain hostnames, but a catalogue file is user input; hex-escaping
    keeps a stray ``"``, ``;`` or ``|`` from breaking out of the keyword.
    """
    out: list[str] = []
    for ch in text:
        if _SAFE_CONTENT.fullmatch(ch):
            out.append(ch)
        else:
            out.append("|" + " ".join(f"{b:02x}" for b in ch.encode("utf-8")) + "|")
    return "".join(out)


def _msg(text: str) -> str:
    """Make free text safe inside ``msg:"..."`` (Suricata needs ``"``, ``;`` and ``\\`` escaped)."""
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return text.replace("\\", "\\\\").replace('"', '\\"').replace(";", "\\;")


def _token(text: str) -> str:
    """A metadata value: Suricata splits metadata on commas and spaces, so keep one safe token."""
    return re.sub(r"[^A-Za-z0-9_.\-]+", "_", text.strip()) or "unknown"


def _pcre_body(regex: str) -> str:
    """Escape a regex for ``pcre:"/.../"``: ``/``, ``"`` and ``;`` would end the pattern or keyword.

    ``"`` and ``;`` become ``\\x22``/``\\x3b``, which PCRE reads as the same character inside and
    outside a class; ``/`` gets its backslash. Already-escaped characters are left alone.
    """
    out: list[str] = []
    i = 0
    while i < len(regex):
        ch = regex[i]
        if ch == "\\" and i + 1 < len(regex):
            nxt = regex[i + 1]
            out.append({'"': r"\x22", ";": r"\x3b"}.get(nxt, ch + nxt))
            i += 2
            continue
        out.append({"/": r"\/", '"': r"\x22", ";": r"\x3b"}.get(ch, ch))
        i += 1
    return "".join(out)


def _strip_anchors(regex: str) -> str:
    """The body of an anchored ``^...$`` regex, so a port group can be inserted before the end."""
    body = regex
    if body.startswith("^"):
        body = body[1:]
    if body.endswith(r"\Z"):
        body = body[:-2]
    elif body.endswith("$") and not body.endswith(r"\$"):
        body = body[:-1]
    return body


def _name_regex(entry: CatalogEntry) -> str:
    """The anchored full-name regex of an entry (literal suffix/exact names are escaped)."""
    if entry.kind == "structural" and entry.regex:
        return "^(?:" + _strip_anchors(entry.regex) + ")$"
    literal = re.escape(entry.suffix.lower())
    if entry.kind == "exact":
        return "^" + literal + "$"
    return r"^.+\." + literal + "$"


def _host_pcre(entry: CatalogEntry) -> str:
    """The HTTP Host pcre: the full-name regex plus an optional ``:port``, case-insensitive."""
    body = _strip_anchors(_name_regex(entry))
    return f'pcre:"/^{_pcre_body(body)}{_PORT_SUFFIX}$/i";'


def _suffix_match(buffer: str, entry: CatalogEntry) -> str:
    """DNS/SNI matching on a sticky buffer: label-boundary suffix, exact name, or structural pcre."""
    suffix = entry.suffix.lower().strip(".")
    if entry.kind == "exact":
        return f'{buffer}; content:"{_content(suffix)}"; nocase; startswith; endswith;'
    if entry.kind == "structural" and entry.regex:
        return (f'{buffer}; content:".{_content(suffix)}"; nocase; endswith; '
                f'pcre:"/^{_pcre_body(_strip_anchors(_name_regex(entry)))}$/i";')
    # The leading dot is the label boundary and requires a label in front (no bare apex).
    return f'{buffer}; content:".{_content(suffix)}"; nocase; endswith;'


def _http_match(entry: CatalogEntry) -> str:
    """HTTP Host matching on ``http.host.raw``: Suricata skips lower-casing when a port is present."""
    suffix = entry.suffix.lower().strip(".")
    return f'http.host.raw; content:"{_content(suffix)}"; nocase; {_host_pcre(entry)}'


def _severity(value: str | None) -> str:
    return value if value in CLASSTYPES else "info"


def _bare_severity(entry: CatalogEntry) -> str:
    """The severity of a bare hit (what a rule sees); catalogues without it fall back to severity."""
    return _severity(getattr(entry, "bare_severity", None) or entry.severity)


def _metadata(entry: CatalogEntry, severity: str) -> str:
    items = [
        f"mitre_technique_id {MITRE_TECHNIQUE}",
        f"mitre_tactic_id {MITRE_TACTIC}",
        f"serverless_platform {_token(entry.platform)}",
        f"serverless_provider {_token(entry.provider)}",
        f"serverless_category {_token(entry.category)}",
        f"serverless_catalog_id {_token(entry.id)}",
        f"confidence {_token(entry.confidence).capitalize()}",
        f"signature_severity {SIGNATURE_SEVERITY[severity]}",
    ]
    return "metadata: " + ", ".join(items) + ";"


def _references(entry: CatalogEntry) -> str:
    """``reference:url,host/path`` for http(s) references (Suricata's reference.config knows ``url``)."""
    out = []
    for ref in entry.references:
        m = re.match(r"^https?://(\S+)$", ref.strip())
        if m:
            url = m.group(1).replace('"', "%22").replace(";", "%3B").replace("\\", "%5C")
            out.append(f"reference:url,{url};")
    return " ".join(out)


def _allocate_sids(entries: Iterable[CatalogEntry]) -> dict[str, int]:
    """Give each entry a block of ``RULES_PER_ENTRY`` sids, keyed on a hash of its id.

    Hashing the id (rather than numbering in file order) keeps an entry's sids stable when other
    entries are added or removed, which matters to anyone suppressing or tuning a sid. Collisions
    are resolved by linear probing in sorted-id order, so the result is deterministic.
    """
    slots = SID_BLOCK // RULES_PER_ENTRY
    taken: set[int] = set()
    out: dict[str, int] = {}
    all_ids = [e.id for e in entries]
    ids = sorted(set(all_ids))
    if len(ids) != len(all_ids):
        dupes = sorted({i for i in all_ids if all_ids.count(i) > 1})
        raise ValueError(f"duplicate catalogue ids would share sids: {', '.join(dupes)}")
    if len(ids) > slots:
        raise ValueError(f"catalogue has {len(ids)} entries; the sid block holds {slots}")
    for entry_id in ids:
        slot = zlib.crc32(entry_id.encode("utf-8")) % slots
        while slot in taken:
            slot = (slot + 1) % slots
        taken.add(slot)
        out[entry_id] = slot * RULES_PER_ENTRY
    return out


def suricata_rules_for(entry: CatalogEntry, first_sid: int, *, quic_sid: int | None = None,
                       threshold_seconds: int | None = 300) -> list[str]:
    """The rules for one catalogue entry: DNS query, TLS SNI and HTTP Host (bare contacts, at the
    entry's bare severity), and a non-browser HTTP client to it (at the entry's severity); with
    ``quic_sid``, a fifth: the SNI of a QUIC (HTTP/3) client hello, a bare contact too.

    ``threshold_seconds=None`` (or 0) writes no threshold, e.g. to see every match in a test.
    """
    label = entry.suffix if entry.kind == "exact" else f"*.{entry.suffix}"
    refs = _references(entry)

    def rule(proto: str, what: str, flow: str, match: str, offset: int, severity: str, *,
             sid: int | None = None) -> str:
        options = [f"classtype:{CLASSTYPES[severity]};"]
        if severity in RATE_LIMITED and threshold_seconds:
            options.append(f"threshold: type limit, track by_src, count 1, seconds {int(threshold_seconds)};")
        if refs:
            options.append(refs)
        options.append(_metadata(entry, severity))
        msg = _msg(f"SERVERLESS-C2 {what} {entry.platform} ({label})")
        return (f'alert {proto} any any -> any any (msg:"{msg}"; {flow}{match} {" ".join(options)} '
                f"sid:{first_sid + offset if sid is None else sid}; rev:1;)")

    bare = _bare_severity(entry)
    flow = "flow:established,to_server; "
    rules = [
        rule("dns", "DNS query to", "", _suffix_match("dns.query", entry), 0, bare),
        rule("tls", "TLS SNI", flow, _suffix_match("tls.sni", entry), 1, bare),
        rule("http", "HTTP Host", flow, _http_match(entry), 2, bare),
        rule("http", "non-browser HTTP client to", flow,
             f"{_http_match(entry)} http.user_agent; pcre:\"/{NON_BROWSER_UA}/i\";", 3,
             _severity(entry.severity)),
    ]
    if quic_sid is not None:
        # Suricata 7 parses the client's Initial packets (app-layer.protocols.quic, on by default) and
        # puts its hello's SNI in quic.sni. No flow:established: the hello is the flow's first packet.
        rules.append(rule("quic", "QUIC SNI", "flow:to_server; ", _suffix_match("quic.sni", entry), 0, bare,
                          sid=quic_sid))
    return rules


def export_suricata(catalog: Catalog, *, sid_base: int = DEFAULT_SID_BASE,
                    threshold_seconds: int | None = 300) -> str:
    """Suricata rules for every catalogue entry, as the text of a ``.rules`` file.

    Sids fall in ``[sid_base, sid_base + 125000)``; each entry owns four consecutive sids in the
    first 100000 (DNS, TLS, HTTP Host, non-browser HTTP client) chosen from a hash of its id, and one
    in the last 25000 for its QUIC SNI rule (``sid_base + 100000 +`` the entry's slot). Low and info
    rules alert once per source per ``threshold_seconds`` (``None`` or 0: no rate limit).
    Raises ``ValueError`` for a bad ``sid_base`` or two entries with the same id.
    """
    if sid_base < 1 or sid_base + SID_RANGE > 2**32 - 1:
        raise ValueError(f"sid_base {sid_base} out of range")
    if threshold_seconds is not None and threshold_seconds < 0:
        raise ValueError(f"threshold_seconds {threshold_seconds} is negative")
    offsets = _allocate_sids(catalog.entries)
    limit = (f"low/info rules limited to 1 alert per source per {int(threshold_seconds)} s"
             if threshold_seconds else "no rate limit")
    lines = [
        "# serverless-c2 Suricata rules, generated by `serverless-c2 export suricata`; do not edit.",
        f"# MITRE ATT&CK {MITRE_TECHNIQUE}. sids {sid_base}-{sid_base + SID_RANGE - 1}; {limit}.",
        "# HTTP rules read http.host.raw: Suricata does not lower-case http.host when the Host carries a port.",
    ]
    for entry in sorted(catalog.entries, key=lambda e: offsets[e.id]):
        lines.append(f"# {_msg(entry.id)}: {_msg(entry.platform)} ({entry.kind} {_msg(entry.suffix)})")
        lines.extend(suricata_rules_for(entry, sid_base + offsets[entry.id],
                                        quic_sid=sid_base + SID_BLOCK + offsets[entry.id] // RULES_PER_ENTRY,
                                        threshold_seconds=threshold_seconds))
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------------------------------------- Zeek

# Zeek patterns are not PCRE: no (?:...), no \d/\w/\s classes, no lazy quantifiers or lookaround.
_ZEEK_CLASS = {r"\d": "[0-9]", r"\w": "[A-Za-z0-9_]", r"\s": "[ \t]"}
_ZEEK_UNSUPPORTED = re.compile(r"\(\?[^:]|\\[bBAzZDWS]|[*+?}]\?")


def zeek_pattern(regex: str) -> str | None:
    """Translate an anchored Python/PCRE name regex into Zeek pattern text, or None if impossible.

    Zeek compares ``name == pattern`` as a whole-string match, so the ``^``/``$`` anchors are
    dropped; ``(?:`` and named groups ``(?P<tenant>`` become ``(`` (Zeek cannot capture) and the
    ``\\d``-style classes become bracket classes.
    """
    body = re.sub(r"\(\?P<\w+>", "(", _strip_anchors(regex)).replace("(?:", "(")
    if _ZEEK_UNSUPPORTED.search(body):
        return None
    for esc, cls in _ZEEK_CLASS.items():
        if esc in body:
            if re.search(r"\[[^\]]*" + re.escape(esc), body):
                return None  # a class shorthand inside a bracket class: not worth translating
            body = body.replace(esc, cls)
    if "\t" in body or "\n" in body or "/" in body:
        return None
    return body


def zeek_tenant_rule(entry: CatalogEntry) -> str:
    """How the Zeek scripts take the tenant: ``label`` (just left of the suffix), ``host``,
    ``none`` or ``first`` (the first label).

    A structural entry's ``{group}`` becomes ``first``: Zeek patterns cannot capture, and in the
    catalogue the tenant group is the leading label of almost every structural pattern.
    """
    rule = (entry.tenant or "").strip()
    if rule in ("label", "host", "none"):
        return rule
    if rule.startswith("{") or entry.kind == "structural":
        return "first"
    return "none" if entry.kind == "exact" else "label"


def _zeek_value(text: str) -> str:
    """One field of the input-framework file: no TAB/newline, empty written as ``(empty)``."""
    text = re.sub(r"[\t\r\n]", " ", text)
    return text if text else "(empty)"


def export_zeek(catalog: Catalog) -> str:
    """The catalogue as a Zeek input-framework table file (``zeek-scripts`` reads it).

    One row per entry, keyed by (suffix, id). ``regex`` is the structural regex translated to
    Zeek pattern syntax, or ``-`` for suffix and exact entries. A structural entry whose regex
    cannot be expressed in Zeek syntax is left out rather than exported as a bare suffix, which
    would flag every name under a shared anchor such as ``on.aws``.
    """
    lines = ["#fields\t" + "\t".join(ZEEK_FIELDS)]
    for entry in sorted(catalog.entries, key=lambda e: (e.suffix, e.id)):
        pattern = "-"
        if entry.kind == "structural":
            if not entry.regex:
                continue
            translated = zeek_pattern(entry.regex)
            if translated is None:
                continue
            pattern = translated
        row = [entry.suffix.lower().strip("."), entry.id, entry.platform, entry.provider,
               entry.category, entry.kind, pattern, zeek_tenant_rule(entry), entry.confidence,
               entry.severity]
        lines.append("\t".join(_zeek_value(v) for v in row))
    return "\n".join(lines) + "\n"


def skipped_for_zeek(catalog: Catalog) -> list[str]:
    """Ids of structural entries that :func:`export_zeek` leaves out (the CLI warns about them)."""
    return [e.id for e in catalog.entries
            if e.kind == "structural" and (not e.regex or zeek_pattern(e.regex) is None)]
