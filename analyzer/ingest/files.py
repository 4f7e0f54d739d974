"""Finding input files and preparing one file's bytes for DuckDB.

DuckDB does the heavy lifting (it reads every line), but a few things must be known *before* it
runs and cost one streaming pass at C speed (BLAKE3, zlib, numpy's count, ``re`` over 1 MiB
chunks; never a Python loop over lines):

* gzip is decompressed here, not by DuckDB, so that a **truncated** gzip keeps what decompressed
  (DuckDB would fail the whole file) and so that the fingerprint is of the uncompressed content;
* the **fingerprint** of the consumed prefix (size + BLAKE3, with snapshots at the sizes consumed by
  earlier ingests) decides between "already loaded", "grown: read only the new lines" and "new";
* the Zeek header lines (``#fields`` ...) are located with their line numbers, for repeated blocks;
* bytes that would make DuckDB's line reader drop or split a line (invalid UTF-8, NUL, CR) are
  detected. Only then is the file rewritten once into a sanitized copy that has the *same lines*
  (invalid bytes become ``\\xNN`` text, as Zeek itself escapes them), so line numbers stay true.
"""

from __future__ import annotations

import codecs
import glob
import hashlib
import os
import re
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import blake3

from analyzer.errors import InputError

CHUNK = 1 << 20
HEAD_BYTES = 64 * 1024
GZIP_MAGIC = b"\x1f\x8b"
MAX_HEADER_LINES = 100_000      # header lines remembered per file (a hostile file may have millions)
MAX_HEADER_TEXT = 64 * 1024     # a header line longer than this is truncated (it is then no valid header)
#: chunks from this size up have their lines counted by numpy (see :func:`count_newlines`)
_NUMPY_COUNT_BYTES = 1 << 16

#: a Zeek header keyword and the rest of its line; a header line is one where only spaces or TABs
#: precede it (``_header_lines``). Searched from the '#', not with a multi-line ``^``: the regex
#: engine then skips to each '#' at C speed instead of trying every line start (20x faster on a
#: decompressed hourly log, where the header and the data arrive as one chunk).
_HEADER_RE = re.compile(rb"#(?:fields|types|path|separator|set_separator|unset_field|empty_field)\b[^\n]*")


def count_newlines(data: bytes) -> int:
    """The number of b"\\n" in ``data``. ``bytes.count`` of one byte runs at about 1.8 GB/s here: 0.73 s of
    CPU for the 1.37 GB conn.log of a 10M-connection day, which the scan of every file (hashing,
    counting, in a thread) takes from the two cores DuckDB's reader is using meanwhile. numpy compares
    and counts the same bytes in 0.02 s (and is installed with matplotlib, a dependency of the report)."""
    if len(data) < _NUMPY_COUNT_BYTES:
        return data.count(b"\n")
    import numpy as np  # here, not at the top: a small run never pays for the import

    return int(np.count_nonzero(np.frombuffer(data, dtype=np.uint8) == 10))


class Fingerprint:
    """The content fingerprint of a file's consumed prefix, as ``ingest_files.head_sha256`` stores it.

    BLAKE3, written ``blake3:<hex>``: a cryptographic hash (a log's lines are attacker-controlled,
    and a file whose fingerprint matched one already loaded would be skipped), at 3.7 GB/s on one
    core of this machine against SHA-256's 1.7 GB/s with SHA-NI. The scan hashes every byte of every
    file while DuckDB reads it on the same two cores: at 10M connections (2.9 GiB of logs) reading
    and hashing took 2.2 CPU-s with SHA-256, 0.95 with BLAKE3. Stores written before 2026-12-03 hold
    SHA-256 as bare hex; an ingest into such a store goes on fingerprinting with SHA-256
    (``sha256=True``), so that the files it already holds are still recognised."""

    PREFIX = "blake3:"

    def __init__(self, *, sha256: bool = False, _h: Any = None) -> None:
        self.sha256 = sha256
        self._h = _h if _h is not None else (hashlib.sha256() if sha256 else blake3.blake3())

    def update(self, data: bytes | memoryview) -> None:
        self._h.update(data)

    def copy(self) -> "Fingerprint":
        return Fingerprint(sha256=self.sha256, _h=self._h.copy())

    def value(self) -> str:
        return self._h.hexdigest() if self.sha256 else self.PREFIX + self._h.hexdigest()

    @classmethod
    def of(cls, data: bytes, *, sha256: bool = False) -> str:
        f = cls(sha256=sha256)
        f.update(data)
        return f.value()

    @classmethod
    def is_legacy(cls, stored: str | None) -> bool:
        """Whether a stored fingerprint is the bare SHA-256 hex of a store written before BLAKE3."""
        return bool(stored) and not str(stored).startswith(cls.PREFIX)


def _header_lines(block: bytes) -> Iterator[tuple[int, bytes]]:
    """(offset of the line, the line up to its newline) of each Zeek header line in ``block``: a line
    of optional spaces or TABs, then ``#fields``, ``#types`` ... (the line start is the block start or
    just after a newline)."""
    for m in _HEADER_RE.finditer(block):
        start = block.rfind(b"\n", 0, m.start()) + 1
        if not block[start:m.start()].strip(b" \t"):
            yield start, block[start:m.end()]


def expand_paths(paths: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """Files named by ``paths``: files as given, directories walked recursively, globs expanded.

    The result is sorted within each argument (so rotated logs load in name order, which for
    zeekctl archives is time order) and de-duplicated; open_* logs come last. Raises
    :class:`InputError` for a path that matches nothing, before anything is loaded.
    """
    out: list[Path] = []
    seen: set[Path] = set()

    def add(p: Path) -> None:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            out.append(p)

    for raw in paths:
        p = Path(raw)
        if p.is_file():
            add(p)
        elif p.is_dir():
            for sub in sorted(x for x in p.rglob("*") if _walked(x)):
                add(sub)
        elif glob.has_magic(str(raw)):
            matches = sorted(glob.glob(str(raw), recursive=True))
            if not matches:
                raise InputError("no file matches this pattern", path=str(raw))
            for m in matches:
                mp = Path(m)
                if mp.is_dir():
                    for sub in sorted(x for x in mp.rglob("*") if _walked(x)):
                        add(sub)
                elif mp.is_file():
                    add(mp)
        else:
            raise InputError("no such file or directory", path=str(raw))
    # Zeek's open-connections logs (open_conn.*, open_ssl.*, open_http.*) after every other file: a
    # connection's record in conn.log is whole, its open records are what it was at a rotation, and
    # of the two the one loaded first is kept (analyzer.ingest.duplicates), whichever day folder
    # each is in. The sort is stable: the order above holds within each group.
    out.sort(key=lambda p: p.name.startswith("open_"))
    return out


def _walked(p: Path) -> bool:
    """A file a folder's walk loads: a regular file, or a symbolic link to nothing (a rotated-away
    log, a stale ``current`` link), which the ingest lists as skipped, saying so, rather than leave
    out without a word."""
    return p.is_file() or is_broken_link(p)


def is_broken_link(p: Path) -> bool:
    """A symbolic link whose target does not exist."""
    return p.is_symlink() and not p.exists()


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC


@dataclass
class GzipState:
    """How a gzip stream ended; ``problem`` is None for a clean end."""

    problem: str | None = None


def iter_bytes(path: Path, gz: bool, state: GzipState | None = None) -> Iterator[bytes]:
    """Yield the (decompressed) content of ``path`` in chunks.

    For gzip, multi-member files (``cat a.gz b.gz``) are followed; a truncated or corrupt stream
    stops the iteration after everything that could be decompressed, with the problem in ``state``.
    """
    with open(path, "rb") as fh:
        if not gz:
            while chunk := fh.read(CHUNK):
                yield chunk
            return
        d = zlib.decompressobj(wbits=31)
        compressed_pos = 0
        while True:
            raw = fh.read(CHUNK)
            if not raw:
                if not d.eof and state is not None:
                    state.problem = (
                        f"truncated gzip: the compressed stream ends early (after {compressed_pos} "
                        "compressed bytes); kept what decompressed"
                    )
                tail = d.flush()
                if tail:
                    yield tail
                return
            compressed_pos += len(raw)
            while raw:
                saved = d.copy()
                try:
                    out = d.decompress(raw)
                except zlib.error as exc:
                    # redo this chunk in small steps to keep what decompresses before the damage
                    d = saved
                    for i in range(0, len(raw), 512):
                        try:
                            out = d.decompress(raw[i:i + 512])
                        except zlib.error:
                            break
                        if out:
                            yield out
                    if state is not None:
                        state.problem = f"corrupt gzip ({exc}); kept what decompressed before it"
                    return
                if out:
                    yield out
                if d.eof:
                    raw = d.unused_data
                    if not raw:
                        # the member ended with this chunk; another may start in the next one
                        nxt = fh.read(CHUNK)
                        if not nxt:
                            return
                        compressed_pos += len(nxt)
                        raw = nxt
                    if not raw.startswith(GZIP_MAGIC[: len(raw)]):
                        if raw.strip(b"\x00") and state is not None:  # zero padding is common and harmless
                            state.problem = "trailing garbage after the gzip stream ignored"
                        return
                    d = zlib.decompressobj(wbits=31)
                else:
                    raw = b""


def read_head(path: Path, gz: bool, limit: int = HEAD_BYTES, state: GzipState | None = None) -> bytes:
    """The first ``limit`` bytes of the (decompressed) content, for format detection (``state``: how
    a gzip stream ended, when it ended before ``limit``)."""
    buf = bytearray()
    for chunk in iter_bytes(path, gz, state if state is not None else GzipState()):
        buf += chunk
        if len(buf) >= limit:
            break
    return bytes(buf[:limit])


@dataclass
class Snapshot:
    """The fingerprint of the first ``size`` bytes and how many lines they hold."""

    size: int
    fingerprint: str
    lines: int                 # newlines in the prefix
    ends_with_newline: bool


@dataclass
class Scan:
    """Everything learnt in the one streaming pass over a file."""

    total_bytes: int = 0          # all (decompressed) bytes
    consumed_bytes: int = 0       # bytes up to and including the last newline (or all, see scan_file)
    consumed_lines: int = 0       # lines in the consumed part
    fingerprint: str = ""         # of the consumed part (Fingerprint.value)
    partial_tail: bytes = b""     # bytes after the last newline that were not consumed
    snapshots: dict[int, Snapshot] = field(default_factory=dict)
    header_lines: list[tuple[int, str]] = field(default_factory=list)   # (line, text) of Zeek header lines
    needs_sanitize: bool = False
    sanitize_why: list[str] = field(default_factory=list)
    gzip_problem: str | None = None
    data_path: Path | None = None  # what DuckDB should read (the file itself, or a temp copy)
    temp_paths: list[Path] = field(default_factory=list)

    def cleanup(self) -> None:
        for p in self.temp_paths:
            try:
                p.unlink()
            except OSError:
                pass
        self.temp_paths.clear()


def _temp_file(tmpdir: str | None, suffix: str) -> tuple[int, Path]:
    fd, name = tempfile.mkstemp(prefix="sc2-ingest-", suffix=suffix, dir=tmpdir)
    return fd, Path(name)


def scan_file(
    path: Path,
    gz: bool,
    snapshot_sizes: Iterable[int] = (),
    *,
    keep_tail_if: Callable[[bytes], bool] | None = None,
    json_lines: bool = False,
    tmpdir: str | None = None,
    sha256: bool = False,
) -> Scan:
    """One pass over ``path``: fingerprint, header lines, sanity flags; a temp copy when needed.

    ``snapshot_sizes``: byte sizes consumed by earlier ingests; the fingerprint of the prefix of
    each such size is recorded so the caller can recognise a file that only grew.
    ``sha256``: fingerprint as stores written before BLAKE3 did (:class:`Fingerprint`).
    ``keep_tail_if``: called with the bytes after the last newline; when it returns True those bytes
    are consumed as a last line (used for JSON, where a complete object is recognisable).
    ``json_lines``: how a sanitized copy repairs bad bytes (see :func:`_sanitize`); JSON lines
    have no Zeek header lines, so none are looked for.
    """
    scan = Scan()
    sizes = sorted({s for s in snapshot_sizes if s > 0})
    si = 0
    h = Fingerprint(sha256=sha256)
    pos = 0
    lines = 0
    utf8 = codecs.getincrementaldecoder("utf-8")()
    utf8_ok = True
    carry = b""          # an incomplete line carried into the next chunk for the header regex
    carry_line = 1       # line number at which ``carry`` starts
    last_byte = b"\n"
    gzstate = GzipState()
    out_fd: int | None = None
    if gz:
        out_fd, out_path = _temp_file(tmpdir, ".log")
        scan.temp_paths.append(out_path)
        scan.data_path = out_path
    else:
        scan.data_path = path
    try:
        for chunk in iter_bytes(path, gz, gzstate):
            if out_fd is not None:
                os.write(out_fd, chunk)
            # fingerprint snapshots at earlier consumed sizes (each byte hashed and counted once: a
            # folder of 96 hourly files has ~95 earlier sizes, and counting each from the chunk start
            # made the scan quadratic in the number of files)
            start = lines_in = 0
            view = memoryview(chunk)
            while si < len(sizes) and sizes[si] <= pos + len(chunk):
                cut = sizes[si] - pos
                h.update(view[start:cut])
                lines_in += chunk.count(b"\n", start, cut)
                ends_nl = (chunk[cut - 1:cut] if cut > 0 else last_byte) == b"\n"
                scan.snapshots[sizes[si]] = Snapshot(sizes[si], h.copy().value(), lines + lines_in, ends_nl)
                start = cut
                si += 1
            h.update(view[start:])
            # sanity flags (an ASCII chunk with no multi-byte sequence pending is valid UTF-8)
            if utf8_ok and not (chunk.isascii() and not utf8.getstate()[0]):
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError:
                    utf8_ok = False
                    scan.needs_sanitize = True
                    scan.sanitize_why.append("invalid UTF-8")
            if b"\x00" in chunk and "NUL bytes" not in scan.sanitize_why:
                scan.needs_sanitize = True
                scan.sanitize_why.append("NUL bytes")
            if b"\r" in chunk and "CR characters" not in scan.sanitize_why:
                scan.needs_sanitize = True
                scan.sanitize_why.append("CR characters")
            n = count_newlines(chunk)
            if not json_lines:
                # Zeek header lines, on whole lines only. ``carry`` never holds a newline, so the
                # newlines before the block's last one are the chunk's. Chunks without any '#'
                # (the data lines of most logs) are not copied into a block.
                if b"#" in chunk or b"#" in carry:
                    block = carry + chunk
                    cut = block.rfind(b"\n") + 1
                    whole, carry = block[:cut], block[cut:]
                    if len(scan.header_lines) < MAX_HEADER_LINES and b"#" in whole:
                        ln = carry_line
                        prev = 0
                        for start, line in _header_lines(whole):
                            ln += whole.count(b"\n", prev, start)
                            prev = start
                            text = line[:MAX_HEADER_TEXT].decode("utf-8", "backslashreplace")
                            scan.header_lines.append((ln, text))
                            if len(scan.header_lines) >= MAX_HEADER_LINES:
                                break
                else:
                    i = chunk.rfind(b"\n")
                    carry = carry + chunk if i < 0 else chunk[i + 1:]
                carry_line += n
                if len(carry) > MAX_HEADER_TEXT * 4:
                    # a huge line: keep only its start for the header regex
                    carry = carry[: MAX_HEADER_TEXT]
            lines += n
            pos += len(chunk)
            last_byte = chunk[-1:]
        if utf8_ok:
            try:
                utf8.decode(b"", final=True)
            except UnicodeDecodeError:
                scan.needs_sanitize = True
                scan.sanitize_why.append("invalid UTF-8")
    finally:
        if out_fd is not None:
            os.close(out_fd)
    scan.gzip_problem = gzstate.problem
    scan.total_bytes = pos
    scan.fingerprint = h.value()
    if last_byte == b"\n" or pos == 0:
        scan.consumed_bytes, scan.consumed_lines = pos, lines
    else:
        # the last line has no newline: a file still being written, or cut short
        # read by absolute offsets: a live file may have grown since this pass read it
        tail = _read_range(scan.data_path or path, _last_newline_end(scan, path, gz), pos)
        if keep_tail_if is not None and keep_tail_if(tail):
            scan.consumed_bytes, scan.consumed_lines = pos, lines + 1
        else:
            scan.partial_tail = tail
            scan.consumed_bytes, scan.consumed_lines = pos - len(tail), lines
            scan.fingerprint = _prefix_fingerprint(scan.data_path if gz else path, scan.consumed_bytes, sha256)
    # header lines after the consumed part are not ours to use
    scan.header_lines = [(ln, t) for ln, t in scan.header_lines if ln <= scan.consumed_lines]
    if scan.needs_sanitize:
        _sanitize(scan, tmpdir, json_lines)
    return scan


def _last_newline_end(scan: Scan, path: Path, gz: bool) -> int:
    """Offset just after the last newline of the (decompressed) content."""
    src = scan.data_path if gz else path
    assert src is not None
    size = scan.total_bytes
    step = 1 << 16
    with open(src, "rb") as fh:
        end = size
        while end > 0:
            start = max(0, end - step)
            fh.seek(start)
            buf = fh.read(end - start)
            i = buf.rfind(b"\n")
            if i >= 0:
                return start + i + 1
            end = start
    return 0


def _read_range(path: Path, start: int, end: int) -> bytes:
    with open(path, "rb") as fh:
        fh.seek(start)
        return fh.read(end - start)


def _prefix_fingerprint(path: Path | None, size: int, sha256: bool) -> str:
    assert path is not None
    h = Fingerprint(sha256=sha256)
    left = size
    with open(path, "rb") as fh:
        while left > 0:
            buf = fh.read(min(CHUNK, left))
            if not buf:
                break
            h.update(buf)
            left -= len(buf)
    return h.value()


def _sanitize(scan: Scan, tmpdir: str | None, json_lines: bool) -> None:
    """Rewrite the consumed part into a copy DuckDB reads line for line (same line count).

    Zeek TSV: invalid UTF-8 and NUL become ``\\xNN`` text (Zeek's own escape convention), which
    the escape decoder later leaves as is. JSON: they become U+FFFD, so the object still parses
    (a ``\\x`` inside a JSON string would make the line invalid JSON). CRLF becomes LF; a lone CR
    becomes ``\\x0d`` (TSV) or a space (JSON). Only lines holding such bytes change.
    """
    src = scan.data_path
    assert src is not None
    fd, out_path = _temp_file(tmpdir, ".sanitized.log")
    scan.temp_paths.append(out_path)
    left = scan.consumed_bytes
    carry = b""
    with open(src, "rb") as fh, os.fdopen(fd, "wb") as out:
        while left > 0 or carry:
            buf = fh.read(min(CHUNK, left)) if left > 0 else b""
            left -= len(buf)
            block = carry + buf
            if left > 0 and buf:
                cut = block.rfind(b"\n") + 1
                if cut == 0:
                    carry = block
                    continue
                block, carry = block[:cut], block[cut:]
            else:
                carry = b""
            if json_lines:
                text = block.decode("utf-8", "replace").replace("\r\n", "\n")
                text = text.replace("\r", " ").replace("\x00", "\ufffd")
            else:
                text = block.decode("utf-8", "backslashreplace").replace("\r\n", "\n")
                text = text.replace("\r", "\\x0d").replace("\x00", "\\x00")
            out.write(text.encode("utf-8"))
            if not buf:
                break
    scan.data_path = out_path
