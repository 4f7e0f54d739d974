"""analyzer.matcher: label boundaries, structural labels, specificity, intel, CNAME join-back.

The matcher must equal a naive reference (every entry tried in turn) on every input; a Hypothesis
test checks that on generated catalogues, including overlapping end-anchored patterns that
pyahocorasick's iter_long would miss.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.catalog import Catalog, CatalogEntry, load_catalog, parse_catalog
from analyzer.intel import IntelPattern
from analyzer.matcher import Matcher
from analyzer.normalize import normalize_host, valid_tail
from analyzer.store import Store


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_catalog())


def _tiny(lines: list[str], defines: dict[str, str] | None = None) -> Catalog:
    errors: list = []
    entries, _ = parse_catalog("\n".join(lines), "tiny.txt", dict(defines or {"label": "[a-z0-9]+"}), errors)
    assert not errors, [str(e) for e in errors]
    return Catalog(entries)


# ------------------------------------------------------------------ naive reference
_KIND = {"suffix": 0, "structural": 1, "exact": 2}


def naive_entry(entries: list[CatalogEntry], name: str) -> tuple[CatalogEntry, str | None] | None:
    """Try every entry; keep the most specific (labels, anchor length, kind), earliest on ties."""
    best, best_key, best_m = None, None, None
    for e in entries:
        m = None
        if e.kind == "suffix":
            ok = name.endswith("." + e.suffix)
        elif e.kind == "exact":
            ok = name == e.suffix
        else:
            m = re.fullmatch(e.regex or "", name)
            ok = m is not None
        key = (e.labels, len(e.suffix), _KIND[e.kind])
        if ok and (best_key is None or key > best_key):
            best, best_key, best_m = e, key, m
    if best is None:
        return None
    if best.tenant == "host":
        tenant = name
    elif best.tenant == "none":
        tenant = None
    elif best.tenant == "label":
        tenant = name[: -len(best.suffix) - 1].split(".")[-1]
    else:
        tenant = best_m.group(best.tenant.strip("{}"))  # type: ignore[union-attr]
    return best, tenant


def naive_intel(intel: list[IntelPattern], name: str) -> IntelPattern | None:
    best, best_key = None, None
    for p in intel:
        ok = name.endswith("." + p.pattern) or (name == p.pattern and not p.subdomains_only)
        key = (p.pattern.count(".") + 1 + p.subdomains_only, len(p.pattern))
        if ok and (best_key is None or key > best_key):
            best, best_key = p, key
    return best


def summary(m) -> tuple | None:
    return None if m is None else (m.entry.id, m.tenant, m.intel)


def naive_summary(catalog: Catalog, intel: list[IntelPattern], name: str) -> tuple | None:
    hit, ip = naive_entry(catalog.entries, name), naive_intel(intel, name)
    if hit is not None:
        return hit[0].id, hit[1], ip
    if ip is not None:
        return f"intel:{ip.source}", ip.pattern, ip
    return None


# ------------------------------------------------------------------ table-driven cases on the shipped catalogue
LAMBDA_ID = "ggjvk3v5bzopisqkf7kd5el2j40gdgcu"
CASES = [
    # (id, raw name as logged, expected entry id or None, expected tenant)
    ("boundary-subdomain", "evil.workers.dev", "cloudflare-workers", "evil"),
    ("boundary-glued-prefix", "evilworkers.dev", None, None),
    ("boundary-suffix-inside", "workers.dev.evil.com", None, None),
    ("boundary-apex", "workers.dev", None, None),
    ("worker-account-is-tenant", "update.cdn-update.workers.dev", "cloudflare-workers", "cdn-update"),
    ("trailing-dot", "evil.workers.dev.", "cloudflare-workers", "evil"),
    ("case", "EVIL.Workers.Dev", "cloudflare-workers", "evil"),
    ("port", "evil.workers.dev:443", "cloudflare-workers", "evil"),
    ("punycode", "bücher.workers.dev", "cloudflare-workers", "xn--bcher-kva"),
    ("zeek-escape", "b\\xc3\\xbccher.workers.dev", "cloudflare-workers", "xn--bcher-kva"),
    # structural labels
    ("lambda-psl-region", f"{LAMBDA_ID}.lambda-url.us-east-1.on.aws", "aws-lambda-url", LAMBDA_ID),
    ("lambda-region-missing-from-psl", f"{LAMBDA_ID}.lambda-url.il-central-1.on.aws", "aws-lambda-url", LAMBDA_ID),
    ("lambda-gov-region", f"{LAMBDA_ID}.lambda-url.us-gov-west-1.on.aws", "aws-lambda-url", LAMBDA_ID),
    ("lambda-no-id", "lambda-url.us-east-1.on.aws", None, None),
    ("lambda-short-id", "abc.lambda-url.us-east-1.on.aws", None, None),
    ("lambda-bad-region", f"{LAMBDA_ID}.lambda-url.moon-base-1.on.aws", None, None),
    ("lambda-extra-label", f"x.{LAMBDA_ID}.lambda-url.us-east-1.on.aws", None, None),
    ("execute-api", "a7x2kq9d1m.execute-api.eu-west-1.amazonaws.com", "aws-api-gateway", "a7x2kq9d1m"),
    ("execute-api-no-id", "execute-api.eu-west-1.amazonaws.com", None, None),
    ("execute-api-plain-aws", "s3.eu-west-1.amazonaws.com", None, None),
    ("cloudfunctions", "us-central1-myproj-123.cloudfunctions.net", "gcp-cloud-functions", "us-central1-myproj-123"),
    ("cloudfunctions-no-region", "myproject.cloudfunctions.net", None, None),
    ("cloud-run-regional", "api-123456789012.europe-west1.run.app", "gcp-cloud-run", "api-123456789012"),
    ("cloud-run-hash", "api-x2ab3cd4ef-uc.a.run.app", "gcp-cloud-run", "api-x2ab3cd4ef-uc"),
    ("azure-regional-strips-hash", "myapp-a6gqaeashthkhkeu.eastus-01.azurewebsites.net",
     "azure-app-service-regional", "myapp"),
    ("container-apps", "web.happyfield-1a2b3c4d.westeurope.azurecontainerapps.io", "azure-container-apps",
     "web.happyfield-1a2b3c4d"),
    ("container-apps-apex-region", "westeurope.azurecontainerapps.io", None, None),
    ("netlify-deploy-preview", "deploy-preview-42--mysite.netlify.app", "netlify-deploy", "mysite"),
    ("tencent-scf", "1364170351-5ezc7c8ssf.ap-guangzhou.tencentscf.com", "tencent-scf", "1364170351"),
    ("baidu-cfc", "39nasm720z98q.cfc-execute.bj.baidubce.com", "baidu-cfc", "39nasm720z98q"),
    # overlapping / most specific wins
    ("kudu-beats-app-service", "myapp.scm.azurewebsites.net", "azure-app-service-kudu", "myapp"),
    ("regional-ngrok", "abc.eu.ngrok.io", "ngrok-io", "abc.eu.ngrok.io"),
    ("exact-beats-suffix", "api.trycloudflare.com", "cloudflare-quick-tunnel-api", None),
    ("quick-tunnel", "hide-cruise-raises-phases.trycloudflare.com", "cloudflare-quick-tunnel",
     "hide-cruise-raises-phases.trycloudflare.com"),
    ("exact-webhook", "webhook.site", "webhook-site", None),
    ("exact-not-subdomain", "x.script.google.com", None, None),
    # the rest of the Sentinel ten
    ("pages", "preview.myproj.pages.dev", "cloudflare-pages", "myproj"),
    ("azurewebsites", "contoso-api.azurewebsites.net", "azure-app-service", "contoso-api"),
    ("netlify", "brave-curie-1a2b3c.netlify.app", "netlify", "brave-curie-1a2b3c"),
    ("vercel", "my-app-git-main-team.vercel.app", "vercel", "my-app-git-main-team"),
    ("apps-script", "script.google.com", "google-apps-script", None),
    ("apps-script-content", "script.googleusercontent.com", "google-apps-script-content", None),
    ("not-google", "google.com", None, None),
    ("ip", "10.0.0.1", None, None),
]


@pytest.mark.parametrize(("raw", "entry_id", "tenant"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_shipped_catalogue_case(matcher: Matcher, raw: str, entry_id: str | None, tenant: str | None) -> None:
    norm = normalize_host(raw)
    m = matcher.match(norm.name) if norm.kind == "hostname" and norm.name else None
    assert (m.entry.id if m else None, m.tenant if m else None) == (entry_id, tenant)
    assert summary(m) == naive_summary(matcher.catalog, [], norm.name or "")


def test_iter_long_trap_overlapping_end_anchored_patterns() -> None:
    """x.a.b.c ends with .b.c; iter_long would report only the leftmost .a.b and miss it."""
    catalog = _tiny(["ab | AB | P | faas-edge | suffix | a.b | label | high | medium | r",
                     "bc | BC | P | faas-edge | suffix | b.c | label | high | medium | r"])
    m = Matcher(catalog).match("x.a.b.c")
    assert m is not None and (m.entry.id, m.tenant) == ("bc", "a")
    assert Matcher(catalog).match("x.a.b") is not None and Matcher(catalog).match("x.a.b").entry.id == "ab"
    assert Matcher(catalog).match("x.a.b.c.d") is None


def test_longer_suffix_wins_regardless_of_order() -> None:
    lines = ["short | S | P | faas-edge | suffix | b.c | label | high | medium | r",
             "long | L | P | faas-edge | suffix | a.b.c | label | high | medium | r"]
    for ordered in (lines, lines[::-1]):
        assert Matcher(_tiny(ordered)).match("x.a.b.c").entry.id == "long"
        assert Matcher(_tiny(ordered)).match("x.z.b.c").entry.id == "short"


def test_empty_catalogue_matches_nothing() -> None:
    assert Matcher(Catalog([])).match("x.workers.dev") is None


# ------------------------------------------------------------------ intel in the same automaton
def _intel(*specs: str) -> list[IntelPattern]:
    return [IntelPattern(s.lstrip("*."), s.startswith("*."), f"feed.txt:{i + 1}", "feed.txt")
            for i, s in enumerate(specs)]


def test_intel_is_attached_to_the_catalogue_match(matcher: Matcher) -> None:
    m = Matcher(matcher.catalog, _intel("cdn-update.workers.dev")).match("update.cdn-update.workers.dev")
    assert m is not None and m.entry.id == "cloudflare-workers" and m.tenant == "cdn-update"
    assert m.intel is not None and m.intel.source == "feed.txt:1" and m.severity == "high"


def test_intel_only_name_gets_a_pseudo_entry(matcher: Matcher) -> None:
    m = Matcher(matcher.catalog, _intel("evil.example")).match("c2.evil.example")
    assert m is not None and m.category == "intel" and m.tenant == "evil.example"
    assert Matcher(matcher.catalog, _intel("evil.example")).match("notevil.example") is None


def test_intel_subdomains_only() -> None:
    mm = Matcher(Catalog([]), _intel("*.evil.example"))
    assert mm.match("evil.example") is None
    assert mm.match("a.evil.example") is not None


# ------------------------------------------------------------------ property: automaton == naive reference
LABELS = st.sampled_from(["a", "b", "c", "ab", "ba", "x-1"])


@st.composite
def catalogues(draw):
    lines = []
    for i in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["suffix", "exact", "structural"]))
        anchor = ".".join(draw(st.lists(LABELS, min_size=2, max_size=3)))
        if kind == "structural":
            head = draw(st.sampled_from(["{tenant:label}", "{tenant:label}.{label}", "*.{tenant:label}",
                                         "p-{tenant:label}", "{tenant:label}.b"]))
            pattern, tenant = f"{head}.{anchor}", "{tenant}"
        else:
            pattern = anchor
            tenant = draw(st.sampled_from(["label", "host", "none"] if kind == "suffix" else ["host", "none"]))
        lines.append(f"e{i} | E{i} | P | faas-edge | {kind} | {pattern} | {tenant} | high | medium | r")
    return _tiny(lines, {"label": "[a-z0-9-]+"})


@settings(max_examples=300, deadline=None)
@given(catalogues(), st.lists(st.lists(LABELS, min_size=2, max_size=3).map(".".join), max_size=4),
       st.lists(st.lists(LABELS, min_size=1, max_size=6).map(".".join), min_size=1, max_size=20))
def test_matcher_equals_naive_reference(catalog: Catalog, intel_specs: list[str], names: list[str]) -> None:
    intel = _intel(*[("*." if i % 2 else "") + s for i, s in enumerate(intel_specs)])
    m = Matcher(catalog, intel)
    for name in names:
        assert summary(m.match(name)) == naive_summary(catalog, intel, name), name


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_shipped_catalogue_equals_naive_reference(matcher: Matcher, data) -> None:
    entry = data.draw(st.sampled_from(matcher.catalog.entries))
    front = data.draw(st.lists(st.sampled_from(["x", "abc", LAMBDA_ID, "a7x2kq9d1m", "us-east-1", "lambda-url",
                                                "execute-api", "us-central1-proj42", "eastus", "1234567890-abcdefghij",
                                                "service-abcd1234-125", "eu"]), max_size=3))
    name = ".".join([*front, entry.suffix])
    assert summary(matcher.match(name)) == naive_summary(matcher.catalog, [], name)


# ------------------------------------------------------------------ match_store on a small DuckDB
@pytest.fixture()
def store():
    s = Store()
    con = s.con
    con.execute("""INSERT INTO dns (query, qtype, answers) VALUES
        ('shop.example.com', 'A', ['shop-prod.azurewebsites.net', 'waws-prod-xyz.cloudapp.net', '20.1.2.3']),
        ('plain.example.org', 'A', ['93.184.216.34']),
        ('evil.workers.dev', 'A', ['104.21.1.1']),
        ('mail.example.com', 'MX', ['x.azurewebsites.net']),
        ('v6.example.net', 'AAAA', ['2001:db8::1'])""")
    con.execute("""INSERT INTO tls (server_name) VALUES ('Shop.Example.com.'), ('evilworkers.dev'),
        ('EVIL.workers.dev')""")
    con.execute("""INSERT INTO http (method, host, uri) VALUES
        ('CONNECT', 'abc-def.trycloudflare.com:443', 'abc-def.trycloudflare.com:443'),
        ('GET', '10.0.0.5:8080', '/'), ('GET', 'bad host', '/')""")
    yield s
    s.close()


def _rows(con) -> dict[str, dict]:
    cur = con.execute("SELECT * FROM name_matches")
    cols = [d[0] for d in cur.description]
    return {r[0]: dict(zip(cols, r)) for r in cur.fetchall()}


def test_match_store_one_row_per_distinct_raw_name(store, matcher: Matcher) -> None:
    n = matcher.match_store(store.con)
    rows = _rows(store.con)
    assert n == len(rows)
    assert set(rows) == {
        "shop.example.com", "shop-prod.azurewebsites.net", "waws-prod-xyz.cloudapp.net", "plain.example.org",
        "evil.workers.dev", "mail.example.com", "v6.example.net", "Shop.Example.com.", "evilworkers.dev",
        "EVIL.workers.dev", "abc-def.trycloudflare.com:443", "10.0.0.5:8080", "bad host"}
    assert rows["plain.example.org"]["platform"] is None and rows["evilworkers.dev"]["platform"] is None


def test_match_store_cname_target_carries_platform_to_the_query(store, matcher: Matcher) -> None:
    matcher.match_store(store.con)
    rows = _rows(store.con)
    q = rows["shop.example.com"]
    assert (q["platform"], q["tenant"], q["via_cname"]) == ("Azure Functions / App Service", "shop-prod",
                                                              "shop-prod.azurewebsites.net")
    # the SNI spelling of the same name gets it too (join is on the normalized name)
    assert rows["Shop.Example.com."]["via_cname"] == "shop-prod.azurewebsites.net"
    # the target's own row matches directly, without via
    assert rows["shop-prod.azurewebsites.net"]["via_cname"] is None
    assert rows["shop-prod.azurewebsites.net"]["seen_in"] == ["cname"]
    # MX answers are not CNAME targets
    assert rows["mail.example.com"]["platform"] is None
    assert "x.azurewebsites.net" not in rows


def test_match_store_normalizes_and_records_kinds(store, matcher: Matcher) -> None:
    matcher.match_store(store.con)
    rows = _rows(store.con)
    assert (rows["EVIL.workers.dev"]["name"], rows["EVIL.workers.dev"]["tenant"]) == ("evil.workers.dev", "evil")
    assert rows["evil.workers.dev"]["name_kind"] == "hostname"
    assert (rows["10.0.0.5:8080"]["name"], rows["10.0.0.5:8080"]["name_kind"]) == ("10.0.0.5", "ip")
    assert (rows["bad host"]["name"], rows["bad host"]["name_kind"]) == (None, "invalid")
    connect = rows["abc-def.trycloudflare.com:443"]
    assert connect["platform"] == "Cloudflare Quick Tunnel" and connect["seen_in"] == ["connect", "http"]


def test_match_store_matches_a_malformed_name_by_its_valid_last_labels(matcher: Matcher) -> None:
    with Store() as s:
        s.con.execute("""INSERT INTO http (method, host, uri) VALUES ('GET', '=1+2.Acct.workers.dev:80', '/'),
            ('GET', 'bad!.workers.dev', '/'), ('GET', 'x y.example.com', '/')""")
        matcher.match_store(s.con)
        rows = _rows(s.con)
    odd = rows["=1+2.Acct.workers.dev:80"]
    assert (odd["name"], odd["name_kind"], odd["platform"], odd["tenant"]) == (None, "invalid", "Cloudflare Workers",
                                                                             "acct")
    assert "bad label '=1+2'" in odd["name_note"] and "valid last labels acct.workers.dev" in odd["name_note"]
    assert (rows["bad!.workers.dev"]["platform"], rows["bad!.workers.dev"]["name_kind"]) == (None, "invalid")
    assert rows["x y.example.com"]["platform"] is None


def test_match_store_columns_and_custom_table(store, matcher: Matcher) -> None:
    matcher.match_store(store.con, table="nm2")
    cols = [r[0] for r in store.con.execute("DESCRIBE nm2").fetchall()]
    assert cols[:12] == ["raw_name", "name", "name_kind", "platform", "provider", "tenant", "category",
                         "confidence", "severity", "pattern", "entry_id", "via_cname"]
    with pytest.raises(ValueError):
        matcher.match_store(store.con, table="x; DROP TABLE dns")


def test_match_store_on_empty_store(matcher: Matcher) -> None:
    with Store() as s:
        assert matcher.match_store(s.con) == 0
        assert s.con.execute("SELECT count(*) FROM name_matches").fetchall() == [(0,)]


@settings(max_examples=200, deadline=None)
@given(catalogues(), st.lists(st.lists(LABELS, min_size=1, max_size=6).map(".".join), max_size=40, unique=True))
def test_bulk_match_names_equals_match_per_name(catalog: Catalog, names: list[str]) -> None:
    m = Matcher(catalog)
    expected = {n: summary(m.match(n)) for n in names if m.match(n) is not None}
    assert {n: summary(x) for n, x in m.match_names(names).items()} == expected


RAW_PARTS = st.sampled_from(["x", "abc", "Evil", LAMBDA_ID, "lambda-url", "us-east-1", "a7x2kq9d1m", "execute-api",
                             "eu-west-1", "us-central1-proj42", "workers", "dev", "on", "aws", "amazonaws", "com",
                             "cloudfunctions", "net", "feed", "bad", "b\\xc3\\xbc", "1", "2"])


SUFFIXES = st.sampled_from(["feed.bad.com", "bad.com", "x.com", "workers.dev", "lambda-url.us-east-1.on.aws", "on.aws",
                            "m.pipedream.net", "pipedream.net", "execute-api.eu-west-1.amazonaws.com",
                            "scm.azurewebsites.net", "azurewebsites.net", "cloudfunctions.net", "Workers.Dev", ""])
RAW_NAMES = st.tuples(st.lists(RAW_PARTS, max_size=3).map(".".join), SUFFIXES,
                      st.sampled_from(["", ".", ":443"])).map(lambda t: ".".join(p for p in t[:2] if p) + t[2])


@settings(max_examples=40, deadline=None)
@given(st.lists(RAW_NAMES, min_size=1, max_size=25, unique=True).filter(lambda n: all(n)))
def test_match_store_equals_naive_reference(names: list[str]) -> None:
    """Through DuckDB (stage 11's two-label prefilter included), every raw name gets the naive result."""
    catalog = load_catalog()
    intel = _intel("feed.bad.com", "*.x.com")
    with Store() as s:
        s.con.execute("CREATE TEMP TABLE q AS SELECT unnest($1::VARCHAR[]) AS name", [names])
        s.con.execute("INSERT INTO tls (server_name) SELECT name FROM q")
        Matcher(catalog, intel).match_store(s.con)
        rows = {r[0]: r[1:] for r in s.con.execute(
            "SELECT raw_name, name, entry_id, tenant, intel_source FROM name_matches").fetchall()}
    assert set(rows) == set(names)
    for raw in names:
        norm = normalize_host(raw, escapes=False)    # a stored name: its \xNN were decoded at ingest
        tail = valid_tail(raw) if norm.kind == "invalid" else None   # an invalid name: by its valid last labels
        expected = (naive_summary(catalog, intel, norm.name) if norm.kind == "hostname" and norm.name else
                    naive_summary(catalog, intel, tail) if tail else None)
        name, entry_id, tenant, intel_source = rows[raw]
        assert name == norm.name
        got = None if entry_id is None else (entry_id, tenant, intel_source)
        want = None if expected is None else (expected[0], expected[1], expected[2].source if expected[2] else None)
        assert got == want, raw


# ------------------------------------------------------------------ real logs (../shared/data), when present
ZED = Path(__file__).resolve().parents[2] / "shared" / "data" / "zed-sample-data" / "zeek-default"


def _zeek_column(path: Path, column: str) -> list[str]:
    """Values of one column of a gzipped Zeek TSV log (header-driven; '-' and '(empty)' skipped)."""
    values, index = [], None
    with gzip.open(path, "rt", encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            if line.startswith("#fields"):
                index = line.rstrip("\n").split("\t")[1:].index(column)
            elif not line.startswith("#") and index is not None:
                value = line.rstrip("\n").split("\t")[index]
                if value not in ("-", "(empty)"):
                    values.append(value)
    return values


@pytest.mark.shared
def test_real_wrccdc_names_match_like_the_naive_reference(matcher: Matcher) -> None:
    if not (ZED / "dns.log.gz").exists():
        pytest.skip("../shared/data/zed-sample-data is absent (fresh clone)")
    raw = set(_zeek_column(ZED / "dns.log.gz", "query")) | set(_zeek_column(ZED / "ssl.log.gz", "server_name"))
    names = {n.name for n in map(normalize_host, raw) if n.kind == "hostname"}
    assert len(names) > 1000
    found = matcher.match_names(sorted(names))
    for name in names:                                   # the automaton equals the oracle on real names
        assert summary(found.get(name)) == naive_summary(matcher.catalog, [], name), name
    # benign PaaS names the manifest lists are recognized (for the FP checks downstream) ...
    assert (found["open-rating-prod.azurewebsites.net"].entry.id, found["open-rating-prod.azurewebsites.net"].tenant) \
        == ("azure-app-service", "open-rating-prod")
    assert found["di-dtaectolog-us-prod-1.appspot.com"].entry.id == "gcp-app-engine"
    cloudfront = {n for n in names if n.endswith(".cloudfront.net")}
    assert cloudfront and all(found[n].entry.id == "aws-cloudfront" for n in cloudfront)
    # ... and ordinary names are not
    assert not any(n.endswith((".microsoft.com", ".windowsupdate.com")) for n in found)


def test_a_stored_name_is_not_unescaped_twice() -> None:
    """Zeek writes a backslash as \\x5c, and the ingest decodes it: the SNI \\x41.workers.dev (a literal
    backslash) is stored as that text. Decoded again, it was matched and reported as a.workers.dev,
    a Cloudflare Worker of tenant "a": the finding named a host the log never held."""
    with Store() as s:
        s.con.execute("INSERT INTO tls (server_name) VALUES (?), (?)", ["\\x41.workers.dev", "b.workers.dev"])
        Matcher(load_catalog()).match_store(s.con)
        rows = dict(s.con.execute("SELECT raw_name, entry_id FROM name_matches").fetchall())
    assert rows == {"\\x41.workers.dev": None, "b.workers.dev": "cloudflare-workers"}
    # what `explain` is given is a name as a log file shows it: escapes decoded there
    assert normalize_host("b\\xc3\\xbccher.example").name == "xn--bcher-kva.example"
    assert normalize_host("\\x41.workers.dev", escapes=False).kind == "invalid"
