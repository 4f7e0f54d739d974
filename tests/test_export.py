"""Tests for analyzer/export.py and `serverless-c2 export`.

The rule text is checked three ways: its structure (sids, metadata, thresholds, escaping), its
regexes against names in Python, and Suricata itself: `suricata -T` must accept the file, and a
replay of the project's pcaps must alert on every serverless name and on no decoy.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from analyzer import export
from analyzer.catalog import Catalog, CatalogEntry
from analyzer.cli import cli

ROOT = Path(__file__).resolve().parents[1]
PCAPS = ROOT / "pcaps"
HAS_SURICATA = shutil.which("suricata") is not None
needs_suricata = pytest.mark.skipif(not HAS_SURICATA, reason="suricata not installed "
                                    "(apt-get install -t bookworm-backports suricata)")

LAMBDA_RE = r"^[a-z0-9]{32}\.lambda-url\.[a-z]{2}(?:-gov)?-[a-z]+-\d{1,2}\.on\.aws$"
APIGW_RE = r"^[a-z0-9]{10}\.execute-api\.[a-z]{2}(?:-gov)?-[a-z]+-\d{1,2}\.amazonaws\.com$"


def entry(id_: str, suffix: str, kind: str = "suffix", regex: str | None = None,
          severity: str = "info", platform: str | None = None, **kw) -> CatalogEntry:
    """A catalogue entry; ``severity`` is the bare-hit severity, the one a rule carries."""
    return CatalogEntry(id=id_, platform=platform or id_.replace("-", " ").title(),
                        provider=kw.get("provider", "Provider"), category="faas-edge", kind=kind,
                        suffix=suffix, regex=regex, tenant="", confidence=kw.get("confidence", "high"),
                        severity=kw.get("nonbrowser_severity", "high"), bare_severity=severity,
                        references=kw.get("references", ()))


def sample_catalog() -> Catalog:
    """The platforms the generated pcaps contact, with all three kinds and several severities."""
    return Catalog([
        entry("cloudflare-workers", "workers.dev", platform="Cloudflare Workers",
              references=("https://developers.cloudflare.com/workers/",)),
        entry("cloudflare-pages", "pages.dev", severity="low"),
        entry("vercel", "vercel.app"),
        entry("netlify", "netlify.app"),
        entry("azure-app-service", "azurewebsites.net", severity="medium"),
        entry("google-apps-script", "script.google.com", kind="exact"),
        entry("aws-lambda-url", "on.aws", kind="structural", regex=LAMBDA_RE, severity="high"),
        entry("aws-api-gateway", "amazonaws.com", kind="structural", regex=APIGW_RE, severity="medium"),
    ])


# Which catalogue entry each generated serverless host must alert as (pcaps/generate.py SERVERLESS).
EXPECTED_ENTRY = {
    "beacon-1.example-app.workers.dev": "cloudflare-workers",
    "relay.example-app.workers.dev": "cloudflare-workers",
    "docs.example-app.workers.dev": "cloudflare-workers",
    "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws": "aws-lambda-url",
    "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com": "aws-api-gateway",
    "script.google.com": "google-apps-script",
    "contoso-fn.azurewebsites.net": "azure-app-service",
    "api.my-fn.vercel.app": "vercel",
    "c2.example.pages.dev": "cloudflare-pages",
    "relay.example.netlify.app": "netlify",
}


def rules_of(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("alert ")]


def sid_of(rule: str) -> int:
    return int(re.search(r"\bsid:(\d+);", rule).group(1))


# --------------------------------------------------------------------------------- rule structure


def test_every_entry_gets_dns_tls_http_rules_with_unique_sids_in_range():
    text = export.export_suricata(sample_catalog(), sid_base=1_200_000)
    rules = rules_of(text)
    assert len(rules) == 5 * len(sample_catalog().entries)
    sids = [sid_of(r) for r in rules]
    assert len(set(sids)) == len(sids)
    assert all(1_200_000 <= s < 1_200_000 + export.SID_RANGE for s in sids)
    assert sorted(r.split()[1] for r in rules) == sorted(["dns", "tls", "http", "http", "quic"] * 8)
    # the four older rules of an entry keep their block; its QUIC rule is in the block after
    for rule in rules:
        assert (sid_of(rule) >= 1_200_000 + export.SID_BLOCK) == rule.startswith("alert quic"), rule
    for rule in rules:
        assert "rev:1;" in rule and "classtype:" in rule
        assert "mitre_technique_id T1583.007" in rule
        assert re.search(r"serverless_platform \S+,", rule)
        assert re.search(r"confidence (High|Medium|Low)", rule)


def test_label_boundary_and_http_port_semantics_in_rule_text():
    rules = rules_of(export.export_suricata(sample_catalog()))
    workers = [r for r in rules if "serverless_catalog_id cloudflare-workers" in r]
    dns = next(r for r in workers if r.startswith("alert dns"))
    tls = next(r for r in workers if r.startswith("alert tls"))
    http = next(r for r in workers if r.startswith("alert http"))
    # the leading dot is the label boundary and needs a label in front (the catalogue's semantics:
    # the bare apex is the vendor's site), so no dotprefix
    assert 'dns.query; content:".workers.dev"; nocase; endswith;' in dns and "dotprefix" not in dns
    assert 'tls.sni; content:".workers.dev"; nocase; endswith;' in tls
    # http.host is not lower-cased when a port is present: raw buffer, nocase, optional :port
    assert "http.host.raw;" in http and "http.host;" not in http
    assert r'pcre:"/^.+\.workers\.dev(?::\d{1,5})?$/i";' in http
    quic = next(r for r in workers if r.startswith("alert quic"))
    assert 'flow:to_server; quic.sni; content:".workers.dev"; nocase; endswith;' in quic
    assert "flow:established" not in quic           # the client's hello is the flow's first packet
    lam = next(r for r in rules if "aws-lambda-url" in r and r.startswith("alert tls"))
    assert 'content:".on.aws"; nocase; endswith; pcre:"/^(?:' in lam and "dotprefix" not in lam


@pytest.mark.parametrize("name,matches", [
    ("workers.dev", False), ("a.workers.dev", True), ("workers.dev:443", False), ("Relay.Example-App.Workers.DEV:8080", True),
    ("x.workers.dev:80", True), ("evilworkers.dev", False), ("workers.dev.evil.com", False),
    ("workers.dev:8080x", False), ("xworkers.dev:80", False),
])
def test_http_host_pcre_semantics(name, matches):
    http = next(r for r in rules_of(export.export_suricata(sample_catalog()))
                if "cloudflare-workers" in r and r.startswith("alert http"))
    body, flags = re.search(r'pcre:"/(.*)/(\w*)";', http).groups()
    assert flags == "i"
    assert bool(re.search(body, name, re.IGNORECASE)) is matches


def test_structural_pcre_checks_the_whole_name():
    rule = next(r for r in rules_of(export.export_suricata(sample_catalog()))
                if "aws-lambda-url" in r and r.startswith("alert dns"))
    body = re.search(r'pcre:"/(.*)/i";', rule).group(1)
    assert re.search(body, "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws")
    assert not re.search(body, "www.on.aws")
    assert not re.search(body, "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws.example.com")


def test_thresholds_only_on_informational_rules_and_can_be_switched_off():
    rules = rules_of(export.export_suricata(sample_catalog(), threshold_seconds=120))
    for rule in rules:
        limited = "threshold: type limit, track by_src, count 1, seconds 120;" in rule
        info = "signature_severity Informational" in rule
        assert limited == info, rule
    assert sum("threshold:" in r for r in rules) == 4 * 5   # five low/info entries: dns, tls, http, quic
    assert not any("threshold:" in r for r in rules_of(
        export.export_suricata(sample_catalog(), threshold_seconds=None)))


def test_sids_are_stable_when_entries_are_added():
    before = {r.split("msg:")[1].split(";")[0]: sid_of(r)
              for r in rules_of(export.export_suricata(sample_catalog()))}
    grown = Catalog(sample_catalog().entries + [entry(f"extra-{i}", f"x{i}.example") for i in range(50)])
    after = {r.split("msg:")[1].split(";")[0]: sid_of(r) for r in rules_of(export.export_suricata(grown))}
    assert all(after[msg] == sid for msg, sid in before.items())
    assert len(set(after.values())) == len(after)


def test_hostile_catalogue_text_cannot_break_out_of_a_rule():
    evil = entry('x"; sid:1; alert ip any any -> any any (msg:"pwn', 'ev"il;|x.example',
                 platform='P"; pcre:"/a/"; \\ ', kind="structural",
                 regex=r'^[a-z]+\.ev"il;\/|x\.example$',
                 references=('https://example.com/a";b',))
    rules = rules_of(export.export_suricata(Catalog([evil])))
    assert len(rules) == 5
    for rule in rules:
        assert rule.count("sid:") == 1 and rule.endswith("rev:1;)")
        assert "alert ip" not in rule.split("(", 1)[0]
        assert '|22|' in rule                       # the quote in the suffix became hex
    if HAS_SURICATA:
        _assert_suricata_accepts(Catalog([evil, *sample_catalog().entries]))


def test_duplicate_ids_are_rejected_rather_than_sharing_sids():
    cat = Catalog([entry("dup", "a.example"), entry("dup", "b.example")])
    with pytest.raises(ValueError, match="dup"):
        export.export_suricata(cat)


def test_a_newline_in_catalogue_text_cannot_start_a_rule_line():
    evil = entry("x\nalert ip any any -> any any (sid:1;)", "a.example", platform="P\nalert tcp")
    text = export.export_suricata(Catalog([evil]))
    assert all(line.startswith(("#", "alert http", "alert dns", "alert tls", "alert quic"))
               for line in text.splitlines())
    assert len(rules_of(text)) == 5


def test_bad_sid_base_is_rejected():
    with pytest.raises(ValueError):
        export.export_suricata(sample_catalog(), sid_base=0)
    with pytest.raises(ValueError):
        export.export_suricata(sample_catalog(), sid_base=2**32 - 10)
    with pytest.raises(ValueError):     # room for the four first blocks, not for the QUIC rules after them
        export.export_suricata(sample_catalog(), sid_base=2**32 - 1 - export.SID_BLOCK - 10)


# ------------------------------------------------------------------------------------ zeek table


def test_zeek_pattern_translation():
    assert export.zeek_pattern(r"^[a-z]{2}(?:-gov)?-\d{1,2}\.on\.aws$") == r"[a-z]{2}(-gov)?-[0-9]{1,2}\.on\.aws"
    assert export.zeek_pattern(r"^(?=x)abc$") is None            # lookahead
    assert export.zeek_pattern(r"^a+?b$") is None                # lazy quantifier
    assert export.zeek_pattern(r"^a/b$") is None                 # would end a Zeek /pattern/


def test_export_zeek_table_shape():
    cat = Catalog(sample_catalog().entries
                  + [entry("untranslatable", "x.example", kind="structural", regex=r"^(?=a)a\.x\.example$")])
    text = export.export_zeek(cat)
    lines = text.splitlines()
    header = lines[0].split("\t")
    assert header == ["#fields", *export.ZEEK_FIELDS]
    rows = [line.split("\t") for line in lines[1:]]
    assert all(len(r) == len(export.ZEEK_FIELDS) for r in rows)
    by_id = {r[1]: dict(zip(export.ZEEK_FIELDS, r)) for r in rows}
    assert set(by_id) == {e.id for e in sample_catalog().entries}   # the untranslatable one is left out
    assert export.skipped_for_zeek(cat) == ["untranslatable"]
    assert by_id["cloudflare-workers"]["regex"] == "-"
    assert by_id["cloudflare-workers"]["tenant"] == "label"
    assert by_id["aws-lambda-url"]["tenant"] == "first"
    assert by_id["google-apps-script"]["tenant"] == "none"
    assert by_id["aws-lambda-url"]["regex"] == r"[a-z0-9]{32}\.lambda-url\.[a-z]{2}(-gov)?-[a-z]+-[0-9]{1,2}\.on\.aws"
    assert by_id["aws-lambda-url"]["suffix"] == "on.aws"


def test_export_zeek_never_lets_a_tab_or_newline_split_a_row():
    cat = Catalog([entry("a", "a.example", platform="Evil\tPlatform\nname")])
    lines = export.export_zeek(cat).splitlines()
    assert len(lines) == 2 and lines[1].split("\t")[2] == "Evil Platform name"


# ------------------------------------------------------------------------------------------- CLI


def test_cli_export_writes_file_and_stdout(tmp_path, monkeypatch):
    monkeypatch.setattr("analyzer.catalog.load_catalog", lambda extra=(): sample_catalog())
    out = tmp_path / "serverless.rules"
    result = CliRunner().invoke(cli, ["export", "suricata", "--out", str(out), "--sid-base", "5000000"])
    assert result.exit_code == 0, result.output
    assert result.output == ""
    rules = rules_of(out.read_text())
    assert len(rules) == 40 and min(sid_of(r) for r in rules) >= 5_000_000
    assert out.stat().st_mode & 0o777 == 0o644            # readable by a sensor's own user
    assert [p.name for p in tmp_path.iterdir()] == ["serverless.rules"]   # no temp file left
    result = CliRunner().invoke(cli, ["export", "zeek"])
    assert result.exit_code == 0 and result.output.startswith("#fields\tsuffix\tid\t")
    assert "cloudflare-workers" in result.output


def test_cli_export_with_an_extra_catalogue_file(tmp_path):
    extra = tmp_path / "extra.txt"
    extra.write_text("acme-fn | Acme Functions | Acme | faas-edge | suffix | fn.acme-cloud.example"
                     " | label | high | high>low | https://acme.example/docs\n")
    result = CliRunner().invoke(cli, ["export", "suricata", "--catalog", str(extra)])
    assert result.exit_code == 0, result.output
    acme = [r for r in rules_of(result.output) if "serverless_catalog_id acme-fn" in r]
    assert len(acme) == 5 and all('content:"fn.acme-cloud.example"' in r or
                                  'content:".fn.acme-cloud.example"' in r for r in acme)
    assert all("reference:url,acme.example/docs;" in r for r in acme)


def test_cli_export_errors_go_to_stderr_with_exit_2(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("not a catalogue line\n")
    result = CliRunner().invoke(cli, ["export", "suricata", "--catalog", str(bad)])
    assert result.exit_code == 2 and f"{bad}:1:" in result.output and "alert" not in result.output
    result = CliRunner().invoke(cli, ["export", "zeek", "--out", str(tmp_path / "missing" / "x.tsv")])
    assert result.exit_code == 2 and "cannot write" in result.output
    assert not (tmp_path / "missing").exists()


def test_cli_export_rejects_unknown_format():
    result = CliRunner().invoke(cli, ["export", "snort"])
    assert result.exit_code == 2 and "snort" in result.output


# ------------------------------------------------------------------------------- with Suricata


def _assert_suricata_accepts(catalog: Catalog) -> None:
    """`suricata -T` loads every exported rule: none failed, none silently dropped."""
    from analyzer.replay import replay_config, validate_rules

    with tempfile.TemporaryDirectory() as tmp:
        rules = Path(tmp) / "serverless.rules"
        rules.write_text(export.export_suricata(catalog))
        validate_rules(rules)            # raises InputError with Suricata's message on failure
        loaded = subprocess.run(["suricata", "-T", "-c", str(replay_config()), "-S", str(rules),
                                 "-l", tmp, "-v"], capture_output=True, text=True)
        m = re.search(r"(\d+) rules successfully loaded, (\d+) rules failed", loaded.stdout + loaded.stderr)
        assert m and int(m.group(1)) == len(rules_of(rules.read_text())) and m.group(2) == "0"


@needs_suricata
def test_suricata_accepts_the_sample_rules():
    _assert_suricata_accepts(sample_catalog())


@needs_suricata
def test_suricata_rejects_what_the_exporter_avoids(tmp_path):
    """Negative control: `http.host` with `nocase` is invalid, so validate_rules must fail on it."""
    from analyzer.errors import InputError
    from analyzer.replay import validate_rules

    bad = tmp_path / "bad.rules"
    bad.write_text('alert http any any -> any any (msg:"x"; http.host; content:"A"; nocase; sid:1; rev:1;)\n')
    with pytest.raises(InputError, match="rejected"):
        validate_rules(bad)


def _alerts(eve: Path) -> list[dict]:
    return [e for e in map(json.loads, eve.read_text().splitlines()) if e["event_type"] == "alert"]


def _alert_name(ev: dict) -> str:
    if "dns" in ev:
        q = ev["dns"].get("query") or ev["dns"].get("queries") or [{}]
        return q[0].get("rrname", "")
    if "tls" in ev:
        return ev["tls"].get("sni", "")
    return ev.get("http", {}).get("hostname", "")


def _entry_of(ev: dict) -> str:
    return ev["alert"]["metadata"]["serverless_catalog_id"][0]


def _proto_of(ev: dict) -> str:
    return next(p for p in ("dns", "tls", "http") if p in ev)


@pytest.fixture(scope="module")
def replayed(tmp_path_factory):
    """Every project pcap replayed with the sample rules (no thresholds, so every match shows)."""
    if not HAS_SURICATA:
        pytest.skip("suricata not installed")
    from analyzer.replay import replay_pcaps

    tmp = tmp_path_factory.mktemp("rules")
    rules = tmp / "serverless.rules"
    rules.write_text(export.export_suricata(sample_catalog(), threshold_seconds=None))
    pcaps = sorted(PCAPS.glob("*.pcap"))
    assert pcaps, "pcaps/ is empty: run python pcaps/generate.py"
    eves = replay_pcaps(pcaps, tmp / "out", rules=rules)
    return {p.name: _alerts(e) for p, e in zip(pcaps, eves)}


@needs_suricata
def test_rules_fire_on_every_serverless_name_in_every_protocol(replayed):
    got: dict[tuple[str, str], set[str]] = defaultdict(set)
    for name in ("serverless-dns.pcap", "serverless-tls.pcap", "serverless-http.pcap"):
        for ev in replayed[name]:
            got[(_proto_of(ev), _alert_name(ev).lower())].add(_entry_of(ev))
    dns = {h for (p, h) in got if p == "dns"}
    tls = {h for (p, h) in got if p == "tls"}
    http = {h for (p, h) in got if p == "http"}
    generated = {h for h in EXPECTED_ENTRY if h not in ("relay.example-app.workers.dev", "docs.example-app.workers.dev")}
    assert dns == generated
    assert tls == generated                                  # includes the mixed-case SNI API.My-Fn.Vercel.APP
    assert http == {"beacon-1.example-app.workers.dev", "relay.example-app.workers.dev",
                    "script.google.com", "contoso-fn.azurewebsites.net",
                    "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com",
                    "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws",
                    "c2.example.pages.dev"}
    for (proto, host), ids in got.items():
        assert ids == {EXPECTED_ENTRY[host]}, (proto, host, ids)


def test_non_browser_rule_uses_the_entry_severity_and_a_user_agent_pcre():
    rules = rules_of(export.export_suricata(sample_catalog()))
    nb = [r for r in rules if "non-browser HTTP client" in r]
    assert len(nb) == len(sample_catalog().entries)
    workers = next(r for r in nb if "cloudflare-workers" in r)
    # bare contact: info (rate limited); non-browser client: the entry's severity (high here)
    assert "classtype:trojan-activity;" in workers and "threshold:" not in workers
    assert "signature_severity Major" in workers
    body = re.search(r'http\.user_agent; pcre:"/(.*)/i";', workers).group(1)
    for ua in ("python-requests/2.32.3", "curl/8.5.0", "Go-http-client/1.1",
               "Mozilla/5.0 (Windows NT 10.0; Microsoft Windows 10.0.19045; en-US) PowerShell/7.4.6", "-"):
        assert re.search(body, ua, re.I), ua
    assert not re.search(body, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                               "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", re.I)


@needs_suricata
def test_non_browser_rule_fires_only_for_scripted_clients(replayed):
    nb = {_alert_name(ev).lower() for ev in replayed["serverless-http.pcap"]
          if "non-browser" in ev["alert"]["signature"]}
    assert nb == {"relay.example-app.workers.dev", "script.google.com", "contoso-fn.azurewebsites.net",
                  "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com",
                  "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws"}
    # browser requests (beacon-1 ..., c2.example.pages.dev) only get the bare Host rule
    beacon = [ev for ev in replayed["beacon-http-workers.pcap"] if "non-browser" in ev["alert"]["signature"]]
    assert {ev["src_ip"] for ev in beacon} == {"10.1.1.10"} and len(beacon) == 24


@needs_suricata
def test_upper_case_host_with_port_still_alerts(replayed):
    hosts = [ev["http"]["hostname"] for ev in replayed["serverless-http.pcap"] if "http" in ev]
    assert "Relay.Example-App.Workers.DEV" in hosts      # Suricata kept the case: http.host would miss it


@needs_suricata
def test_rules_stay_silent_on_decoys(replayed):
    assert replayed["decoys.pcap"] == []
    decoy_words = ("evil", "notvercel", "attacker", "fakeazure", "example.org", "example.com", "www.")
    for name, alerts in replayed.items():
        for ev in alerts:
            assert not any(w in _alert_name(ev).lower() for w in decoy_words), (name, ev["alert"]["signature"])


@needs_suricata
def test_threshold_rate_limits_informational_rules_per_source(tmp_path):
    """With the default 300 s limit, the 24-request Workers beacon alerts once per 300 s window."""
    from analyzer.replay import replay_pcaps

    rules = tmp_path / "serverless.rules"
    rules.write_text(export.export_suricata(sample_catalog()))
    [eve] = replay_pcaps([PCAPS / "beacon-http-workers.pcap"], tmp_path / "out", rules=rules)
    events = [json.loads(line) for line in eve.read_text().splitlines()]

    def ts(ev: dict) -> float:
        return datetime.strptime(ev["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()

    requests = defaultdict(list)
    for ev in events:
        if ev["event_type"] == "http":
            requests[ev["src_ip"]].append(ts(ev))
    expected = 0
    for times in requests.values():
        window_start = None
        for t in sorted(times):
            if window_start is None or t >= window_start + 300:
                window_start, expected = t, expected + 1
    http_alerts = [ev for ev in events if ev["event_type"] == "alert"
                   and ev["alert"]["signature"].startswith("SERVERLESS-C2 HTTP Host")]
    assert sum(len(t) for t in requests.values()) == 26        # 24 beacon + 2 browser requests
    assert 2 <= len(http_alerts) == expected < 26


ZEEK_QUIC = ROOT.parent / "shared" / "data" / "zeek" / "testing" / "btest" / "Traces" / "quic"
QUIC_CAPTURES = {   # real HTTP/3 clients (Zeek's test traces), and the SNI of each one's hello
    "chromium-115.0.5790.110-api-cirrus-com.pcap": "api.cirrus-ci.com",
    "firefox-102.13.0esr-blog-cloudflare-com.pcap": "blog.cloudflare.com",
    "curl-8.1.2-dev-http3-www-google-de.pcap": "www.google.de",
}


@needs_suricata
@pytest.mark.skipif(not ZEEK_QUIC.is_dir(), reason="../shared/data (Zeek's QUIC test traces) not present")
def test_quic_sni_rule_fires_on_real_http3_hellos_with_the_catalogue_semantics(tmp_path):
    """An implant on HTTP/3 shows its server's name only in the QUIC hello: the fifth rule sees it,
    on label boundaries like the others. Real captures stand in for serverless names (a catalogue
    naming their servers), with decoy entries that must stay silent."""
    from analyzer.replay import replay_pcaps

    cat = Catalog([
        entry("cirrus", "cirrus-ci.com"),                                # suffix: api.cirrus-ci.com
        entry("cf-blog", "blog.cloudflare.com", kind="exact"),           # exact name
        entry("decoy-boundary", "rrus-ci.com"),                          # not on a label boundary
        entry("decoy-apex", "cloudflare.com", kind="exact"),             # exact: not blog.
        entry("decoy-other", "google.com"),                              # www.google.de is not it
    ])
    rules = tmp_path / "serverless.rules"
    rules.write_text(export.export_suricata(cat, threshold_seconds=None))
    pcaps = [ZEEK_QUIC / name for name in QUIC_CAPTURES]
    eves = replay_pcaps(pcaps, tmp_path / "out", rules=rules)
    fired = {}
    for pcap, eve in zip(pcaps, eves):
        quic = [ev for ev in _alerts(eve) if ev["alert"]["signature"].startswith("SERVERLESS-C2 QUIC SNI")]
        fired[pcap.name] = {_entry_of(ev) for ev in quic}
        assert all(ev.get("quic", {}).get("sni") == QUIC_CAPTURES[pcap.name] for ev in quic)
    assert fired == {"chromium-115.0.5790.110-api-cirrus-com.pcap": {"cirrus"},
                     "firefox-102.13.0esr-blog-cloudflare-com.pcap": {"cf-blog"},
                     "curl-8.1.2-dev-http3-www-google-de.pcap": set()}


# -------------------------------------------------------------------------- the real catalogue


def _real_catalog() -> Catalog:
    from analyzer.catalog import load_catalog

    try:
        return load_catalog()
    except NotImplementedError:
        pytest.skip("load_catalog not implemented yet")


# Names of the generated pcaps with the catalogue entry the analyzer's matcher gives them.
REAL_EXPECTED = {
    "beacon-1.example-app.workers.dev": "cloudflare-workers",
    "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws": "aws-lambda-url",
    "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com": "aws-api-gateway",
    "script.google.com": "google-apps-script",
}


def test_real_catalogue_exports_every_entry_to_both_formats():
    cat = _real_catalog()
    rules = rules_of(export.export_suricata(cat))
    assert len(rules) == 5 * len(cat.entries)
    assert len({sid_of(r) for r in rules}) == len(rules)
    assert export.skipped_for_zeek(cat) == []
    rows = export.export_zeek(cat).splitlines()[1:]
    assert len(rows) == len(cat.entries)


def test_zeek_patterns_keep_the_meaning_of_the_catalogue_regexes():
    """Zeek's pattern syntax is, for the constructs the translator emits, a subset of Python's:
    the translated pattern must accept and reject the same names as the original regex."""
    cat = _real_catalog()
    names = list(REAL_EXPECTED) + [
        "evilworkers.dev", "x.lambda-url.us-east-1.on.aws", "abcdefghijklmnopqrstuvwxyz012345.lambda-url.mars-1.on.aws",
        "app-0123456789abcdef.westus-01.azurewebsites.net", "us-central1-myproject.cloudfunctions.net",
        "svc-123456.us-central1.run.app", "deploy-preview-12--site.netlify.app", "d-a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
        "1234567890-abcdefghij.ap-guangzhou.tencentscf.com", "abc.def.eastus.azurecontainerapps.io",
    ]
    checked = 0
    for e in cat.entries:
        if e.kind != "structural":
            continue
        zp = export.zeek_pattern(e.regex)
        for name in names:
            assert bool(re.fullmatch(zp, name)) == bool(re.match(e.regex, name)), (e.id, name)
            checked += bool(re.match(e.regex, name))
    assert checked >= 8


@needs_suricata
def test_real_catalogue_rules_load_and_fire_only_on_serverless_names(tmp_path):
    from analyzer.replay import replay_pcaps

    cat = _real_catalog()
    _assert_suricata_accepts(cat)
    rules = tmp_path / "serverless.rules"
    rules.write_text(export.export_suricata(cat, threshold_seconds=None))
    pcaps = [PCAPS / n for n in ("serverless-dns.pcap", "serverless-tls.pcap", "serverless-http.pcap", "decoys.pcap")]
    eves = replay_pcaps(pcaps, tmp_path / "out", rules=rules)
    by_name = defaultdict(set)
    for eve in eves[:3]:
        for ev in _alerts(eve):
            by_name[_alert_name(ev).lower()].add(_entry_of(ev))
    for name, entry_id in REAL_EXPECTED.items():
        assert entry_id in by_name[name], (name, by_name.get(name))
    # every generated serverless host alerts, each only with entries whose suffix it ends with
    assert set(by_name) == set(EXPECTED_ENTRY) - {"docs.example-app.workers.dev"}
    by_id = {e.id: e for e in cat.entries}
    for name, ids in by_name.items():
        assert all(name.endswith("." + by_id[i].suffix) or name == by_id[i].suffix for i in ids), (name, ids)
    assert _alerts(eves[3]) == []
