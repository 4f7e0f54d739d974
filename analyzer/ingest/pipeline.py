"""Ingest one file after another, each in its own transaction.

For every file: detect the format from its first bytes; scan it once (fingerprint, header lines,
gzip, sanity); compare the fingerprint with what the store already holds (same content: nothing to
do; the same content plus new lines: read only those); then, inside one transaction, read its
lines with DuckDB, load the rows, record the rejects and the ``ingest_files`` row, and commit.
A crash or kill at any point before the commit leaves the store as it was before that file.

For a file not seen before, DuckDB reads its lines while the scan runs (two cores instead of one
after the other); that read is kept only when it provably holds every consumed byte. A gzip file
cannot be read that way (DuckDB reads the scan's decompressed copy), so in a folder of archived
logs the next gzip file is scanned while the one before it is loaded instead (:class:`_LookAhead`).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import duckdb

from analyzer.errors import InputError
from analyzer.findings import printable
from analyzer.ingest import eve, zeek_json, zeek_tsv
from analyzer.ingest.common import (
    JSON_META, READ_ERRORS, TSV_META, FastRead, Tally, account_fast, drop_temps, insertion_order, line_classes,
    read_lines, release_lines, repair_surrogates, stored_columns,
)
from analyzer.ingest.detect import (
    EVE, ZEEK_JSON, ZEEK_KINDS, ZEEK_TSV, Detection, detect, json_line_complete, kind_from_name,
)
from analyzer.ingest.duplicates import remove_duplicates
from analyzer.ingest.files import (
    HEAD_BYTES, Fingerprint, GzipState, Scan, expand_paths, is_broken_link, is_gzip, read_head, scan_file,
)
from analyzer.ingest.report import (
    APPENDED, FAILED, LOADED, SKIPPED, UNCHANGED, FileReport, IngestReport,
)
from analyzer.sqlfiles import read_sql
from analyzer.store import Store

Progress = Callable[[str, int, int], None]

#: the reason of a live log's last line, still being written: counted as rejected (loaded + rejected =
#: data lines), not consumed, and read again when the file grows; ``ingest --strict`` does not fail on it
#: the warning of a file whose whole content an earlier file of another name loaded (a copy, a live log
#: loaded before its rotation archived it)
SAME_CONTENT = "the same content as "
PENDING_TAIL = "incomplete last line (no newline at end of file); not consumed, it is read again if the file grows"


#: ingest_files rows whose (size_bytes, head_sha256) fingerprint a consumed prefix. Skipped files
#: count too: a header-only live log that grows later, a JSON stream of other kinds that later gets
#: dns lines. (Files skipped from their first bytes store the fingerprint of their first 64 KiB with their
#: on-disk size; that can only match a prefix of exactly that content.)
_CONSUMED_STATUSES = frozenset({LOADED, APPENDED, SKIPPED})


class _Ledger:
    """``ingest_files`` as one ingest knows it: read once when the ingest starts, then extended with
    each row the ingest records, once that row's transaction has committed. The questions asked for
    every file (the sizes earlier ingests consumed, whether this content was ingested before, the
    next file_id, whether this path was seen) were each a DuckDB statement of about a millisecond, for
    every file of a folder of hourly archives. Nothing else writes ``ingest_files`` meanwhile: only
    the ingest does, and DuckDB lets one process at a time write a store file. Each question is a
    lookup, so a store that has recorded a year of hourly files answers as fast as a new one."""

    def __init__(self) -> None:
        self._max_id = 0
        self._sizes: dict[str | None, set[int]] = {}           # format -> consumed sizes (> 0)
        self._contents: dict[tuple[str | None, int, str | None], int] = {}  # (format, size, sha) -> latest id
        self._paths: set[str] = set()
        self._path_of: dict[int, str] = {}                     # file_id -> its path
        self._skips: dict[tuple[str, int, str | None], int] = {}  # (path, size, sha) of a skip -> its id
        #: the store holds SHA-256 fingerprints (written before BLAKE3): keep fingerprinting that way
        self.sha256 = False

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection) -> "_Ledger":
        ledger = cls()
        for fid, path, fmt, size, sha, status in con.execute(
            "SELECT file_id, path, format, size_bytes, head_sha256, status FROM ingest_files ORDER BY file_id"
        ).fetchall():
            ledger.add(int(fid), str(path), fmt, int(size or 0), sha, str(status))
            ledger.sha256 = ledger.sha256 or Fingerprint.is_legacy(sha)
        return ledger

    def add(self, file_id: int, path: str, fmt: str | None, size: int, sha: str | None, status: str) -> None:
        self._max_id = max(self._max_id, file_id)
        self._paths.add(path)
        self._path_of[file_id] = path
        if status in _CONSUMED_STATUSES:
            if size > 0:
                self._sizes.setdefault(fmt, set()).add(size)
            key = (fmt, size, sha)
            self._contents[key] = max(self._contents.get(key, 0), file_id)
        if status == SKIPPED:
            self._skips.setdefault((path, size, sha), file_id)

    def next_file_id(self) -> int:
        return self._max_id + 1

    def consumed_sizes(self, fmt: str | None, *, any_format: bool = False) -> list[int]:
        """The sizes of the prefixes earlier ingests of format ``fmt`` (or of any, ``any_format``)
        consumed: where a scan takes fingerprint snapshots, so that a file that only grew is recognised."""
        if any_format:
            return sorted(set().union(*self._sizes.values()))
        return sorted(self._sizes.get(fmt, ())) if fmt is not None else []   # as SQL: NULL matches nothing

    def content_id(self, fmt: str | None, size: int, sha: str | None) -> int | None:
        """The latest file_id that consumed exactly this content (format, size, fingerprint), if any."""
        return self._contents.get((fmt, size, sha)) if fmt is not None else None

    def path_seen(self, path: str) -> bool:
        return path in self._paths

    def path_of(self, file_id: int) -> str | None:
        return self._path_of.get(file_id)

    def skipped(self, path: str, size: int, sha: str) -> int | None:
        """The file_id of an earlier skip of this path with this size and first bytes."""
        return self._skips.get((path, size, sha))


#: Plain Zeek TSV/JSON files from this size on disk try the typed fast path (zeek_tsv.fast_read).
#: Below it the line-by-line path costs milliseconds, less than the fast path's fixed cost plus, for
#: the files it then refuses (test baselines with masked times ...), the line-by-line path again
#: (plain conn.log of 0.3-0.6 MB: 10-12 ms line by line, 21-35 ms by the fast path).
FAST_MIN_BYTES = 1 << 20
#: ... and gzip files from this size *decompressed* (known after the scan; on disk an hourly
#: ssl.log.gz of 5.7 MB is 0.9 MB). Lower: a gzip file is read from the scan's decompressed copy
#: after the scan, not alongside it, which the line-by-line path pays for. Hourly dns.log.gz and
#: http.log.gz of 0.7-0.8 MB (a 1M-connection day): 31-42 ms each by the fast path, 47-60 ms line by
#: line; 96 hourly files ingested in 9.2 s instead of 11.9 s.
FAST_MIN_GZ_BYTES = 1 << 18


def ingest_paths(
    store: Store,
    paths: Sequence[str | os.PathLike[str]],
    *,
    strict: bool = False,
    progress: Progress | None = None,
    after_file: Callable[[], object] | None = None,
) -> IngestReport:
    """Load every log found under ``paths`` into ``store``; return what happened to each file.

    ``paths``: files, directories (walked recursively) or glob patterns; a path that matches nothing
    raises :class:`InputError` before anything is loaded.
    ``strict``: a file with any rejected line is rolled back and :class:`InputError` (naming the file
    and the first rejected line) is raised; files before it stay loaded.
    ``progress(path, bytes_done, bytes_total)`` is called before each file and once at the end
    (with an empty path). Unexpected errors in one file (I/O, DuckDB) roll that file back and mark
    it ``failed``; the ingest goes on with the next file.
    ``after_file()`` is called after each file, once it is committed (scan: analyzer.narrow).
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]  # one path, not a sequence of characters
    files = given = expand_paths(paths)
    if store.scratch:
        files = scratch_order(given)
    con = store.con
    con.execute(read_sql("01_ingest_macros"))
    sizes = [_size(p) for p in files]
    total = sum(sizes)
    done = 0
    report = IngestReport()
    # rows need to land in file order only to be numbered (number_lines): not in a scratch store
    numbered = any("line" in stored_columns(con, t) for t in ("conn", "dns", "tls", "http"))
    ledger = _Ledger.read(con)
    with insertion_order(con, keep=numbered), _LookAhead(ledger) as ahead:
        for i, (path, size) in enumerate(zip(files, sizes)):
            if progress is not None:
                progress(str(path), done, total)
            nxt = files[i + 1] if i + 1 < len(files) else None
            report.files.append(ingest_file(
                con, path, strict=strict, pre=ahead.take(path), ledger=ledger,
                on_scanned=(lambda scan, nxt=nxt: ahead.start(nxt, scan.consumed_bytes)) if nxt else None,
            ))
            if after_file is not None:
                after_file()
            done += size
    if progress is not None:
        progress("", done, total)
    if files is not given:  # the report lists the files as they were given, whatever order loaded them
        place = {str(p): i for i, p in enumerate(given)}
        report.files.sort(key=lambda f: place[f.path])
    return report


#: The order a scratch store loads Zeek logs in, by the kind each file's name implies: TLS first, then
#: connections, then the rest. A scratch store keeps conn and tls narrowed (analyzer.narrow) and the
#: other logs as logged until the scan, so what is held while each big file is read is smallest this
#: way: tls narrowed (0.47 GB at 7M handshakes) while conn.log is read, instead of conn narrowed, dns
#: and http (1.2 GB at 10M connections) while ssl.log is. 10M connections in four plain files, 1.6 GB
#: cap: ingest 10.5-11.2 s against 12.6-13.6 s, the scan after it faster too (alternating runs).
_SCRATCH_RANK = {"ssl": 0, "conn": 1}


def scratch_order(files: list[Path]) -> list[Path]:
    """``files`` in the order a scratch store loads them (:data:`_SCRATCH_RANK`). The sort is stable,
    and open_* logs stay after every other file (expand_paths says why): only memory and time depend
    on this order, never what is loaded or found."""
    def place(p: Path) -> tuple[bool, int]:
        kind = (kind_from_name(p.name) or "").removeprefix("open_")
        return p.name.startswith("open_"), _SCRATCH_RANK.get(kind, len(_SCRATCH_RANK))

    return sorted(files, key=place)


@dataclass
class _Pre:
    """What ingest_file learns of a file before it touches the store, made ahead on another thread:
    its first bytes, what they are, and (unless they say it is skipped) its scan."""

    head: bytes
    det: Detection
    scan: Scan | None
    scan_error: Exception | None = None   # raised where the sequential scan would have raised it


class _LookAhead:
    """Scans the next gzip file while the file before it is loaded (Python's zlib and BLAKE3 release
    the GIL, DuckDB too): the decompression, fingerprint and line count of an hourly .gz file then
    overlap the previous file's typed read and commit instead of following them.

    The scan is the one the sequential path would make: it is started once the file before has been
    scanned, and gets the consumed sizes of every earlier ingest (all formats: a size of another
    format only adds an unused fingerprint) plus that file's own, which its load is about to record.
    At most one scan is ahead; a scan never taken (the ingest stopped: --strict) has its temporary
    copy removed on exit."""

    def __init__(self, ledger: "_Ledger") -> None:
        self._ledger = ledger
        self._pool: ThreadPoolExecutor | None = None
        self._pending: tuple[Path, Future[_Pre]] | None = None

    def __enter__(self) -> "_LookAhead":
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pending is not None:
            self._drop(self._pending[1])
            self._pending = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def start(self, path: Path, just_scanned: int) -> None:
        if self._pending is not None:
            return
        try:
            if not is_gzip(path):
                return
        except OSError:  # gone, unreadable or a broken link: its own turn says so, not this file's
            return
        known = set(self._ledger.consumed_sizes(None, any_format=True)) | {just_scanned}
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sc2-scan-ahead")
        self._pending = (path, self._pool.submit(_pre_scan, path, sorted(known), self._ledger.sha256))

    def take(self, path: Path) -> Future[_Pre] | None:
        """The scan started for ``path``, if it is the one ahead."""
        if self._pending is None or self._pending[0] != path:
            return None
        fut = self._pending[1]
        self._pending = None
        return fut

    @staticmethod
    def _drop(fut: Future[_Pre]) -> None:
        try:
            pre = fut.result()
        except Exception:  # the file was never ingested: its error is not this ingest's
            return
        if pre.scan is not None:
            pre.scan.cleanup()


#: how far detection reads when the first HEAD_BYTES hold no complete line (a JSON log whose first
#: record carries a 70 KB URI or certificate subject): without it the whole file was "not a log"
LONG_HEAD_BYTES = 64 * 1024 * 1024


def _head_and_detect(path: Path, gz: bool) -> tuple[bytes, Detection]:
    """The head of the file and what it is. When the head is full and nothing in it could be
    recognised, but it starts as a log would (``{`` or ``#``), its first line may just be longer
    than the head: it is read again, up to LONG_HEAD_BYTES. A gzip file of which nothing at all
    decompresses is unreadable (OSError: the file fails), not an empty file."""
    state = GzipState()
    head = read_head(path, gz, state=state)
    if gz and not head and state.problem:
        raise OSError(f"nothing decompresses: {state.problem.split(';')[0]}")
    det = detect(head, path.name)
    if det.format is None and len(head) >= HEAD_BYTES and head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"#"):
        head = read_head(path, gz, LONG_HEAD_BYTES)
        det = detect(head, path.name)
    return head, det


def _pre_scan(path: Path, sizes: list[int], sha256: bool) -> _Pre:
    """read_head + detect + scan_file for a gzip file, as ingest_file would make them (no store)."""
    head, det = _head_and_detect(path, True)
    if _skip_reason(det) is not None:
        return _Pre(head, det, None)
    try:
        return _Pre(head, det, _scan(path, True, sizes, det, sha256))
    except Exception as exc:  # noqa: BLE001 (ingest_file re-raises it in its own handler)
        return _Pre(head, det, None, exc)


def _skip_reason(det: Detection) -> str | None:
    """Why a file is skipped from its first bytes alone, or None."""
    skip = det.skip
    if skip is None and det.format in (ZEEK_TSV, ZEEK_JSON) and not det.kind_per_line:
        if det.kind not in ZEEK_KINDS:
            skip = (
                f"unknown/unsupported log kind {det.kind!r}" if det.kind
                else "unknown log kind (no #path, and neither name nor fields tell)"
            )
    return skip


def _scan(path: Path, gz: bool, sizes: Sequence[int], det: Detection, sha256: bool) -> Scan:
    json_lines = det.format != ZEEK_TSV
    return scan_file(
        path, gz, sizes, keep_tail_if=json_line_complete if json_lines else _meta_line, json_lines=json_lines,
        sha256=sha256,
    )


def _size(p: Path) -> int:
    try:
        return p.stat().st_size
    except OSError:
        return 0


def ingest_file(
    con: duckdb.DuckDBPyConnection, path: Path, *, strict: bool = False,
    pre: Future[_Pre] | None = None, on_scanned: Callable[[Scan], None] | None = None,
    ledger: _Ledger | None = None,
) -> FileReport:
    """Ingest one file (see :func:`ingest_paths`). The ingest macros must exist on ``con``.

    ``pre``: this (gzip) file's head, detection and scan, made ahead (:class:`_LookAhead`).
    ``on_scanned(scan)``: called once this file's scan is known, before it is loaded.
    ``ledger``: the ingest's view of ``ingest_files`` (read from the store when not given)."""
    fr = FileReport(path=str(path))
    if ledger is None:
        ledger = _Ledger.read(con)
    pre_scan: Scan | None = None
    pre_error: Exception | None = None
    if is_broken_link(path):  # found by walking a folder (a path given itself must exist)
        fr.status, fr.reason = SKIPPED, f"broken symbolic link (to {printable(os.readlink(path), 200)})"
        return fr
    try:
        if pre is not None:
            ahead = pre.result()
            gz, head, det, pre_scan, pre_error = True, ahead.head, ahead.det, ahead.scan, ahead.scan_error
        else:
            gz = is_gzip(path)
            head, det = _head_and_detect(path, gz)
    except OSError as exc:
        fr.status, fr.reason = FAILED, f"cannot read: {exc.strerror or exc}"
        return fr
    fr.format, fr.kind = det.format, det.kind
    skip = _skip_reason(det)
    if skip is not None:
        return _skip(con, ledger, fr, path, head, skip)

    scan: Scan | None = pre_scan
    try:
        if pre_error is not None:
            raise pre_error
        if pre_scan is None:
            sizes = ledger.consumed_sizes(det.format)
        # gzip: the size that counts is the decompressed one, known after the scan (below)
        big = not gz and _size(path) >= FAST_MIN_BYTES
        plan = _fast_plan(head, det) if gz or big else None
        typed = None
        if plan is not None and not gz:  # a gzip file is read only after the scan
            typed = lambda: _fast_read(con, plan, str(path), plan.skip, ledger.next_file_id())  # noqa: E731
        # eve.json: DuckDB's JSON reader parses it while the scan runs, instead of loading its lines
        parse = (lambda: eve.parse_fast(con, path)) if det.format == EVE and big else None
        eve_events = None
        if pre_scan is not None:
            prefetched, fast = False, None
        else:
            scan, prefetched, fast, eve_events = _scan_and_prefetch(
                con, path, gz, lambda: _scan(path, gz, sizes, det, ledger.sha256), typed, seen=ledger.path_seen(str(path.resolve())),
                eve_parse=parse)
        if on_scanned is not None:
            on_scanned(scan)
        if gz and scan.total_bytes < FAST_MIN_GZ_BYTES:
            plan = None
        # _raw holds the lines when the read-ahead may be used and did not type them (plan or not,
        # the typed read was then refused); decided now, before a rollback below drops typed rows
        raw_ready = prefetched and fast is None and eve_events is None
        if scan.gzip_problem:
            fr.warnings.append(scan.gzip_problem)
        if scan.needs_sanitize:
            fr.warnings.append("sanitized before reading: " + ", ".join(scan.sanitize_why))
        fr.bytes_read = scan.consumed_bytes
        fr.total_lines = scan.consumed_lines + (1 if scan.partial_tail else 0)
        first_line = 1
        prev = _previous(ledger, scan, det.format)
        if prev is not None:
            if fast is not None:  # read ahead as a new file, but this content was seen before
                _rollback(con)
                fast = None
            prev_id, prev_size, prev_lines = prev
            if prev_size == scan.consumed_bytes:
                # identical content was ingested before: nothing is read
                fr.status, fr.file_id = UNCHANGED, prev_id
                first = ledger.path_of(prev_id)
                if first is not None and first != str(path.resolve()):
                    # a copy under another name (http.log beside http_copy.log, a log beside its .gz):
                    # said, as a record loaded twice is, not dropped without a word
                    fr.warnings.append(f"{SAME_CONTENT}{printable(first, 200)}, loaded before: nothing added")
                fr.first_line = fr.total_lines + 1
                if scan.partial_tail:
                    fr.warnings.append("incomplete last line (no newline at end) still not consumed")
                return fr
            first_line = prev_lines + 1
        fr.first_line = first_line
        if plan is not None:
            fast = _checked_fast(con, scan, plan, first_line, fast, ledger.next_file_id(), refused=raw_ready)
        elif fast is not None:
            _rollback(con)
            fast = None
        if det.format == ZEEK_TSV:  # said with the file's other warnings (its ingest_files reason)
            fr.warnings.extend(zeek_tsv.missing_key_fields(head, det.kind))
        _load(
            con, ledger, fr, path, det, scan, first_line, appended=prev is not None, strict=strict,
            prefetched=raw_ready, fast=fast, eve_events=eve_events, resumed=prev[0] if prev is not None else None,
        )
        return fr
    except InputError:
        raise
    except (duckdb.Error, OSError, UnicodeError, ValueError) as exc:
        _rollback(con)
        fr.status, fr.reason = FAILED, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        fr.rows_loaded = fr.lines_loaded = fr.lines_rejected = 0
        return fr
    finally:
        drop_temps(con)
        if scan is not None:
            scan.cleanup()


def _scan_and_prefetch(
    con: duckdb.DuckDBPyConnection, path: Path, gz: bool, scan: Callable[[], Scan],
    fast_read: Callable[[], FastRead | None] | None = None, *, seen: bool,
    eve_parse: Callable[[], int | None] | None = None,
) -> tuple[Scan, bool, FastRead | None, int | None]:
    """Run ``scan()``; for a file never seen at this path, let DuckDB read it meanwhile: its typed
    rows (``fast_read``, Zeek TSV with one header block at the top: inserted in an open
    transaction, see :func:`_fast_read`) or else its lines.

    The scan (hashing, in Python) and DuckDB's reader (which releases the GIL) then use two
    cores at once. What was read ahead is kept only when it is what the sequential path would
    have read: the file itself (not gzip, not sanitized) and holding at least every consumed byte
    (its size before the read began covers them; a live log that grew during the scan is read
    again). A file seen before at this path (``seen``) is most likely unchanged, so it is not read
    ahead.
    An eve.json file is parsed instead (``eve_parse``: eve.parse_fast), its lines read only when
    that fails.
    Returns the scan, whether the read-ahead may be used, the typed read and the number of eve events
    parsed (both None: ``_raw`` holds the lines, when the read-ahead may be used).
    """
    if gz or seen:
        return scan(), False, None, None
    fast, events = None, None
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(scan)
        before = _identity(path)
        try:
            fast = fast_read() if fast_read is not None else None
            if fast is None:
                events = eve_parse() if eve_parse is not None else None
            if fast is None and events is None:
                read_lines(con, path, before[1])
            prefetched = True
        except READ_ERRORS:
            prefetched = False  # read again (and fail there, if it must) once the scan is known
        result = pending.result()
    after = _identity(path)
    # same file, never shrunk (a copytruncate rotation in between would), covering the consumed part
    ok = (
        prefetched and result.data_path == path and after[0] == before[0] and after[1] >= before[1]
        and before[1] >= result.consumed_bytes
    )
    if fast is not None and not ok:
        _rollback(con)
        fast = None
    if events is not None and not ok:
        con.execute("DROP TABLE IF EXISTS _eve")
        events = None
    return result, ok, fast, events


@dataclass(frozen=True)
class _FastPlan:
    """How a file may take the typed fast path: ``read(con, data_path, skip, file_id)`` inserts the
    rows after line ``skip`` (the header lines at the top; 0 for JSON, which cannot skip lines);
    ``block`` is the Zeek TSV header block the scan must confirm (None for JSON)."""

    read: Callable[[duckdb.DuckDBPyConnection, str, int, int], FastRead | None]
    skip: int
    block: zeek_tsv.Block | None = None


def _fast_plan(head: bytes, det: Detection) -> _FastPlan | None:
    """The typed fast path a file may take, from its first bytes: Zeek TSV with one header block at
    the top, or Zeek JSON of one known kind. None: the line-by-line path."""
    if det.format == ZEEK_TSV and not det.kind_per_line:
        top = zeek_tsv.head_block(head)
        if top is None:
            return None
        block, skip = top
        table = zeek_tsv.fast_eligible(block, det.kind)
        if table is None:
            return None
        return _FastPlan(
            lambda con, p, start, fid: zeek_tsv.fast_read(con, p, block, table, start, fid), skip, block,
        )
    table = ZEEK_KINDS.get(det.kind or "")
    if det.format == ZEEK_JSON and table is not None:
        kind, epoch_ts = det.kind, det.epoch_ts
        return _FastPlan(
            lambda con, p, start, fid: zeek_json.fast_read(con, p, kind, table, start, fid, epoch_ts=epoch_ts), 0,
        )
    return None


def _fast_read(
    con: duckdb.DuckDBPyConnection, plan: _FastPlan, data_path: str, skip: int, file_id: int
) -> FastRead | None:
    """Begin this file's transaction and insert its typed rows (``plan.read``). On success the
    transaction stays open (the caller commits it with the file's ingest_files row, or rolls it
    back); on None it is rolled back."""
    con.execute("BEGIN TRANSACTION")
    try:
        fast = plan.read(con, data_path, skip, file_id)
    except BaseException:
        _rollback(con)
        raise
    if fast is None:
        _rollback(con)
    return fast


def _checked_fast(
    con: duckdb.DuckDBPyConnection, scan: Scan, plan: _FastPlan, first_line: int,
    fast: FastRead | None, file_id: int, *, refused: bool = False,
) -> FastRead | None:
    """The typed rows to keep, when they are provably exactly the lines ``first_line..`` of the
    consumed part: nothing to sanitize and no cut last line; for Zeek TSV the scan saw one header
    block, the one at the top; and every consumed line is a header line, a row, or a trailing ``#``
    line. ``fast`` is the read made ahead (from the first data line, its transaction open); without
    it, or when only new lines are wanted, the typed read is made now (from ``first_line``), unless
    ``refused``: the read ahead was tried from the first data line and refused.
    None (with any such transaction rolled back): take the line-by-line path."""
    start = max(plan.skip, first_line - 1)
    usable = not (scan.needs_sanitize or scan.partial_tail or scan.data_path is None)
    if usable and plan.block is not None:
        blocks = zeek_tsv.parse_blocks(scan.header_lines, scan.consumed_lines)
        usable = (
            len(blocks) == 1 and blocks[0].fields == plan.block.fields and blocks[0].fields_line <= plan.skip
            and all(ln <= plan.skip for ln, _t in scan.header_lines)
        )
    if fast is not None and (not usable or fast.skip != start):
        _rollback(con)
        fast = None
    if usable and fast is None and not (refused and start == plan.skip):
        assert scan.data_path is not None
        fast = _fast_read(con, plan, str(scan.data_path), start, file_id)
    if fast is not None and fast.skip + fast.rows + fast.trailing_meta != scan.consumed_lines:
        _rollback(con)  # a line DuckDB skipped without a word (a blank line)
        fast = None
    return fast


def _identity(p: Path) -> tuple[tuple[int, int], int]:
    """((device, inode), size) of ``p``; ((0, 0), 0) when it cannot be stat'ed."""
    try:
        st = p.stat()
    except OSError:
        return (0, 0), 0
    return (st.st_dev, st.st_ino), st.st_size


def _meta_line(tail: bytes) -> bool:
    """A last line without newline that is a Zeek header/footer (``#close`` ...) is complete."""
    return tail.lstrip(b" \t").startswith(b"#")


def _previous(ledger: _Ledger, scan: Scan, fmt: str | None) -> tuple[int, int, int] | None:
    """The earlier ingest whose consumed content is the longest prefix of this file: (file_id, size, lines)."""
    candidates = [(scan.consumed_bytes, scan.fingerprint, scan.consumed_lines)]
    candidates += [
        (s.size, s.fingerprint, s.lines + (0 if s.ends_with_newline else 1))
        for s in scan.snapshots.values() if s.size < scan.consumed_bytes
    ]
    for size, sha, lines in sorted(candidates, reverse=True):
        fid = ledger.content_id(fmt, size, sha)
        if fid is not None:
            return fid, size, lines
    return None


def _load(
    con: duckdb.DuckDBPyConnection, ledger: _Ledger, fr: FileReport, path: Path, det: Detection, scan: Scan,
    first_line: int, *, appended: bool, strict: bool, prefetched: bool = False,
    fast: FastRead | None = None, eve_events: int | None = None, resumed: int | None = None,
) -> None:
    assert scan.data_path is not None
    last = scan.consumed_lines
    eve_classes: tuple[int, int, int] | None = None
    if fast is None and det.format == EVE and first_line == 1 and not prefetched:
        # eve.parse_fast: made ahead (eve_events), else now from the file as read (a gzip file's
        # decompressed copy); kept when every line is one of its events (no blank line)
        if eve_events is None and scan.total_bytes >= FAST_MIN_BYTES:
            eve_events = eve.parse_fast(con, scan.data_path)
        if eve_events is not None and eve_events == last:
            eve_classes = (0, 0, last)
    if eve_events is not None and eve_classes is None:
        con.execute("DROP TABLE IF EXISTS _eve")  # a fast parse the file's lines do not match
    # outside the transaction: rows inserted inside one get transaction-local rowids
    if not prefetched and fast is None and eve_classes is None:
        read_lines(con, scan.data_path, scan.total_bytes)
    if fast is None and det.format == EVE and eve_classes is None:
        # parsed before the transaction, so that the lines (as big as the file) are freed at once,
        # not at the commit: 3.0 -> 1.5 GB held for the rest of a 2 GiB eve.json's ingest, which
        # took 35.1 s end to end against 36.9 s (bench/bench_eve.py --copies 80 --repeat 2 --compare)
        eve_classes = line_classes(con, first_line, last, JSON_META)
        _repair_surrogates(con, fr, first_line, last)
        eve.parse(con, first_line, last)
        release_lines(con)
    if fast is None:  # (the typed rows are in the transaction their read began)
        con.execute("BEGIN TRANSACTION")
    try:
        file_id = fast.file_id if fast is not None else ledger.next_file_id()
        tally = Tally(file_id)
        meta_sql = TSV_META if det.format == ZEEK_TSV else JSON_META
        if fast is not None:
            # the typed read: header lines before its first row, its rows, trailing '#' lines; no blank
            fr.meta_lines = max(0, fast.skip - first_line + 1) + fast.trailing_meta
            fr.blank_lines, data = 0, fast.rows
            account_fast(con, tally, fast)
            if fast.kind and fr.kind != fast.kind:
                fr.kind = fast.kind
        elif det.format == ZEEK_TSV:
            fr.meta_lines, fr.blank_lines, data = line_classes(con, first_line, last, meta_sql)
            blocks = zeek_tsv.parse_blocks(scan.header_lines, last)
            fr.warnings += zeek_tsv.load(con, tally, blocks, det.kind, first_line, last)
            if blocks and blocks[0].path and fr.kind != blocks[0].path:
                fr.kind = blocks[0].path
        elif det.format == ZEEK_JSON:
            fr.meta_lines, fr.blank_lines, data = line_classes(con, first_line, last, meta_sql)
            _repair_surrogates(con, fr, first_line, last)
            zeek_json.load(con, tally, det.kind, first_line, last)
        else:
            assert eve_classes is not None
            fr.meta_lines, fr.blank_lines, data = eve_classes
            eve.load(con, tally)
            fr.kind = "eve"
        if scan.partial_tail:
            tally.reject_one(
                con, last + 1,
                # a .gz that ends mid-line was cut short (a rotated log is compressed whole): it does not grow
                "incomplete last line: the compressed file ends mid-line (truncated)"
                if path.name.endswith(".gz") else
                PENDING_TAIL,
                scan.partial_tail[:1000].decode("utf-8", "backslashreplace"),
            )
            data += 1
        fr.file_id = file_id
        fr.rows_by_table = dict(tally.rows)
        fr.rows_loaded = sum(tally.rows.values())
        fr.lines_loaded = tally.lines_loaded
        fr.lines_rejected = tally.rejected
        fr.skipped_events = tally.skipped_events
        fr.data_lines = data
        fr.rejects = sorted(tally.rejects, key=lambda r: r.line)
        fr.min_ts, fr.max_ts = tally.min_ts, tally.max_ts
        dup = remove_duplicates(con, file_id, fr.kind, det.format,
                                [t for t, n in tally.rows.items() if n], fr.min_ts, fr.max_ts)
        if dup.total:
            fr.duplicates = dup.total
            for table, n in dup.by_table.items():
                fr.rows_by_table[table] -= n
            fr.rows_loaded -= dup.total
            fr.warnings.append(dup.warning())
        if data - (1 if scan.partial_tail else 0) == 0 and not appended:
            fr.status = SKIPPED
            fr.reason = "header only: no data lines" if fr.meta_lines else "no data lines"
        elif data and fr.skipped_events == data and not appended:
            fr.status = SKIPPED
            fr.reason = (
                "no flow, dns, tls or http events" if det.format == EVE
                else f"unknown/unsupported log kind {det.kind!r} (every line)"
            )
        else:
            fr.status = APPENDED if appended else LOADED
        if strict and fr.lines_rejected:
            first = fr.rejects[0] if fr.rejects else None
            raise InputError(
                f"{fr.lines_rejected} line(s) rejected (--strict); first: {first.reason if first else '?'}",
                path=str(path), line=first.line if first else None,
            )
        apath = str(path.resolve())
        if resumed is not None:
            _settle_pending_tail(con, resumed, first_line)
        _record(con, fr, apath, det, scan)
        con.execute("COMMIT")
    except BaseException:
        _rollback(con)
        raise
    ledger.add(file_id, apath, det.format, scan.consumed_bytes, scan.fingerprint, fr.status)


def _repair_surrogates(con: duckdb.DuckDBPyConnection, fr: FileReport, lo: int, hi: int) -> None:
    """JSON lines that escape a lone UTF-16 surrogate are read with U+FFFD in its place
    (common.repair_surrogates), and the file's warnings say how many."""
    fixed = repair_surrogates(con, lo, hi)
    if fixed:
        fr.warnings.append(f"{fixed} line(s) escape a lone UTF-16 surrogate (such as \\udcff, no character): "
                           f"read with U+FFFD in its place, as an invalid byte is")


def _settle_pending_tail(con: duckdb.DuckDBPyConnection, file_id: int, first_line: int) -> None:
    """A grown file was read on from line ``first_line``: the incomplete last line that the earlier pass
    (``file_id``) left pending is that line, now read whole, so it is no longer counted as rejected
    there (a live log ingested hourly kept a red "1 rejected" per pass in every later report)."""
    settled = con.execute(
        "SELECT count(*) FROM ingest_rejects WHERE file_id = $id AND reason = $pending AND line >= $first",
        {"id": file_id, "pending": PENDING_TAIL, "first": first_line}).fetchone()[0]
    if settled:
        con.execute("DELETE FROM ingest_rejects WHERE file_id = $id AND reason = $pending AND line >= $first",
                    {"id": file_id, "pending": PENDING_TAIL, "first": first_line})
        con.execute("UPDATE ingest_files SET lines_rejected = lines_rejected - $n, data_lines = data_lines - $n "
                    "WHERE file_id = $id", {"id": file_id, "n": settled})


def _record(con: duckdb.DuckDBPyConnection, fr: FileReport, apath: str, det: Detection, scan: Scan) -> None:
    con.execute(
        "INSERT INTO ingest_files (file_id, path, kind, format, size_bytes, head_sha256, data_lines, "
        "rows_loaded, lines_rejected, skipped_events, status, reason, min_ts, max_ts, loaded_at) "
        "VALUES ($id, $path, $kind, $format, $size, $sha, $data, $rows, $rej, $skipped, $status, $reason, "
        "$min_ts, $max_ts, $now)",
        {
            "id": fr.file_id, "path": apath, "kind": fr.kind, "format": det.format,
            "size": scan.consumed_bytes, "sha": scan.fingerprint, "data": fr.data_lines, "rows": fr.rows_loaded,
            "rej": fr.lines_rejected, "skipped": fr.skipped_events, "status": fr.status,
            "reason": "; ".join([x for x in [fr.reason, *fr.warnings] if x]) or None,
            "min_ts": fr.min_ts, "max_ts": fr.max_ts,
            "now": dt.datetime.now(dt.timezone.utc).replace(tzinfo=None),
        },
    )


def _skip(
    con: duckdb.DuckDBPyConnection, ledger: _Ledger, fr: FileReport, path: Path, head: bytes, reason: str
) -> FileReport:
    """Record a skipped file once: skipping the same file again adds no ingest_files row."""
    fr.status, fr.reason = SKIPPED, reason
    size = _size(path)
    sha = Fingerprint.of(head[:HEAD_BYTES], sha256=ledger.sha256)
    apath = str(path.resolve())
    seen = ledger.skipped(apath, size, sha)
    if seen is not None:
        fr.file_id = seen
        return fr
    con.execute("BEGIN TRANSACTION")
    try:
        fr.file_id = ledger.next_file_id()
        con.execute(
            "INSERT INTO ingest_files (file_id, path, kind, format, size_bytes, head_sha256, data_lines, "
            "rows_loaded, lines_rejected, skipped_events, status, reason, loaded_at) "
            "VALUES ($id, $path, $kind, $format, $size, $sha, 0, 0, 0, 0, 'skipped', $reason, $now)",
            {"id": fr.file_id, "path": apath, "kind": fr.kind, "format": fr.format, "size": size, "sha": sha,
             "reason": reason, "now": dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)},
        )
        con.execute("COMMIT")
    except BaseException:
        _rollback(con)
        raise
    ledger.add(fr.file_id, apath, fr.format, size, sha, SKIPPED)
    return fr


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass
