"""The nightly batch report (issue 5): the store plus a scan result, as HTML, Markdown, JSON or CSV.

Library API (the CLI ``serverless-c2 report`` is a thin layer over it)::

    report = build_report(store, scan_result, top_n=10)     # read-only gathering
    text = render(report, "html")                            # pure: html | md | json | csv
    write_atomic(text, "report.html")                        # temp file in the same dir + os.replace
    record_run(store.con, scan_result.findings, report.generated_at,
               report.window_start, report.window_end)       # remember it for "new vs recurring"
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path

from analyzer.report.history import channel_key, record_run
from analyzer.report.model import Report, build_report
from analyzer.report.sanitize import csv_safe

FORMATS = ("html", "md", "json", "csv")

CSV_COLUMNS = ("rank", "severity", "score", "src", "host", "dst", "dst_port", "platform", "tenant",
               "category", "kind", "connections", "period_s", "jitter", "first_seen", "last_seen",
               "user_agent", "ja3", "ja4", "bytes_out", "bytes_in", "reasons", "sources", "status",
               "channel_key")


def render_json(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def render_csv(report: Report) -> str:
    """The ranked findings as CSV: every text cell through :func:`csv_safe` (no formulas)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for rf in report.findings:
        d = rf.finding.to_dict()
        d.update(rank=rf.rank, status=rf.history.status, channel_key=rf.key,
                 reasons="; ".join(rf.finding.reasons), sources=",".join(rf.finding.sources))
        row = []
        for col in CSV_COLUMNS:
            value = d.get(col)
            if value is None:
                row.append("")
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                row.append(value)
            else:
                row.append(csv_safe(value))
        writer.writerow(row)
    return buf.getvalue()


def render(report: Report, fmt: str) -> str:
    """Render ``report`` as ``html``, ``md``, ``json`` or ``csv`` (pure)."""
    if fmt == "html":
        from analyzer.report.html import render_html

        return render_html(report)
    if fmt == "md":
        from analyzer.report.markdown import render_markdown

        return render_markdown(report)
    if fmt == "json":
        return render_json(report)
    if fmt == "csv":
        return render_csv(report)
    raise ValueError(f"unknown report format {fmt!r}; expected one of {', '.join(FORMATS)}")


def _mode_for(target: Path) -> int:
    """Keep the mode of the file being replaced; a new file gets 0666 minus the umask."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_atomic(text: str, path: str | os.PathLike[str]) -> Path:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never half.

    The temporary file is created in the destination directory (``os.replace`` is atomic only
    within one filesystem), flushed and fsynced, then renamed over the target; on any error it
    is removed and the target is untouched.
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return target


__all__ = ["FORMATS", "Report", "build_report", "channel_key", "record_run", "render", "render_csv",
           "render_json", "write_atomic"]
