"""The serverless catalogue: hostname patterns of serverless, edge and tunnel platforms.

CONTRACT (other modules rely on these names; the catalogue owner may add fields but not rename):
``load_catalog(extra_files=()) -> Catalog``; ``Catalog.entries: list[CatalogEntry]``.

The catalogue is data (``analyzer/data/catalog.txt``, format documented at its top). Every line
is validated; a bad line is reported as ``file:line: reason`` and the load fails, because a
silently dropped pattern is a silently missed detection.

Pattern kinds and what they mean (the matcher in :mod:`analyzer.matcher` implements exactly this):

``suffix``      ``workers.dev`` matches ``x.workers.dev`` and ``a.b.workers.dev`` (one label or more in
                front; the bare apex is the vendor's own site), never ``evilworkers.dev`` nor
                ``workers.dev.evil.com``.
``exact``       ``script.google.com`` matches that name only.
``structural``  a template such as ``{tenant:lambda_id}.lambda-url.{aws_region}.on.aws``: the
                trailing literal labels (``on.aws``) are the automaton anchor, and the whole name
                must match the compiled regex. ``{def}`` inserts a named label regex defined with
                ``@define``; ``{group:def}`` also captures it under ``group``. A leading ``*.``
                allows any labels in front.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Iterable

from analyzer.errors import CatalogError

CATEGORIES = ("faas-edge", "app-platform", "tunnel", "request-bin")
KINDS = ("suffix", "structural", "exact")
CONFIDENCES = ("high", "medium", "low")
SEVERITIES = ("high", "medium", "low", "info")

#: One DNS label as it appears in logs (underscores occur in real names, e.g. SRV/DMARC owners).
LABEL_RE = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOSTNAME = re.compile(rf"(?:{LABEL_RE}\.)+{LABEL_RE}", re.ASCII)
_ID = re.compile(r"[a-z0-9][a-z0-9-]*[a-z0-9]", re.ASCII)
_DEFINE = re.compile(r"@define\s+([a-z_][a-z0-9_]*)\s*=\s*(\S.*)$", re.ASCII)
_PLACEHOLDER = re.compile(r"\{(?:([a-z_][a-z0-9_]*):)?([a-z_][a-z0-9_]*)\}", re.ASCII)
_LITERAL = re.compile(r"[a-z0-9_-]+", re.ASCII)
_TENANT_GROUP = re.compile(r"\{([a-z_][a-z0-9_]*)\}", re.ASCII)
FIELDS = ("id", "platform", "provider", "category", "kind", "pattern", "tenant",
          "confidence", "severity", "references")


@dataclass(frozen=True)
class CatalogEntry:
    id: str                 # stable slug, e.g. "cloudflare-workers"
    platform: str           # "Cloudflare Workers"
    provider: str           # "Cloudflare"
    category: str           # faas-edge | app-platform | tunnel | request-bin
    kind: str               # suffix | structural | exact
    suffix: str             # the literal the automaton anchors on: "workers.dev", "on.aws", "script.google.com"
    regex: str | None       # structural kind: anchored full-name regex (Python re syntax, also valid PCRE)
    tenant: str             # how to extract the tenant: label | host | none | {group} (see catalog.txt header)
    confidence: str         # high | medium | low
    severity: str           # high | medium | low | info  (for a non-browser or beaconing hit)
    references: tuple[str, ...] = ()
    source: str = ""        # "file:line" where the entry was defined
    # --- added by the catalogue owner (defaults keep the original constructor valid) ---
    bare_severity: str = "info"  # severity of a bare hit (one contact, browser client)
    pattern: str = ""            # the pattern as written in the file (template for structural)
    labels: int = 0              # specificity: labels the pattern spans (suffix: +1 for the required label)

    def describe(self) -> str:
        """Short human text: ``Cloudflare Workers (workers.dev)``."""
        return f"{self.platform} ({self.pattern or self.suffix})"


@dataclass
class Catalog:
    entries: list[CatalogEntry] = field(default_factory=list)

    def by_id(self, entry_id: str) -> CatalogEntry | None:
        return next((e for e in self.entries if e.id == entry_id), None)

    def platforms(self) -> list[str]:
        return sorted({e.platform for e in self.entries})


class CatalogErrors(CatalogError):
    """Several bad lines in catalogue/intel/allowlist files; ``errors`` holds each one.

    ``str()`` is one ``file:line: reason`` per line, so the CLI can print it as is.
    """

    def __init__(self, errors: list[CatalogError]):
        self.errors = list(errors)
        first = self.errors[0]
        super().__init__(first.message, first.path, first.line)

    def __str__(self) -> str:
        shown = [str(e) for e in self.errors[:50]]
        if len(self.errors) > 50:
            shown.append(f"... and {len(self.errors) - 50} more bad lines")
        return "\n".join(shown)


def builtin_catalog_path() -> Path:
    """Path of the shipped catalogue (inside the package, so it works from a wheel)."""
    return Path(str(resources.files("analyzer") / "data" / "catalog.txt"))


def load_catalog(extra_files: tuple[str, ...] | list[str] = ()) -> Catalog:
    """Load the built-in catalogue plus ``extra_files`` (``--catalog FILE``), validating every line.

    Extra files use the same format and see the built-in ``@define``s. An entry whose id is
    already defined by an earlier file replaces it (that is how a site re-rates a platform);
    a duplicate id inside one file is an error. Raises :class:`CatalogErrors` listing every bad
    line of every file.
    """
    builtin = builtin_catalog_path()
    entries: dict[str, CatalogEntry] = {}
    errors: list[CatalogError] = []
    base_defines: dict[str, str] = {}
    for index, path in enumerate([builtin, *map(Path, extra_files)]):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            errors.append(CatalogError(f"cannot read catalogue: {exc}", str(path)))
            continue
        label = _display_path(path, builtin)
        file_entries, defines = parse_catalog(text, label, dict(base_defines), errors)
        if index == 0:
            base_defines = defines
        for entry in file_entries:
            entries[entry.id] = entry
    if errors:
        raise CatalogErrors(errors)
    return Catalog(entries=list(entries.values()))


def _display_path(path: Path, builtin: Path) -> str:
    return "analyzer/data/catalog.txt" if path == builtin else str(path)


def parse_catalog(text: str, path: str, defines: dict[str, str],
                  errors: list[CatalogError]) -> tuple[list[CatalogEntry], dict[str, str]]:
    """Parse one catalogue file. Bad lines are appended to ``errors`` (never raised here).

    ``defines`` holds the label regexes visible to this file; the file's own ``@define`` lines
    are added to it and the result is returned.
    """
    entries: list[CatalogEntry] = []
    seen: dict[str, int] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue

        def bad(reason: str) -> None:
            errors.append(CatalogError(reason, path, lineno))  # noqa: B023 - used immediately

        if line.startswith("@"):
            m = _DEFINE.fullmatch(line)
            if not m:
                bad("bad directive: expected '@define name = regex'")
                continue
            name, regex = m.group(1), m.group(2).strip()
            problem = _check_define(regex)
            if problem:
                bad(f"@define {name}: {problem}")
                continue
            defines[name] = regex
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != len(FIELDS):
            bad(f"expected {len(FIELDS)} '|'-separated fields ({', '.join(FIELDS)}), found {len(parts)}")
            continue
        try:
            entry = _make_entry(dict(zip(FIELDS, parts)), defines, f"{path}:{lineno}")
        except ValueError as exc:
            bad(str(exc))
            continue
        if entry.id in seen:
            bad(f"duplicate id {entry.id!r} (first defined on line {seen[entry.id]})")
            continue
        seen[entry.id] = lineno
        entries.append(entry)
    return entries, defines


def _check_define(regex: str) -> str | None:
    if "(?P<" in regex or "(?<" in regex:
        return "named groups are not allowed in a define (use {group:def} in the pattern)"
    try:
        re.compile(regex)
    except re.error as exc:
        return f"invalid regex: {exc}"
    if re.fullmatch(regex, ""):
        return "regex matches the empty string"
    return None


def _make_entry(f: dict[str, str], defines: dict[str, str], source: str) -> CatalogEntry:
    """Validate one data line and build its entry; raises ValueError with the reason."""
    if not _ID.fullmatch(f["id"]):
        raise ValueError(f"bad id {f['id']!r}: use lower-case letters, digits and '-'")
    for key in ("platform", "provider"):
        if not f[key]:
            raise ValueError(f"{key} is empty")
    _one_of("category", f["category"], CATEGORIES)
    _one_of("kind", f["kind"], KINDS)
    _one_of("confidence", f["confidence"], CONFIDENCES)
    severity, _, bare = f["severity"].partition(">")
    severity, bare = severity.strip(), (bare.strip() or "info")
    _one_of("severity", severity, SEVERITIES)
    _one_of("bare-hit severity", bare, SEVERITIES)
    if SEVERITIES.index(bare) < SEVERITIES.index(severity):
        raise ValueError(f"bare-hit severity {bare!r} is above the non-browser severity {severity!r}")
    references = tuple(r.strip() for r in f["references"].split(";") if r.strip())
    pattern, kind, tenant = f["pattern"], f["kind"], f["tenant"]
    regex: str | None = None
    if kind in ("suffix", "exact"):
        if pattern != pattern.lower() or not _HOSTNAME.fullmatch(pattern):
            raise ValueError(f"bad {kind} pattern {pattern!r}: need a lower-case hostname of two labels or more")
        anchor = pattern
        labels = pattern.count(".") + 1 + (1 if kind == "suffix" else 0)
        groups: set[str] = set()
    else:
        anchor, regex, labels, groups = compile_template(pattern, defines)
    if tenant in ("host", "none"):
        pass
    elif tenant == "label":
        if kind != "suffix":
            raise ValueError("tenant 'label' (the label left of the suffix) needs kind 'suffix'")
    elif (m := _TENANT_GROUP.fullmatch(tenant)) is not None:
        if m.group(1) not in groups:
            raise ValueError(f"tenant {tenant!r} names no capture group of the pattern")
    else:
        raise ValueError(f"bad tenant {tenant!r}: use label, host, none or {{group}}")
    return CatalogEntry(
        id=f["id"], platform=f["platform"], provider=f["provider"], category=f["category"],
        kind=kind, suffix=anchor, regex=regex, tenant=tenant, confidence=f["confidence"],
        severity=severity, references=references, source=source, bare_severity=bare,
        pattern=pattern, labels=labels,
    )


def _one_of(what: str, value: str, allowed: Iterable[str]) -> None:
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"bad {what} {value!r}: expected one of {', '.join(allowed)}")


def compile_template(template: str, defines: dict[str, str]) -> tuple[str, str, int, set[str]]:
    """Compile a structural template to ``(anchor, regex, labels, capture groups)``.

    The anchor is the run of trailing literal labels (at least two, so that the automaton
    never anchors on a bare TLD); at least one label before it must hold a placeholder.
    """
    body, wildcard = template, False
    if body.startswith("*."):
        body, wildcard = body[2:], True
    labels = body.split(".")
    if any(not label for label in labels):
        raise ValueError(f"bad structural pattern {template!r}: empty label")
    anchor_labels: list[str] = []
    for label in reversed(labels):
        if "{" in label:
            break
        anchor_labels.insert(0, label)
    if len(anchor_labels) < 2:
        raise ValueError(f"bad structural pattern {template!r}: it must end in two literal labels or more")
    if len(anchor_labels) == len(labels):
        raise ValueError(f"bad structural pattern {template!r}: no placeholder (use kind suffix or exact)")
    groups: set[str] = set()
    parts: list[str] = []
    for label in labels:
        pos, out = 0, []
        for m in _PLACEHOLDER.finditer(label):
            out.append(_literal(label[pos:m.start()], template))
            group, name = m.group(1), m.group(2)
            if name not in defines:
                raise ValueError(f"bad structural pattern {template!r}: {{{name}}} is not defined (@define)")
            if group:
                if group in groups:
                    raise ValueError(f"bad structural pattern {template!r}: group {group!r} used twice")
                groups.add(group)
                out.append(f"(?P<{group}>{defines[name]})")
            else:
                out.append(f"(?:{defines[name]})")
            pos = m.end()
        out.append(_literal(label[pos:], template))
        parts.append("".join(out))
    prefix = r"(?:[a-z0-9_-]+\.)*" if wildcard else ""
    regex = "^" + prefix + r"\.".join(parts) + "$"
    try:
        re.compile(regex)
    except re.error as exc:
        raise ValueError(f"bad structural pattern {template!r}: {exc}") from exc
    return ".".join(anchor_labels), regex, len(labels), groups


def _literal(text: str, template: str) -> str:
    if text and not _LITERAL.fullmatch(text):
        raise ValueError(f"bad structural pattern {template!r}: unexpected characters in {text!r}")
    return text  # [a-z0-9_-] only: nothing to escape, and the regex stays readable in RE2/PCRE too
