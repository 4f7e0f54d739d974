"""The command line: a thin click layer over the library.

Each command lives in its own module and is registered here. Commands turn library
exceptions into messages on stderr and exit codes; results go to stdout.
"""

from __future__ import annotations

import signal

import click

from analyzer import __version__
from analyzer.cli.common import terminated


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="serverless-c2")
def cli() -> None:
    """Find command-and-control traffic relayed through serverless platforms
    (MITRE ATT&CK T1583.007) in Zeek and Suricata logs."""


def _register() -> None:
    from analyzer.cli import catalog_cmd, export_cmd, ingest_cmd, report_cmd, scan_cmd

    for module in (ingest_cmd, catalog_cmd, scan_cmd, report_cmd, export_cmd):
        for command in getattr(module, "COMMANDS", []):
            cli.add_command(command)


_register()


def main() -> None:
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, terminated)
    cli(prog_name="serverless-c2")
