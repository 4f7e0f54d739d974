"""CLI for ``serverless-c2 export zeek|suricata``: the catalogue, in a format the sensor reads.

COMMANDS lists the click commands this module registers.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from analyzer.cli.common import fail
from analyzer.errors import AnalyzerError


def _write_atomically(path: Path, text: str) -> None:
    """Write next to the target and rename, so a sensor reloading the file never sees half of it."""
    # mkstemp makes the file 0600; a sensor often runs as its own user and must read it, so keep
    # the mode of the file being replaced, or use the usual 0644.
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@click.command("export")
@click.argument("fmt", metavar="zeek|suricata", type=click.Choice(["zeek", "suricata"]))
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file (atomically) instead of stdout.")
@click.option("--catalog", "catalogs", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Extra catalogue file(s) added to the built-in one. Repeatable.")
@click.option("--sid-base", type=click.IntRange(1, 4_294_000_000), default=None,
              help="Suricata only: first sid of the 125000-sid block the rules use.")
@click.option("--threshold-seconds", type=click.IntRange(0, 86_400), default=300, show_default=True,
              help="Suricata only: low/info rules alert once per source per this many seconds (0: off).")
def export_command(fmt: str, out: Path | None, catalogs: tuple[str, ...], sid_base: int | None,
                   threshold_seconds: int) -> None:
    """Export the serverless catalogue for a sensor.

    \b
    zeek      input-framework table read by the zeek-scripts package
              (install it as the file named by SERVERLESS::catalog_file)
    suricata  DNS query, TLS SNI, QUIC SNI and HTTP Host rules (T1583.007)

    \b
    Example:
      serverless-c2 export suricata --out /etc/suricata/rules/serverless.rules
      serverless-c2 export zeek --out /opt/zeek/share/zeek/site/serverless-catalog.tsv
    """
    from analyzer import export
    from analyzer.catalog import load_catalog

    try:
        catalog = load_catalog(list(catalogs))
        if fmt == "zeek":
            text = export.export_zeek(catalog)
            for entry_id in export.skipped_for_zeek(catalog):
                click.echo(f"serverless-c2: warning: {entry_id}: structural pattern has no Zeek "
                           "equivalent; left out of the Zeek table", err=True)
        else:
            kwargs = {"sid_base": sid_base} if sid_base is not None else {}
            text = export.export_suricata(catalog, threshold_seconds=threshold_seconds or None,
                                          **kwargs)
    except (AnalyzerError, ValueError) as exc:
        fail(exc if isinstance(exc, AnalyzerError) else str(exc))
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        _write_atomically(out, text)
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")


COMMANDS: list[click.Command] = [export_command]
