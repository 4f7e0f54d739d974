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
    assert len(rules) == 3 * len(sample_catalog().entries)
    sids = [sid_of(r) for r in rules]
    assert len(set(sids)) == len(sids)
    assert all(1_200_000 <= s < 1_200_000 + export.SID_BLOCK for s in sids)
    assert sorted(r.split()[1] for r in rules) == sorted(["dns", "tls", "http"] * 8)
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
    assert sum("threshold:" in r for r in rules) == 3 * 5   # five low/info entries
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
    assert len(rules) == 3
    for rule in rules:
        assert rule.count("sid:") == 1 and rule.endswith("rev:1;)")
        assert "alert ip" not in rule.split("(", 1)[0]
        assert '|22|' in rule                       # the quote in the suffix became hex
    if HAS_SURICATA:
        _assert_suricata_accepts(Catalog([evil, *sample_catalog().entries]))


def test_bad_sid_base_is_rejected():
    with pytest.raises(ValueError):
        export.export_suricata(sample_catalog(), sid_base=0)
    with pytest.raises(ValueError):
        export.export_suricata(sample_catalog(), sid_base=2**32 - 10)


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
    out = tmp_path / "sub" / "serverless.rules"
    result = CliRunner().invoke(cli, ["export", "suricata", "--out", str(out), "--sid-base", "5000000"])
    assert result.exit_code == 0, result.output
    assert result.output == ""
    rules = rules_of(out.read_text())
    assert len(rules) == 24 and min(sid_of(r) for r in rules) >= 5_000_000
    result = CliRunner().invoke(cli, ["export", "zeek"])
    assert result.exit_code == 0 and result.output.startswith("#fields\tsuffix\tid\t")
    assert "cloudflare-workers" in result.output


def test_cli_export_rejects_unknown_format():
    result = CliRunner().invoke(cli, ["export", "snort"])
    assert result.exit_code == 2 and "snort" in result.output


# ------------------------------------------------------------------------------- with Suricata


def _assert_suricata_accepts(catalog: Catalog) -> None:
    from analyzer.replay import validate_rules

    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        rules = Path(tmp) / "serverless.rules"
        rules.write_text(export.export_suricata(catalog))
        validate_rules(rules)            # raises InputError with Suricata's message on failure
        loaded = subprocess.run(["suricata", "-T", "-c", str(_replay_yaml()), "-S", str(rules),
                                 "-l", tmp, "-v"], capture_output=True, text=True)
        m = re.search(r"(\d+) rules successfully loaded, (\d+) rules failed", loaded.stdout + loaded.stderr)
        assert m and int(m.group(1)) == len(rules_of(rules.read_text())) and m.group(2) == "0"


def _replay_yaml() -> Path:
    return ROOT / "analyzer" / "data" / "suricata-replay.yaml"


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
    http_alerts = [ev for ev in events if ev["event_type"] == "alert" and "http" in ev]
    assert sum(len(t) for t in requests.values()) == 26        # 24 beacon + 2 browser requests
    assert 2 <= len(http_alerts) == expected < 26
