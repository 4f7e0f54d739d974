"""CLI for the export command(s). COMMANDS lists the click commands this module registers."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
