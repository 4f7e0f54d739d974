"""Network-only client knowledge: is this User-Agent or TLS fingerprint a browser or a tool?

Without the process name, the best substitutes are the User-Agent family (cleartext or decrypted
HTTP only), the JA4 family (a browser UA with a non-browser JA4 is a spoofed tool), a missing ALPN
in JA4, and a few JA3/JA4 values of known tools. The data lives in ``analyzer/data/clients.toml``.
A JA4 identifies a TLS *library*, not malware: Go, Python and SChannel collide with implants, so a
hit is a "non-browser" signal, never an attribution.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from analyzer.catalog import CatalogErrors
from analyzer.errors import CatalogError

__all__ = ["ClientInfo", "ToolFingerprint", "classify_user_agent", "is_browser_ua", "classify_ja4",
           "is_known_tool_fingerprint", "ja4_alpn_missing", "load_clients"]


@dataclass(frozen=True)
class ClientInfo:
    family: str      # e.g. "python-requests", "powershell", "browser", "empty", "unknown"
    browser: bool
    label: str
    #: a scripting runtime or attack tool (PowerShell, curl, certutil ...), not an OS service
    #: (Windows CryptoAPI fetching revocation lists) or an unrecognised client
    tool: bool = False


@dataclass(frozen=True)
class ToolFingerprint:
    kind: str        # ja3 | ja4
    value: str
    label: str
    browser: bool
    source: str


@dataclass(frozen=True)
class _UaRule:
    family: str
    regex: re.Pattern[str]
    browser: bool
    label: str
    tool: bool


@dataclass(frozen=True)
class Clients:
    user_agents: tuple[_UaRule, ...]
    ja4_exact: dict[str, ToolFingerprint]
    ja4_families: tuple[tuple[str, str, ToolFingerprint], ...]   # (prefix, cipher hash, info)
    ja3: dict[str, ToolFingerprint]


_EMPTY = ClientInfo("empty", False, "empty User-Agent", True)
_UNKNOWN = ClientInfo("unknown", False, "unrecognized non-browser User-Agent")


def classify_user_agent(ua: str | None) -> ClientInfo:
    """Family of a User-Agent; the first rule of clients.toml that matches wins.

    None, '' and Zeek's '-' are family "empty" (a .NET/WinHTTP default or a custom implant);
    anything no rule knows is "unknown", which counts as non-browser.
    """
    if ua is None or not ua.strip() or ua.strip() == "-":
        return _EMPTY
    text = ua[:1024]  # bound regex work on attacker-sized headers
    for rule in load_clients().user_agents:
        if rule.regex.search(text):
            return ClientInfo(rule.family, rule.browser, rule.label, rule.tool)
    return _UNKNOWN


def is_browser_ua(ua: str | None) -> bool:
    return classify_user_agent(ua).browser


def classify_ja4(ja4: str | None) -> ToolFingerprint | None:
    """A known JA4 (exact tool value first, then browser family by prefix + cipher hash), or None."""
    if not ja4:
        return None
    value = ja4.strip().lower()
    clients = load_clients()
    if value in clients.ja4_exact:
        return clients.ja4_exact[value]
    parts = value.split("_")
    if len(parts) == 3:
        for prefix, cipher, info in clients.ja4_families:
            if parts[0].startswith(prefix) and parts[1] == cipher:
                return info
    return None


def is_known_tool_fingerprint(ja3: str | None = None, ja4: str | None = None) -> ToolFingerprint | None:
    """The known non-browser tool this JA3 or JA4 belongs to, or None (browser or unknown)."""
    if ja4:
        info = classify_ja4(ja4)
        if info is not None and not info.browser:
            return info
    if ja3:
        return load_clients().ja3.get(ja3.strip().lower())
    return None


def ja4_alpn_missing(ja4: str | None) -> bool:
    """True when a JA4 says the client offered no ALPN ('00'), which modern browsers never do."""
    return bool(ja4) and len(ja4) >= 10 and ja4[8:10] == "00"  # type: ignore[index]


@functools.cache
def load_clients(path: str | None = None) -> Clients:
    """Load and validate clients.toml (the shipped one by default); bad entries raise CatalogErrors."""
    file = Path(path) if path else Path(str(resources.files("analyzer") / "data" / "clients.toml"))
    shown = str(file) if path else "analyzer/data/clients.toml"
    text = file.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"not valid TOML: {exc}", shown) from exc
    lines = _table_lines(text)
    errors: list[CatalogError] = []

    def bad(kind: str, index: int, reason: str) -> None:
        where = lines.get(kind, [])
        errors.append(CatalogError(reason, shown, where[index] if index < len(where) else None))

    uas: list[_UaRule] = []
    for i, item in enumerate(data.get("user_agent", [])):
        try:
            uas.append(_UaRule(str(item["family"]), re.compile(item["match"]), bool(item["browser"]),
                               str(item["label"]), bool(item.get("tool", not item["browser"]))))
        except KeyError as exc:
            bad("user_agent", i, f"missing key {exc}")
        except re.error as exc:
            bad("user_agent", i, f"bad regex: {exc}")
    exact: dict[str, ToolFingerprint] = {}
    families: list[tuple[str, str, ToolFingerprint]] = []
    for i, item in enumerate(data.get("ja4", [])):
        try:
            label, browser, source = str(item["label"]), bool(item["browser"]), str(item.get("source", ""))
        except KeyError as exc:
            bad("ja4", i, f"missing key {exc}")
            continue
        if "value" in item:
            value = str(item["value"]).lower()
            exact[value] = ToolFingerprint("ja4", value, label, browser, source)
        elif "prefix" in item and "cipher" in item:
            info = ToolFingerprint("ja4", f"{item['prefix']}*_{item['cipher']}_*", label, browser, source)
            families.append((str(item["prefix"]).lower(), str(item["cipher"]).lower(), info))
        else:
            bad("ja4", i, "need value, or prefix and cipher")
    ja3: dict[str, ToolFingerprint] = {}
    for i, item in enumerate(data.get("ja3", [])):
        value = str(item.get("hash", "")).lower()
        if not re.fullmatch(r"[0-9a-f]{32}", value):
            bad("ja3", i, f"bad hash {value!r}: expected 32 hex digits")
            continue
        ja3[value] = ToolFingerprint("ja3", value, str(item.get("label", "")), False, str(item.get("source", "")))
    if errors:
        raise CatalogErrors(errors)
    return Clients(tuple(uas), exact, tuple(families), ja3)


def _table_lines(text: str) -> dict[str, list[int]]:
    """Line numbers of each ``[[kind]]`` header, so a bad table is reported as file:line."""
    out: dict[str, list[int]] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        m = re.fullmatch(r"\s*\[\[\s*([a-z0-9_]+)\s*\]\]\s*", line)
        if m:
            out.setdefault(m.group(1), []).append(lineno)
    return out
