"""Checks of the zeek-scripts/ package that run without Zeek.

Zeek cannot be installed here, so these tests check what can be checked statically: every
script parses with the zeekscript (tree-sitter) parser, is in zeek-format's canonical layout,
the zkg layout is complete, and the columns `serverless-c2 export zeek` writes are exactly the
fields the input framework records declare (a mismatch would make Zeek reject the file at run
time, which no syntax check can see).
"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from analyzer import export

PKG = Path(__file__).resolve().parents[1] / "zeek-scripts"
SCRIPTS = sorted(PKG.rglob("*.zeek"))
ZEEK_SCRIPT = shutil.which("zeek-script")
ZEEK_FORMAT = shutil.which("zeek-format")
needs_zeekscript = pytest.mark.skipif(ZEEK_SCRIPT is None or ZEEK_FORMAT is None,
                                      reason="zeekscript not installed (pip install zeekscript)")


def parse(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([ZEEK_SCRIPT, "parse", "-q", str(path)], capture_output=True, text=True)


def test_the_package_has_scripts():
    names = {p.name for p in SCRIPTS}
    assert {"__load__.zeek", "main.zeek", "logs.zeek"} <= names


@needs_zeekscript
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(PKG)))
def test_script_parses(script):
    result = parse(script)
    assert result.returncode == 0, result.stderr


@needs_zeekscript
def test_parser_catches_a_syntax_error(tmp_path):
    """Negative control: the lint must fail on a missing semicolon, or the test above proves nothing."""
    broken = tmp_path / "broken.zeek"
    broken.write_text((PKG / "scripts" / "main.zeek").read_text().replace("return name;", "return name", 1))
    result = parse(broken)
    assert result.returncode == 2    # 2: the tree has error nodes (zeek-script parse -h)


@needs_zeekscript
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(PKG)))
def test_script_is_zeek_formatted(script):
    formatted = subprocess.run([ZEEK_FORMAT, str(script)], capture_output=True, text=True)
    assert formatted.returncode == 0
    assert formatted.stdout == script.read_text(), f"run: zeek-format -i {script}"


def test_zkg_meta_points_at_a_loadable_script_dir():
    meta = configparser.ConfigParser()
    meta.read(PKG / "zkg.meta")
    pkg = meta["package"]
    script_dir = PKG / pkg["script_dir"]
    assert (script_dir / "__load__.zeek").is_file()
    assert pkg["summary"] and pkg["description"] and "zeek" in pkg["depends"]
    loads = re.findall(r"^@load \./(\S+)", (script_dir / "__load__.zeek").read_text(), re.M)
    assert loads and all((script_dir / f"{name}.zeek").is_file() for name in loads)


def _record_fields(text: str, type_name: str) -> list[str]:
    body = re.search(r"type %s: record \{(.*?)\};" % re.escape(type_name), text, re.S).group(1)
    return re.findall(r"^\s*(\w+):", body, re.M)


def test_export_columns_match_the_input_framework_records():
    main = (PKG / "scripts" / "main.zeek").read_text()
    declared = _record_fields(main, "CatalogIdx") + _record_fields(main, "CatalogVal")
    assert sorted(declared) == sorted(export.ZEEK_FIELDS)
    # optional in Zeek <=> may be written as "-" by the exporter (only the regex of non-structural rows)
    optional = re.findall(r"^\s*(\w+): \w+ &optional;", main.split("type CatalogVal")[1].split("};")[0], re.M)
    assert optional == ["regex"]


def test_logs_get_platform_and_tenant_fields():
    logs = (PKG / "scripts" / "logs.zeek").read_text()
    for info in ("DNS::Info", "SSL::Info", "HTTP::Info"):
        block = re.search(r"redef record %s \+= \{(.*?)\};" % re.escape(info), logs, re.S)
        assert block, info
        fields = re.findall(r"(\w+): string &log &optional;", block.group(1))
        assert fields == ["serverless_platform", "serverless_tenant"]


def test_features_are_redefinable_options():
    main = (PKG / "scripts" / "main.zeek").read_text()
    export_block = main.split("export {", 1)[1].split("\n}", 1)[0]
    options = set(re.findall(r"^\toption (\w+)", export_block, re.M))
    assert {"tag_dns", "tag_ssl", "tag_http", "notice_non_browser", "notice_listed_ja4",
            "listed_ja4", "browser_user_agents", "non_browser_user_agents"} <= options
    assert re.search(r"const catalog_file = .* &redef;", export_block)
    readme = (PKG / "README.md").read_text()
    assert all(f"ServerlessC2::{name}" in readme for name in options | {"catalog_file"})


def test_readme_states_how_the_scripts_were_verified():
    readme = (PKG / "README.md").read_text()
    assert "zeek-script parse -q" in readme and "not been run" in readme


def test_shipped_catalogue_table_is_current():
    """The package ships the exported table so it works as installed; it must match the catalogue."""
    from analyzer.catalog import load_catalog

    shipped = PKG / "scripts" / "serverless-catalog.tsv"
    try:
        catalog = load_catalog()
    except NotImplementedError:
        pytest.skip("load_catalog not implemented yet")
    assert shipped.read_text() == export.export_zeek(catalog), (
        "run: serverless-c2 export zeek --out zeek-scripts/scripts/serverless-catalog.tsv")
    meta = configparser.ConfigParser()
    meta.read(PKG / "zkg.meta")
    assert meta["package"]["config_files"] == "scripts/serverless-catalog.tsv"
