"""The catalog and explain commands (thin layers; output checked for content and terminal safety)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from analyzer.cli import cli

FIXTURES = Path(__file__).parent / "fixtures" / "catalog"


def test_catalog_json_lists_every_entry() -> None:
    result = CliRunner().invoke(cli, ["catalog", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    ids = {d["id"] for d in data}
    assert {"cloudflare-workers", "aws-lambda-url", "google-apps-script"} <= ids
    assert all(d["source"].startswith("analyzer/data/catalog.txt:") for d in data)


def test_catalog_table_with_extra_file() -> None:
    result = CliRunner().invoke(cli, ["catalog", "--catalog", str(FIXTURES / "extra.txt")])
    assert result.exit_code == 0
    assert "corp-relay" in result.stdout and "workers.dev" in result.stdout


def test_catalog_bad_file_fails_with_file_line() -> None:
    result = CliRunner().invoke(cli, ["catalog", "--catalog", str(FIXTURES / "bad.txt")])
    assert result.exit_code == 2
    assert f"{FIXTURES / 'bad.txt'}:3:" in result.stderr


def test_explain_match_and_non_match() -> None:
    result = CliRunner().invoke(cli, ["explain", "Update.CDN-Update.workers.dev.", "evilworkers.dev",
                                      "lambda-url.us-east-1.on.aws"])
    assert result.exit_code == 0
    out = result.stdout
    assert "normalized: update.cdn-update.workers.dev" in out and "tenant:     cdn-update" in out
    assert "evilworkers.dev\n  normalized: evilworkers.dev [hostname]\n  no match" in out
    assert "not {tenant:lambda_id}.lambda-url.{aws_region}.on.aws" in out


def test_explain_json_with_intel(tmp_path: Path) -> None:
    feed = tmp_path / "feed.txt"
    feed.write_text("c2.example\n203.0.113.1\n")
    result = CliRunner().invoke(cli, ["explain", "--format", "json", "--intel", str(feed), "x.c2.example"])
    assert result.exit_code == 0
    (item,) = json.loads(result.stdout)
    assert item["match"]["category"] == "intel" and item["match"]["intel"].startswith("intel c2.example")
    assert f"{feed}:2: IP address" in result.stderr                       # bad intel line reported


def test_explain_escapes_control_characters() -> None:
    result = CliRunner().invoke(cli, ["explain", "evil\x1b[2J\u202e.workers.dev"])
    assert result.exit_code == 0
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout
    assert "\\x1b[2J\\u202e" in result.stdout


def test_explain_a_malformed_name_matched_by_its_valid_last_labels() -> None:
    result = CliRunner().invoke(cli, ["explain", "=1+2.qa.workers.dev", "bad!.workers.dev"])
    assert result.exit_code == 0
    out = result.stdout
    assert ("=1+2.qa.workers.dev\n  malformed:  invalid (bad label '=1+2'; matched by its valid last labels "
            "qa.workers.dev)\n  platform:   Cloudflare Workers") in out
    assert "tenant:     qa\n" in out
    assert "bad!.workers.dev\n  not matched: invalid (bad label 'bad!')" in out
