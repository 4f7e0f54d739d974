"""The compiled matcher: which catalogue entry (and which intel entry) a hostname falls under.

Contract of :meth:`Matcher.match` (pure; the naive reference in ``tests/test_matcher.py`` implements
the same contract by looping over every entry, and a Hypothesis test holds them equal):

* input is a *normalized* hostname (:func:`analyzer.normalize.normalize_host`);
* label boundaries are exact: ``workers.dev`` matches ``x.workers.dev``, never ``evilworkers.dev``
  nor ``workers.dev.evil.com``; a suffix needs one label or more in front of it;
* structural entries must match their whole-name regex (a Lambda URL in a region missing from the
  PSL matches; ``lambda-url.us-east-1.on.aws`` with no id in front does not);
* the most specific entry wins: more labels, then longer anchor, then exact > structural > suffix,
  then catalogue order (:func:`rank`);
* intel is matched in the same automaton pass; the best intel hit is attached to the catalogue
  match, or, for a name the catalogue does not know, becomes the match through a pseudo-entry.

How: one pyahocorasick automaton over ``"." + anchor`` for every anchor, run with ``iter()`` over
``"." + name`` keeping only hits that end at the last character. ``iter_long()`` is not used: it
returns non-overlapping matches only and so misses end-anchored ones (``x.a.b.c`` with ``.a.b`` and
``.b.c`` yields only ``.a.b``).

Over a store (:meth:`Matcher.match_store`), DuckDB gathers the distinct names and keeps only those
that can match (not yet canonical, or whose last two labels are some pattern's last two labels: an
exact filter), so Python normalizes and matches a few percent of a day's names, each once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import ahocorasick

from analyzer.catalog import Catalog, CatalogEntry
from analyzer.errors import StoreError
from analyzer.intel import IntelPattern
from analyzer.normalize import NormalizedName, line_indices, normalize_host, valid_tail
from analyzer.sqlfiles import read_sql

__all__ = ["Match", "Matcher", "rank", "NAME_MATCHES_COLUMNS"]

_KIND_RANK = {"suffix": 0, "structural": 1, "exact": 2}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")

#: Columns of the table written by :meth:`Matcher.match_store`, in order.
NAME_MATCHES_COLUMNS = (
    "raw_name", "name", "name_kind", "platform", "provider", "tenant", "category", "confidence",
    "severity", "pattern", "entry_id", "via_cname",
    "bare_severity", "intel_pattern", "intel_source", "seen_in", "name_note",
)


_ROW_COLUMNS = ("raw_name", "name", "name_kind", "name_note", "entry_idx", "tenant", "via_cname", "intel_pattern",
                "intel_source", "severity", "bare_severity")
_CANONICAL_NOTE = NormalizedName(None, "hostname", "")


def rank(entry: CatalogEntry) -> tuple[int, int, int]:
    """Specificity of an entry; the highest rank among matching entries wins (ties: earlier entry)."""
    return entry.labels, len(entry.suffix), _KIND_RANK[entry.kind]


@dataclass(frozen=True)
class Match:
    """What a name matched. ``entry`` is a catalogue entry, or an intel pseudo-entry when only
    intel knows the name (then ``category == 'intel'``)."""

    name: str
    entry: CatalogEntry
    tenant: str | None
    intel: IntelPattern | None = None
    via_cname: str | None = None   # set when the match is through this CNAME target of ``name``

    @property
    def platform(self) -> str:
        return self.entry.platform

    @property
    def provider(self) -> str:
        return self.entry.provider

    @property
    def category(self) -> str:
        return self.entry.category

    @property
    def confidence(self) -> str:
        return self.entry.confidence

    @property
    def severity(self) -> str:
        """Severity for a non-browser or beaconing hit; a name on an intel list is always high."""
        return "high" if self.intel is not None else self.entry.severity

    @property
    def bare_severity(self) -> str:
        return "high" if self.intel is not None else self.entry.bare_severity

    @property
    def pattern(self) -> str:
        return self.entry.pattern or self.entry.suffix

    def describe(self) -> str:
        text = f"{self.platform} ({self.pattern})"
        if self.tenant:
            text += f" tenant {self.tenant}"
        if self.intel is not None and self.entry.category != "intel":
            text += f"; on {self.intel.describe()}"
        if self.via_cname:
            text += f" via CNAME {self.via_cname}"
        return text


class _Candidate:
    """One entry or intel pattern hanging off an automaton key, with its precomputed test."""

    __slots__ = ("entry", "intel", "kind", "anchor_len", "regex", "tenant_group", "rank", "order")

    def __init__(self, entry: CatalogEntry | None, intel: IntelPattern | None, order: int):
        self.entry, self.intel, self.order = entry, intel, order
        self.regex: re.Pattern[str] | None = None
        self.tenant_group: str | None = None
        if entry is not None:
            self.kind = entry.kind
            self.anchor_len = len(entry.suffix)
            if entry.regex is not None:
                self.regex = re.compile(entry.regex, re.ASCII)
            if entry.tenant.startswith("{"):
                self.tenant_group = entry.tenant[1:-1]
            self.rank = (*rank(entry), -order)
        else:
            assert intel is not None
            self.kind = "suffix" if intel.subdomains_only else "domain"
            self.anchor_len = len(intel.pattern)
            labels = intel.pattern.count(".") + 1 + (1 if intel.subdomains_only else 0)
            self.rank = (labels, self.anchor_len, 0, -order)

    def test(self, name: str) -> re.Match[str] | bool:
        """Does ``name`` (already known to end with '.' + anchor or to equal the anchor) match?"""
        if self.kind == "suffix":
            return len(name) > self.anchor_len
        if self.kind == "exact":
            return len(name) == self.anchor_len
        if self.kind == "domain":
            return True
        assert self.regex is not None
        return self.regex.match(name) or False


class Matcher:
    """The automaton over every catalogue anchor and intel pattern, built once per run."""

    def __init__(self, catalog: Catalog, intel: Iterable[IntelPattern] | None = None):
        self.catalog = catalog
        self.intel = list(intel or ())
        self._automaton = ahocorasick.Automaton()
        keyed: dict[str, tuple[list[_Candidate], list[_Candidate]]] = {}
        for order, entry in enumerate(catalog.entries):
            keyed.setdefault("." + entry.suffix, ([], []))[0].append(_Candidate(entry, None, order))
        for order, pattern in enumerate(self.intel):
            keyed.setdefault("." + pattern.pattern, ([], []))[1].append(_Candidate(None, pattern, order))
        # _bulk holds the same keys terminated by "\n": scanning one joined string of many names
        # with it yields only hits at the end of a name, so Python sees ~3 % of the names, not all.
        self._bulk = ahocorasick.Automaton()
        for key, (entries, intel_hits) in keyed.items():
            self._automaton.add_word(key, (tuple(entries), tuple(intel_hits)))
            self._bulk.add_word(key + "\n", None)
        if keyed:
            self._automaton.make_automaton()
            self._bulk.make_automaton()
        self._empty = not keyed
        # The exact prefilter of sql/11_name_work.sql: a name can match a pattern only if it shares the
        # pattern's last labels. Patterns of two labels give 2-label tails; longer ones give 3-label tails,
        # which keeps names under multi-label public suffixes (co.uk, com.cn) out of Python.
        self._tails = sorted({".".join(key[1:].split(".")[-3:]) for key in keyed})

    def match(self, name: str) -> Match | None:
        """Match one normalized hostname; None when no entry and no intel pattern matches."""
        if self._empty or not name:
            return None
        text = "." + name
        last = len(text) - 1
        best: _Candidate | None = None
        best_m: re.Match[str] | bool = False
        best_intel: _Candidate | None = None
        for end, (entries, intel_hits) in self._automaton.iter(text):
            if end != last:
                continue
            # This key ("." + anchor) ends at the last character: the name ends with the anchor on a
            # label boundary, or equals it. Each candidate's test() decides the rest.
            for cand in entries:
                if best is not None and cand.rank <= best.rank:
                    continue
                m = cand.test(name)
                if m:
                    best, best_m = cand, m
            for cand in intel_hits:
                if (best_intel is None or cand.rank > best_intel.rank) and cand.test(name):
                    best_intel = cand
        intel = best_intel.intel if best_intel is not None else None
        if best is not None:
            assert best.entry is not None
            return Match(name, best.entry, _tenant(best, best_m, name), intel)
        if intel is not None:
            return Match(name, intel.as_entry(), intel.pattern, intel)
        return None

    def match_invalid(self, raw: str) -> Match | None:
        """The match of a name that is not valid as a whole, by its valid last labels
        (:func:`analyzer.normalize.valid_tail`): ``=1+2.qa.workers.dev`` is sent to tenant ``qa`` of
        Cloudflare Workers, and one odd character in a Host header must not hide that. None when those
        labels match nothing (``bad!.workers.dev`` names no tenant: the bare suffix is the vendor's)."""
        tail = valid_tail(raw)
        return self.match(tail) if tail is not None else None

    def match_names(self, names: Sequence[str]) -> dict[str, Match]:
        """Match many normalized names; returns only the names that matched.

        Same result as calling :meth:`match` on each name (tested), faster: see :meth:`_scan`.
        """
        out: dict[str, Match] = {}
        match = self.match
        for name in dict.fromkeys(names[i] for i in self._scan(names)):
            m = match(name)
            if m is not None:
                out[name] = m
        return out

    def _scan(self, names: Sequence[str]) -> list[int]:
        """Indices of the names that end with some anchor on a label boundary (a superset of matches).

        One automaton scan over ``".n1\\n.n2\\n..."`` with keys ``"." + anchor + "\\n"``: hits occur only
        at the end of a name, so Python touches ~3 % of the names instead of all. Normalized names
        never contain a newline; if one does, every index is returned (then :meth:`match` decides).
        """
        if self._empty or not names:
            return []
        text = "\n." + "\n.".join(names) + "\n"
        if text.count("\n") != len(names) + 1:
            return list(range(len(names)))
        # a key's last character is the "\n" after the name; shift by one so it counts that name's line
        return sorted(set(line_indices(text, [end - 1 for end, _ in self._bulk.iter(text)])))

    def explain(self, raw: str) -> tuple[NormalizedName, Match | None, list[tuple[CatalogEntry, str]]]:
        """For ``explain``: the normalization, the winning match, and every entry whose anchor the
        name ends with but which was rejected (with the reason)."""
        norm = normalize_host(raw)
        if norm.kind == "invalid":
            m = self.match_invalid(raw)
            if m is not None:
                return NormalizedName(None, "invalid", f"{norm.note}; matched by its valid last labels {m.name}"), m, []
        if norm.kind != "hostname" or norm.name is None:
            return norm, None, []
        name = norm.name
        near: list[tuple[CatalogEntry, str]] = []
        for entry in self.catalog.entries:
            if not ("." + name).endswith("." + entry.suffix):
                continue
            cand = _Candidate(entry, None, 0)
            if cand.test(name):
                continue
            if entry.kind == "suffix":
                why = "a suffix needs one label or more in front of it (the bare apex is the vendor's site)"
            elif entry.kind == "exact":
                why = "exact host only"
            else:
                why = f"the labels in front of {entry.suffix} do not fit {entry.pattern}"
            near.append((entry, why))
        return norm, self.match(name), near

    # ------------------------------------------------------------------ store
    def match_store(self, con: object, *, table: str = "name_matches",
                    progress: Callable[[str], None] | None = None) -> int:
        """Match every distinct name in the store and write ``table`` (columns: NAME_MATCHES_COLUMNS).

        ``sql/10_names.sql`` gathers the distinct raw names (dns queries, CNAME targets, SNI, Host,
        CONNECT targets) and flags the ones already canonical; ``sql/11_name_work.sql`` keeps the
        non-canonical names and the canonical names whose last two labels are those of some pattern
        (an exact filter: nothing else can match). Python normalizes and matches only those, once
        per distinct name, and sends back only results; ``sql/12_name_matches.sql`` builds the table.

        A DNS query whose CNAME target matches, and which matches nothing itself, carries the
        target's platform and tenant with ``via_cname`` = the target. Returns the row count.
        """
        if not _IDENT.fullmatch(table):
            raise ValueError(f"bad table name {table!r}")
        report = progress or (lambda _msg: None)
        try:
            con.execute(read_sql("10_names"))  # type: ignore[attr-defined]
            _load(con, "_name_tails", {"tail": (self._tails, "VARCHAR")})
            con.execute(read_sql("11_name_work"))  # type: ignore[attr-defined]
            work = con.execute("SELECT raw_name, canonical FROM _name_work").fetchall()  # type: ignore[attr-defined]
            edges = con.execute("SELECT query_raw, target_raw FROM _name_work_edges").fetchall()  # type: ignore[attr-defined]
        except Exception as exc:  # duckdb.Error, but keep duckdb out of the signature
            raise StoreError(f"gathering names failed: {exc}") from exc
        report(f"matching {len(work)} candidate names")

        # Normalize the non-canonical names; match each distinct normalized hostname once.
        normalized: dict[str, NormalizedName] = {}   # raw -> normal form, for the work rows
        found: dict[str, Match | None] = {}
        salvaged: dict[str, Match] = {}   # invalid raw name -> the match of its valid last labels
        for raw_name, canonical in work:
            norm = _CANONICAL_NOTE if canonical else normalize_host(raw_name, escapes=False)  # decoded at ingest
            name = raw_name if canonical else norm.name
            if norm.kind == "hostname" and name is not None and name not in found:
                found[name] = self.match(name)
            elif norm.kind == "invalid":
                m = self.match_invalid(raw_name)
                if m is not None:
                    salvaged[raw_name] = m
                    norm = NormalizedName(None, "invalid", f"{norm.note}; matched by its valid last labels {m.name}")
            normalized[raw_name] = NormalizedName(name, norm.kind, norm.note)

        # CNAME: the best-ranked matching target per normalized query name that matches nothing itself.
        # (A canonical query outside the work set cannot match: stage 11's filter is exact.)
        via: dict[str, Match] = {}
        for query_raw, target_raw in edges:
            target = found.get(normalize_host(target_raw, escapes=False).name or "")
            q = normalize_host(query_raw, escapes=False)
            if target is None or q.kind != "hostname" or q.name is None or found.get(q.name) is not None:
                continue
            current = via.get(q.name)
            if current is None or _better(target, current):
                via[q.name] = target
        for q, t in via.items():
            found[q] = Match(q, t.entry, t.tenant, t.intel, via_cname=t.name)
            # the canonical spelling of q may be outside the work set (its last labels match no pattern)
            normalized.setdefault(q, NormalizedName(q, "hostname", ""))

        # One row per raw name that is not canonical or that matched; stage 12 fills in the rest.
        entry_index: dict[str, int] = {}
        entries: list[CatalogEntry] = []
        rows: dict[str, list] = {k: [] for k in _ROW_COLUMNS}
        matched = 0
        for raw_name, norm in normalized.items():
            m = found.get(norm.name) if norm.kind == "hostname" and norm.name else salvaged.get(raw_name)
            if m is None and norm.kind == "hostname" and norm.name == raw_name and not norm.note:
                continue  # canonical and unmatched: the default row
            idx = None
            if m is not None:
                matched += 1
                idx = entry_index.get(m.entry.id)
                if idx is None:
                    idx = entry_index[m.entry.id] = len(entries)
                    entries.append(m.entry)
            values = (raw_name, norm.name, norm.kind, norm.note, idx,
                      m.tenant if m else None, m.via_cname if m else None, _intel_text(m.intel) if m else None,
                      m.intel.source if m and m.intel else None, m.severity if m else None,
                      m.bare_severity if m else None)
            for key, value in zip(_ROW_COLUMNS, values):
                rows[key].append(value)
        report(f"{matched} raw names matched ({len(via)} names through CNAME targets)")

        _load(con, "_nm_rows", {k: (v, "BIGINT" if k == "entry_idx" else "VARCHAR") for k, v in rows.items()})
        _load(con, "_nm_entries", {
            "entry_idx": (list(range(len(entries))), "BIGINT"),
            "entry_id": ([e.id for e in entries], "VARCHAR"),
            "platform": ([e.platform for e in entries], "VARCHAR"),
            "provider": ([e.provider for e in entries], "VARCHAR"),
            "category": ([e.category for e in entries], "VARCHAR"),
            "confidence": ([e.confidence for e in entries], "VARCHAR"),
            "pattern": ([e.pattern or e.suffix for e in entries], "VARCHAR")})
        try:
            con.execute(f'CREATE OR REPLACE TABLE "{table}" AS ' + read_sql("12_name_matches"))  # type: ignore[attr-defined]
            count = con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0]  # type: ignore[attr-defined]
            con.execute("DROP TABLE IF EXISTS _nm_rows; "  # type: ignore[attr-defined]
                        "DROP TABLE IF EXISTS _nm_entries; DROP TABLE IF EXISTS _name_tails; "
                        "DROP TABLE IF EXISTS _name_work; DROP TABLE IF EXISTS _name_work_edges")
        except Exception as exc:
            raise StoreError(f"writing {table} failed: {exc}") from exc
        return int(count)


def _better(a: Match, b: Match) -> bool:
    ra, rb = rank(a.entry), rank(b.entry)
    return ra > rb or (ra == rb and a.name < b.name)


def _intel_text(intel: IntelPattern | None) -> str | None:
    if intel is None:
        return None
    return ("*." if intel.subdomains_only else "") + intel.pattern


def _tenant(cand: _Candidate, m: re.Match[str] | bool, name: str) -> str | None:
    assert cand.entry is not None
    spec = cand.entry.tenant
    if spec == "host":
        return name
    if spec == "none":
        return None
    if spec == "label":
        return name[: len(name) - cand.anchor_len - 1].rsplit(".", 1)[-1]
    if cand.tenant_group and isinstance(m, re.Match):
        return m.group(cand.tenant_group)
    return None


def _load(con: object, table: str, columns: dict[str, tuple[Sequence[object], str]]) -> None:
    """Create a temp table from Python columns: each column goes in as one LIST parameter, unnested.

    Only the rows that differ from the default (changed names, matches: a few percent) are sent,
    so this stays small; it needs neither pandas nor pyarrow (~15 ms per 20,000 rows).
    """
    selects = ", ".join(f'unnest(${i + 1}::{t}[]) AS "{k}"' for i, (k, (_v, t)) in enumerate(columns.items()))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {selects}",  # type: ignore[attr-defined]
                [list(values) for values, _t in columns.values()])
