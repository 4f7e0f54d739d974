"""analyzer.normalize: one canonical form per name; what is not a hostname is recorded as such."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.normalize import NormalizedName, decode_zeek_escapes, is_canonical, normalize_host, valid_tail
from analyzer.sqlfiles import read_sql
from analyzer.store import Store

# (raw, expected name, expected kind): one behaviour per row.
CASES = [
    ("evil.workers.dev", "evil.workers.dev", "hostname"),                 # already canonical
    ("Evil.Workers.DEV", "evil.workers.dev", "hostname"),                 # case
    ("evil.workers.dev.", "evil.workers.dev", "hostname"),                # trailing dot
    ("evil.workers.dev..", None, "invalid"),                              # only one trailing dot is a root
    ("evil.workers.dev:8443", "evil.workers.dev", "hostname"),            # Host header port
    ("evil.workers.dev:", "evil.workers.dev", "hostname"),                # empty port (RFC 3986 allows it)
    ("evil.workers.dev:http", None, "invalid"),                           # non-numeric port
    ("evil.workers.dev:123456", None, "invalid"),                         # port too long
    ("  evil.workers.dev ", "evil.workers.dev", "hostname"),              # surrounding whitespace
    ("b\\xc3\\xbccher.workers.dev", "xn--bcher-kva.workers.dev", "hostname"),  # Zeek \x escapes, then IDNA
    ("bücher.workers.dev", "xn--bcher-kva.workers.dev", "hostname"),      # unicode -> punycode
    ("BÜCHER.workers.dev", "xn--bcher-kva.workers.dev", "hostname"),      # UTS-46 case mapping
    ("ｗｏｒｋｅｒｓ。dev", "workers.dev", "hostname"),                      # full-width letters and ideographic dot
    ("xn--bcher-kva.workers.dev", "xn--bcher-kva.workers.dev", "hostname"),  # punycode passes through
    ("_dmarc.example.com", "_dmarc.example.com", "hostname"),             # underscores occur in real names
    ("localhost", "localhost", "hostname"),                               # single label
    ("10.1.2.3", "10.1.2.3", "ip"),                                       # IPv4 literal
    ("10.1.2.3:8080", "10.1.2.3", "ip"),                                  # IPv4 with port
    ("[2001:DB8::1]:443", "2001:db8::1", "ip"),                           # bracketed IPv6 with port
    ("[2001:db8::1]", "2001:db8::1", "ip"),                               # bracketed IPv6
    ("2001:db8:0:0::1", "2001:db8::1", "ip"),                             # bare IPv6, canonical form
    ("[not-an-ip]:443", None, "invalid"),                                 # brackets around a name
    ("a:b:c", None, "invalid"),                                           # colons that are not IPv6
    ("evil workers.dev", None, "invalid"),                                # inner space
    ("evil\x1b[31m.workers.dev", None, "invalid"),                        # control characters
    ("evil.workers.dev/path", None, "invalid"),                           # URL junk
    ("a..b", None, "invalid"),                                            # empty label
    ("x" * 64 + ".com", None, "invalid"),                                 # label longer than 63
    (".".join(["abcdefghi"] * 30), None, "invalid"),                      # name longer than 253
    ("caf\\xff.example", None, "invalid"),                                # escape that is not UTF-8
    ("\ud800\\x41.example", None, "invalid"),                            # lone surrogate (JSON \ud800)
    ("\ud800.example", None, "invalid"),
    ("", None, "empty"),
    ("-", None, "empty"),                                                 # Zeek unset marker
    ("(empty)", None, "empty"),                                           # Zeek empty marker
    ("-:", None, "empty"),                                                # the unset marker with an empty port
    ("-.", None, "empty"),                                                # ... or a trailing dot
    (None, None, "empty"),
]


@pytest.mark.parametrize(("raw", "name", "kind"), CASES, ids=[repr(c[0])[:40] for c in CASES])
def test_normalize(raw: str | None, name: str | None, kind: str) -> None:
    result = normalize_host(raw)
    assert (result.name, result.kind) == (name, kind), result.note


def test_note_says_what_changed() -> None:
    note = normalize_host("Evil.Workers.Dev.:443").note
    assert "port 443 stripped" in note and "trailing dot stripped" in note and "lower-cased" in note
    assert normalize_host("evil.workers.dev").note == ""


def test_decode_zeek_escapes_keeps_plain_text() -> None:
    assert decode_zeek_escapes("a\\x2cb") == "a,b"
    assert decode_zeek_escapes("plain") == "plain"
    with pytest.raises(UnicodeDecodeError):
        decode_zeek_escapes("\\xff")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300) | st.text(st.characters(exclude_categories=()), max_size=60)   # surrogates too
       | st.lists(st.sampled_from(["a", "B", ".", ":", "\\x", "c3", "bc", "ff", "[", "]", "1", "ü", "。"]),
                  max_size=20).map("".join))
def test_never_raises_and_output_is_canonical(raw: str) -> None:
    result = normalize_host(raw)
    assert result.kind in ("hostname", "ip", "invalid", "empty")
    if result.kind == "hostname":
        assert result.name is not None and result.name == result.name.lower() and result.name.isascii()
        assert not result.name.endswith(".") and len(result.name) <= 253
        assert normalize_host(result.name).name == result.name   # idempotent
    elif result.kind in ("invalid", "empty"):
        assert result.name is None


NAME_CHARS = st.sampled_from(list("abcz09-_.AZ:[] \n\\xü") + ["\\xc3\\xbc", "..", "1.2.3.4", "-", "x" * 60])
NAMES = (st.lists(NAME_CHARS, max_size=12).map("".join) | st.text(max_size=80)).filter(lambda s: "\x00" not in s)


@settings(max_examples=300, deadline=None)
@given(NAMES)
def test_canonical_names_normalize_to_themselves(raw: str) -> None:
    if is_canonical(raw):
        assert normalize_host(raw) == NormalizedName(raw, "hostname", "")


@settings(max_examples=30, deadline=None)
@given(st.lists(NAMES, min_size=1, max_size=40, unique=True))
def test_sql_canonical_flag_equals_is_canonical(raws: list[str]) -> None:
    """sql/10_names.sql computes the same predicate, so only non-canonical names cross into Python."""
    with Store() as store:
        store.con.execute("CREATE TEMP TABLE q AS SELECT unnest($1::VARCHAR[]) AS query", [raws])
        store.con.execute("INSERT INTO dns (query) SELECT query FROM q")
        store.con.execute(read_sql("10_names"))
        got = dict(store.con.execute("SELECT raw_name, canonical FROM name_candidates").fetchall())
    assert got == {r: is_canonical(r) for r in raws if r}


@pytest.mark.parametrize(("raw", "canonical"), [
    ("evil.workers.dev", True), ("Evil.dev", False), ("evil.dev.", False), (".evil.dev", False), ("a..b", False),
    ("", False), ("-", False), ("1.2.3.4", False), ("host1", False), ("a b", False), ("x" * 64, False),
    ("ex\\x41mple.com", False), ("_srv.example", True)])
def test_is_canonical(raw: str, canonical: bool) -> None:
    assert is_canonical(raw) is canonical


@pytest.mark.parametrize("raw,tail", [
    ("=1+2.qa.workers.dev", "qa.workers.dev"),
    ("<script>x</script>.Acct.Workers.Dev.:8080", "acct.workers.dev"),
    ("x'; drop table conn; --\".qasql.workers.dev", "qasql.workers.dev"),
    ("\x1b]0;t\x07x.qaesc.workers.dev", "qaesc.workers.dev"),
    ("bad!.workers.dev", "workers.dev"),        # two labels: the matcher decides (a bare suffix names no tenant)
    ("a" * 100_000 + ".qa.workers.dev", "qa.workers.dev"),
    ("bad!.dev", None), ("bad host", None), ("", None), ("x.bad!", None),
])
def test_valid_tail(raw: str, tail: str | None) -> None:
    assert valid_tail(raw) == tail


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_valid_tail_is_a_canonical_name_or_none(raw: str) -> None:
    tail = valid_tail(raw)
    assert tail is None or (is_canonical(tail) or normalize_host(tail).name == tail) and tail.count(".") >= 1
