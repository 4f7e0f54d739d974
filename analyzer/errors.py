"""Exceptions raised by the library. The CLI turns them into messages and exit codes."""

from __future__ import annotations

from analyzer.findings import printable


class AnalyzerError(Exception):
    """Base class for every error the library raises on purpose."""


class InputError(AnalyzerError):
    """A problem with an input file; carries the file and, where it applies, the line."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None):
        self.message = message
        self.path = path
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            # a path can hold any byte but / and NUL: escaped, so that it cannot add a line of its
            # own to the message or reach a terminal raw (a path given on the command line is shown
            # as it is here, as one found by walking a folder is)
            shown = printable(self.path)
            where = f"{shown}:{self.line}: " if self.line is not None else f"{shown}: "
        return f"{where}{self.message}"


class CatalogError(InputError):
    """A catalogue, intel or allowlist file has a bad line."""


class StoreError(AnalyzerError):
    """The DuckDB store cannot be opened or used."""


class ToolMissingError(AnalyzerError):
    """An external program (suricata, chromium) is needed and missing; the message says how to install it."""
