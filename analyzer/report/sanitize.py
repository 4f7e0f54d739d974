"""Neutralizers for attacker-controlled strings, one per output medium.

Every string that reaches the report (hostnames, tenants, User-Agents, fingerprints, reasons, file
paths, rejected log lines) came from a log an attacker can write to. HTML escaping is left to
jinja2's autoescape; this module handles what autoescape does not: control and bidi-override
characters (which spoof what an analyst reads), Markdown syntax (links, tables, raw HTML) and
spreadsheet formulas. The scan command's sanitizers (``analyzer.render``) do the work, so that scan
and report neutralize the same way (one formula rule for both CSVs: ``analyzer.render.csv_safe``).
"""

from __future__ import annotations

import re

from analyzer.render import INVISIBLE
from analyzer.render import csv_safe as _shared_csv_safe
from analyzer.render import strip_control as _shared_strip

# Any ASCII punctuation may be backslash-escaped in CommonMark/GFM. These are the characters that
# can start markup: emphasis, code, links and images (no link without an unescaped ``[``), raw HTML
# and autolinks, entities, headings, table cells, strikethrough, math. Escaping only them keeps
# prose readable where Markdown is shown raw.
_MD_PUNCT = re.compile(r"([\\`*_{}\[\]<>#|~&$])")


def clean(value: object, limit: int | None = None) -> str:
    """Printable one-line text: controls and invisible format characters are removed, tabs and newlines become spaces.

    Newlines and tabs become spaces (a value must not break a table row); other controls are
    removed by ``analyzer.render.strip_control`` (one rule for scan and report). ``limit`` truncates with an
    ellipsis, so one 1 MB User-Agent cannot bloat the page.
    """
    if value is None:
        return ""
    text = re.sub(r"[\t\n\r]", " ", str(value))
    text = _shared_strip(text)
    text = INVISIBLE.sub(lambda m: " " if m.group(0) in "\t\n\r" else "\ufffd", text)
    # lone surrogates (from undecodable input) cannot be encoded to UTF-8 pages
    text = text.encode("utf-8", "replace").decode("utf-8")
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)] + "\u2026"
    return text


def md_text(value: object, limit: int | None = None) -> str:
    """Markdown-safe prose: every character that can start markup is backslash-escaped, so nothing
    in the value becomes formatting, a link, an image, HTML or a table cell."""
    return _MD_PUNCT.sub(r"\\\1", clean(value, limit))


def md_code(value: object, limit: int | None = None, table: bool = True) -> str:
    """A value as a Markdown code span that is safe inside a GFM table cell.

    Code spans show their content literally (no links, no HTML). The fence is one backtick longer
    than the longest backtick run inside, and ``|`` is escaped because GFM splits table cells on it
    even inside code spans (and removes the backslash again when rendering); outside a table
    (``table=False``) it is left alone, so that a pasted value is exactly what was shown.
    """
    text = clean(value, limit)
    if not text:
        return ""
    if table:
        text = text.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or longest else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def csv_safe(value: object) -> str:
    """A CSV cell that a spreadsheet shows as text, never evaluates (OWASP CSV injection)."""
    return _shared_csv_safe(clean(value))
