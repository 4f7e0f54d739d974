"""analyzer.clients: non-browser User-Agent families and known JA3/JA4 (network-only substitutes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.catalog import CatalogErrors
from analyzer.clients import (classify_ja4, classify_user_agent, is_browser_ua, is_known_tool_fingerprint,
                              ja4_alpn_missing, load_clients)

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/120.0.0.0 Safari/537.36")

UAS = [
    (None, "empty", False),
    ("", "empty", False),
    ("-", "empty", False),
    ("curl/8.4.0", "curl", False),
    ("python-requests/2.31.0", "python-requests", False),
    ("Python-urllib/3.11", "python-urllib", False),
    ("Go-http-client/1.1", "go-http-client", False),
    ("Wget/1.21.4", "wget", False),
    ("Java/17.0.2", "java", False),
    ("node", "node", False),
    ("undici", "node", False),
    ("Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.19041.3031", "windows-powershell", False),
    ("Mozilla/5.0 (Windows NT 10.0; Microsoft Windows 10.0.19045; en-US) PowerShell/7.4.0", "powershell", False),
    ("Mozilla/4.0 (compatible; Win32; WinHttp.WinHttpRequest.5)", "winhttp", False),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:60.0)", "cobalt-strike-default", False),
    ("Mozilla/5.0", "minimal-mozilla", False),
    (CHROME, "browser", True),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0", "browser", True),
    ("MyCustomImplant/1.0", "unknown", False),
    ("CertUtil URL Agent", "certutil", False),
    ("Microsoft-CryptoAPI/10.0", "windows-cryptoapi", False),
]


@pytest.mark.parametrize(("ua", "family", "browser"), UAS, ids=[repr(u[0])[:30] for u in UAS])
def test_user_agent_family(ua: str | None, family: str, browser: bool) -> None:
    info = classify_user_agent(ua)
    assert (info.family, info.browser) == (family, browser)
    assert is_browser_ua(ua) is browser


@pytest.mark.parametrize(("ua", "tool"), [
    ("curl/8.4.0", True), ("CertUtil URL Agent", True), ("", True), (None, True),
    ("Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.19041.3031", True),
    ("Microsoft-CryptoAPI/10.0", False),   # Windows itself, fetching revocation lists: no tool
    ("MyCustomImplant/1.0", False), (CHROME, False),
])
def test_user_agent_tool_or_not(ua: str | None, tool: bool) -> None:
    """A scripting runtime or attack tool weighs more than an OS service or an unrecognised client."""
    assert classify_user_agent(ua).tool is tool


def test_ja4_browser_family_and_tools() -> None:
    chrome = classify_ja4("t13d1516h2_8daaf6152771_02713d6af862")
    assert chrome is not None and chrome.browser and chrome.label == "Chromium"
    assert is_known_tool_fingerprint(ja4="t13d1516h2_8daaf6152771_02713d6af862") is None   # browsers are not tools
    go = is_known_tool_fingerprint(ja4="T13D190900_9dc949149365_97f8aa674fd9")
    assert go is not None and "Go" in go.label
    assert classify_ja4("t13d1516h2_000000000000_02713d6af862") is None


def test_ja3_tool_and_unknown() -> None:
    hit = is_known_tool_fingerprint(ja3="eb88d0b3e1961a0562f006e5ce2a0b87")
    assert hit is not None and "Cobalt Strike" in hit.label
    assert is_known_tool_fingerprint(ja3="0" * 32) is None


@pytest.mark.parametrize(("ja4", "missing"), [
    ("t13d190900_9dc949149365_97f8aa674fd9", True),
    ("t13d1516h2_8daaf6152771_02713d6af862", False),
    (None, False),
    ("short", False),
])
def test_alpn_missing(ja4: str | None, missing: bool) -> None:
    assert ja4_alpn_missing(ja4) is missing


def test_bad_clients_file_reports_line(tmp_path: Path) -> None:
    path = tmp_path / "clients.toml"
    path.write_text('[[user_agent]]\nfamily = "ok"\nmatch = "^ok"\nbrowser = false\nlabel = "ok"\n\n'
                    '[[user_agent]]\nfamily = "bad"\nmatch = "("\nbrowser = false\nlabel = "bad"\n')
    with pytest.raises(CatalogErrors) as info:
        load_clients(str(path))
    assert str(info.value).startswith(f"{path}:7: bad regex")
