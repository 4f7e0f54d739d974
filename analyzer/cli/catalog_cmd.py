"""CLI for the catalog command(s). COMMANDS lists the click commands this module registers.

``catalog`` prints the serverless catalogue; ``explain`` shows how names normalize and what they
match. Both are thin layers over :mod:`analyzer.catalog`, :mod:`analyzer.normalize` and
:mod:`analyzer.matcher`. Everything printed that came from outside (names, files) goes through
:func:`safe` so a crafted name cannot drive the terminal.
"""

from __future__ import annotations

import json
import re

import click
from tabulate import tabulate

from analyzer.catalog import Catalog, CatalogEntry, load_catalog
from analyzer.cli.common import fail
from analyzer.errors import AnalyzerError
from analyzer.intel import read_intel
from analyzer.matcher import Matcher

# C0/C1 controls, DEL, and Unicode bidi/format characters that reorder or hide text on a terminal.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def safe(text: object) -> str:
    """Escape control and bidi characters (as \\xNN / \\uNNNN) in text bound for a terminal."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                       else f"\\u{ord(m.group()):04x}", str(text))


catalog_file_option = click.option(
    "--catalog", "catalog_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
    help="Extra catalogue file (same format as the built-in one); repeatable.")


def _load(catalog_files: tuple[str, ...]) -> Catalog:
    try:
        return load_catalog(catalog_files)
    except AnalyzerError as exc:
        fail(exc)


@click.command("catalog")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@catalog_file_option
def catalog_command(fmt: str, catalog_files: tuple[str, ...]) -> None:
    """Print the serverless catalogue: platforms, hostname patterns, tenant keys, severities.

    \b
    Example:
      serverless-c2 catalog
      serverless-c2 catalog --format json --catalog site-extra.txt
    """
    catalog = _load(catalog_files)
    if fmt == "json":
        click.echo(json.dumps([_entry_dict(e) for e in catalog.entries], indent=2))
        return
    rows = [[safe(v) for v in (e.id, e.platform, e.category, e.kind, e.pattern or e.suffix, e.tenant,
                                e.confidence, f"{e.severity}>{e.bare_severity}")] for e in catalog.entries]
    click.echo(tabulate(rows, headers=["id", "platform", "category", "kind", "pattern", "tenant", "conf",
                                       "severity"]))
    click.echo(f"{len(catalog.entries)} entries, {len(catalog.platforms())} platforms", err=True)


def _entry_dict(e: CatalogEntry) -> dict[str, object]:
    return {"id": e.id, "platform": e.platform, "provider": e.provider, "category": e.category,
            "kind": e.kind, "pattern": e.pattern or e.suffix, "anchor": e.suffix, "regex": e.regex,
            "tenant": e.tenant, "confidence": e.confidence, "severity": e.severity,
            "bare_severity": e.bare_severity, "references": list(e.references), "source": e.source}


@click.command("explain")
@click.argument("names", nargs=-1, required=True)
@catalog_file_option
@click.option("--intel", "intel_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Intel list of known-bad hostnames or suffixes; repeatable.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def explain_command(names: tuple[str, ...], catalog_files: tuple[str, ...], intel_files: tuple[str, ...],
                    fmt: str) -> None:
    """Show how each NAME normalizes and what it matches (platform, tenant, pattern), or why nothing.

    \b
    Example:
      serverless-c2 explain 'Update.CDN-Update.workers.dev.' evilworkers.dev
      serverless-c2 explain 3ovd2r7voh2c1hdd5r8unyjyzsahmcvn.lambda-url.il-central-1.on.aws --intel feed.txt
    """
    catalog = _load(catalog_files)
    intel = read_intel(intel_files)
    for reject in intel.rejects:
        click.echo(f"serverless-c2: warning: {safe(reject)}", err=True)
    matcher = Matcher(catalog, intel.patterns)
    results = [_explain_one(matcher, name) for name in names]
    if fmt == "json":
        click.echo(json.dumps(results, indent=2))
        return
    for result in results:
        click.echo(_render(result))


def _explain_one(matcher: Matcher, raw: str) -> dict[str, object]:
    norm, match, near = matcher.explain(raw)
    out: dict[str, object] = {"input": raw, "name": norm.name, "kind": norm.kind, "note": norm.note}
    if match is not None:
        out["match"] = {
            "platform": match.platform, "provider": match.provider, "category": match.category,
            "tenant": match.tenant, "pattern": match.pattern, "entry_id": match.entry.id,
            "confidence": match.confidence, "severity": match.severity,
            "bare_severity": match.bare_severity, "defined_at": match.entry.source,
            "intel": match.intel.describe() if match.intel else None,
        }
    else:
        out["match"] = None
    out["rejected"] = [{"entry_id": e.id, "pattern": e.pattern or e.suffix, "why": why} for e, why in near]
    return out


def _render(r: dict[str, object]) -> str:
    lines = [safe(r["input"])]
    if r["name"] is None and r["match"] is None:
        lines.append(f"  not matched: {r['kind']} ({safe(r['note'])})")
        return "\n".join(lines)
    note = f" ({safe(r['note'])})" if r["note"] else ""
    if r["name"] is None:   # not a valid name, matched by its valid last labels
        lines.append(f"  malformed:  {r['kind']}{note}")
    else:
        lines.append(f"  normalized: {safe(r['name'])} [{r['kind']}]{note}")
    m = r["match"]
    if isinstance(m, dict):
        lines.append(f"  platform:   {safe(m['platform'])} ({safe(m['provider'])}, {m['category']})")
        lines.append(f"  tenant:     {safe(m['tenant']) if m['tenant'] is not None else '-'}")
        lines.append(f"  pattern:    {safe(m['pattern'])}  [{m['entry_id']}, {safe(m['defined_at'])}]")
        lines.append(f"  confidence: {m['confidence']}; catalogue severity {m['severity']} (non-browser/beacon), "
                     f"{m['bare_severity']} (bare hit): what the exported rules use; a scan's finding takes "
                     f"its severity from its score")
        if m["intel"]:
            lines.append(f"  intel:      {safe(m['intel'])}")
    elif r["kind"] == "ip":
        lines.append("  no match: an IP literal; the catalogue matches hostnames")
    else:
        lines.append("  no match: no catalogue or intel pattern ends this name on a label boundary")
    for rej in r["rejected"]:  # type: ignore[union-attr]
        lines.append(f"  not {safe(rej['pattern'])} [{rej['entry_id']}]: {rej['why']}")
    return "\n".join(lines)


COMMANDS: list[click.Command] = [catalog_command, explain_command]
