"""Ingest Zeek (TSV, JSON) and Suricata (eve.json) logs into the normalized DuckDB model.

Public API::

    from analyzer.ingest import ingest_paths, IngestReport, FileReport
    report = ingest_paths(store, ["logs/2026-11-27/", "eve.json"], strict=False, progress=None)

Formats are detected from content (detect.py); files are walked and fingerprinted in files.py;
each format has its own loader (zeek_tsv.py, zeek_json.py, eve.py) that runs SQL over the file's
lines; pipeline.py strings them together, one transaction per file. See report.py for how the
numbers of an :class:`IngestReport` add up.
"""

from analyzer.ingest.pipeline import ingest_file, ingest_paths
from analyzer.ingest.report import FileReport, IngestReport, KindSummary, Reject

__all__ = ["ingest_paths", "ingest_file", "IngestReport", "FileReport", "KindSummary", "Reject"]
