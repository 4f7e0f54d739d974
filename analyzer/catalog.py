"""The serverless catalogue: hostname patterns of serverless, edge and tunnel platforms.

CONTRACT (other modules rely on these names; the catalogue owner may add fields but not rename):
``load_catalog(extra_files=()) -> Catalog``; ``Catalog.entries: list[CatalogEntry]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CatalogEntry:
    id: str                 # stable slug, e.g. "cloudflare-workers"
    platform: str           # "Cloudflare Workers"
    provider: str           # "Cloudflare"
    category: str           # faas-edge | app-platform | tunnel | request-bin
    kind: str               # suffix | structural | exact
    suffix: str             # the literal the automaton anchors on: "workers.dev", "on.aws", "script.google.com"
    regex: str | None       # structural kind: anchored full-name regex (Python re syntax, also valid PCRE)
    tenant: str             # how to extract the tenant (documented in the catalogue file's header)
    confidence: str         # high | medium | low
    severity: str           # high | medium | low | info
    references: tuple[str, ...] = ()
    source: str = ""        # "file:line" where the entry was defined


@dataclass
class Catalog:
    entries: list[CatalogEntry] = field(default_factory=list)


def load_catalog(extra_files: tuple[str, ...] | list[str] = ()) -> Catalog:  # pragma: no cover - replaced
    raise NotImplementedError("catalogue loader not written yet")
