"""Decoding of one Spark event-log file: plain, lz4, lzf, snappy, zstd (and gzip).

Spark picks the codec of an event log from its file name only (``EventLogFileWriter.codecName``) and writes
each codec's *Java library* stream format, which is not always the codec's standard file format:

* ``lz4``: lz4-java ``LZ4BlockOutputStream`` blocks (``"LZ4Block"`` magic, XXH32 checksums), not the LZ4 frame
  format;
* ``snappy``: snappy-java ``SnappyOutputStream`` (``"\\x82SNAPPY\\0"`` header, length-prefixed raw blocks), not
  the Snappy framing format;
* ``lzf``: compress-lzf ``ZV`` chunks;
* ``zstd``: standard zstd frames, one closed per flush, so a file is many concatenated frames;
* ``gz``: plain gzip, accepted although Spark does not write it.

:func:`decode_to` streams a file to a binary output in chunks of a few MB, so the memory it uses does not grow
with the size of the log. All problems with the input are raised as :class:`SparkswordError` naming the file,
the codec and the byte offset.
"""
from __future__ import annotations

import io
import mmap
import os
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cramjam
import lzf
import zstandard

from ..errors import SparkswordError

try:  # XXH32 verifies lz4 block checksums; without it the blocks are still decoded, unchecked.
    import xxhash

    _xxh32: Callable[..., int] | None = xxhash.xxh32_intdigest
except ImportError:  # pragma: no cover - xxhash is a dependency
    _xxh32 = None



class ByteSource(Protocol):
    """What the decoders read from: an open binary file (or a stream that behaves like one)."""

    def read(self, size: int = -1, /) -> bytes: ...
    def readinto(self, buffer: bytearray | memoryview, /) -> int | None: ...
    def tell(self) -> int: ...
    def seek(self, offset: int, whence: int = 0, /) -> int: ...
    def fileno(self) -> int: ...


class ByteSink(Protocol):
    """Where decoded bytes go."""

    def write(self, data: bytes | bytearray | memoryview, /) -> Any: ...

__all__ = ["CODECS", "DecodeResult", "codec_for", "content_problem", "decode_to", "json_lines_problem", "read_head"]

CODECS: frozenset[str] = frozenset({"lz4", "lzf", "snappy", "zstd", "gz"})
"""Short codec names recognised from a file name's extension (Spark's four, plus gzip)."""

_COMPACT_SUFFIX = ".compact"
_IN_PROGRESS_SUFFIX = ".inprogress"

_READ_CHUNK = 4 * 1024 * 1024  # compressed bytes read from the file at a time
_OUT_CAP = 4 * 1024 * 1024  # decoded bytes gathered before one write to the output
_OUT_START = 256 * 1024
_FEED = 64 * 1024  # compressed bytes given to a zlib decompressor per call (its output is capped anyway)
# zstd output cannot be capped per call, and one byte of a crafted frame (RLE blocks) can stand for 32 KB:
# small feeds bound a call's output to 32 MB, at no measurable cost on real logs.
_ZSTD_FEED = 1024
_ZLIB_MAX_OUT = 4 * 1024 * 1024  # zlib output per call (bounds memory on highly compressed input)

# lz4-java LZ4Block stream
_LZ4_MAGIC = b"LZ4Block"
_LZ4_HEADER = struct.Struct("<8sBiii")  # magic, token, compressed length, original length, checksum
_LZ4_METHOD_RAW = 0x10
_LZ4_METHOD_LZ4 = 0x20
_LZ4_SEED = 0x9747B28C
_LZ4_CHECK_MASK = 0x0FFFFFFF

# snappy-java stream
_SNAPPY_MAGIC = b"\x82SNAPPY\x00"
_SNAPPY_HEADER_LEN = 16
_SNAPPY_MAX_CHUNK = 1 << 26  # far above any block size snappy-java writes; guards against a corrupt length
_SNAPPY_MAX_RATIO = 22  # a snappy copy op turns 3 input bytes into at most 64 output bytes

# compress-lzf
_LZF_COMPRESSED = 1
_LZF_STORED = 0

# zstd
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_ZSTD_FRAME_HEADER_MAX = 18  # ZSTD_FRAMEHEADERSIZE_MAX: magic, descriptor, window, dictionary id, content size


def codec_for(path: Path) -> str | None:
    """The compression codec of an event-log file, from its name only, as Spark's ``EventLogFileWriter.codecName``.

    ``.compact`` and then ``.inprogress`` are stripped and the text after the last ``.`` is the codec's short
    name. Returns it when it is one of :data:`CODECS`, else None (an uncompressed log).

    >>> codec_for(Path("events_1_local-1.zstd")), codec_for(Path("local-1.lz4.inprogress"))
    ('zstd', 'lz4')
    >>> codec_for(Path("local-1795302288874.inprogress")) is None
    True
    """
    name = Path(path).name
    name = name.removesuffix(_COMPACT_SUFFIX).removesuffix(_IN_PROGRESS_SUFFIX)
    if "." not in name:
        return None
    ext = name.rsplit(".", 1)[1].lower()
    return ext if ext in CODECS else None


@dataclass(frozen=True)
class DecodeResult:
    """What :func:`decode_to` wrote."""

    bytes_out: int
    """Decompressed bytes written to the output."""
    torn_tail: str | None
    """None, or a short description of an incomplete end of the compressed stream that was dropped."""


def decode_to(path: Path, codec: str | None, out: ByteSink, *, tolerate_torn_tail: bool) -> DecodeResult:
    """Write the decompressed bytes of the event-log file ``path`` to ``out``, streaming.

    ``codec`` is a name from :data:`CODECS` or None (the bytes are copied as they are).

    A stream that ends inside a block or frame (a log still being written, or a cut copy): with
    ``tolerate_torn_tail`` (the log is in progress) everything decodable before the incomplete block is
    written and the dropped part is described in :attr:`DecodeResult.torn_tail`; otherwise
    :class:`SparkswordError` is raised. For zstd, the blocks of an unfinished last frame that are complete
    are kept (as Spark's own reader returns them).

    Corrupt data, a wrong format for the codec (e.g. a standard LZ4-frame file named ``.lz4``) or an unreadable
    file raise :class:`SparkswordError` naming the codec and the byte offset. Errors writing to ``out`` are
    not about the input and propagate unchanged.
    """
    path = Path(path)
    if codec is not None and codec not in CODECS:
        raise SparkswordError(
            f"unsupported compression codec {codec!r} (supported: {', '.join(sorted(CODECS))})", path=path
        )
    try:
        f = open(path, "rb")
    except OSError as e:
        raise SparkswordError(f"cannot read the file ({e.strerror or e})", path=path) from None
    try:
        with f:
            if codec is None:
                return _copy(path, f, out)
            decoder = _DECODERS[codec]
            return decoder(path, f, out, tolerate_torn_tail)
    except SparkswordError:
        raise
    except OSError as e:
        if isinstance(e, _OutputError):
            raise e.__cause__ from None  # type: ignore[misc]
        raise SparkswordError(f"cannot read the file ({e.strerror or e})", path=path) from None
    except MemoryError:
        raise SparkswordError(f"corrupt {codec} stream: a block claims an impossible size", path=path) from None


# --------------------------------------------------------------------------------------------- helpers


class _HeadFull(Exception):
    """Raised by the head buffer to stop decoding once it holds enough."""


class _HeadBuffer(io.BytesIO):
    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def write(self, data: Any) -> int:  # noqa: ANN401 - BytesIO.write takes any buffer
        written = super().write(data)
        if self.tell() >= self.limit:
            raise _HeadFull
        return written


def decoded_head(path: Path, codec: str | None, limit: int = 4 << 20) -> bytes:
    """The first `limit` decompressed bytes of an event-log file (fewer when it is shorter)."""
    head = _HeadBuffer(limit)
    try:
        decode_to(path, codec, head, tolerate_torn_tail=True)
    except _HeadFull:
        pass
    return head.getvalue()[:limit]


class _OutputError(OSError):
    """An error writing the output (not the input's fault): re-raised as the original exception."""


class _Sink:
    """Gathers decoded blocks in one buffer and writes it to the output a few MB at a time."""

    __slots__ = ("out", "buf", "view", "pos", "total")

    def __init__(self, out: ByteSink) -> None:
        self.out = out
        self.buf = bytearray(_OUT_START)  # grows to _OUT_CAP: small files do not pay for a big buffer
        self.view = memoryview(self.buf)
        self.pos = 0
        self.total = 0

    def reserve(self, n: int) -> memoryview:
        """A writable slice of exactly ``n`` bytes; call :meth:`commit` after filling it."""
        if self.pos + n > len(self.buf):
            self.flush()
            if n > len(self.buf) or len(self.buf) < _OUT_CAP:
                self.buf = bytearray(max(n, min(_OUT_CAP, 2 * len(self.buf))))
                self.view = memoryview(self.buf)
        return self.view[self.pos:self.pos + n]

    def commit(self, n: int) -> None:
        self.pos += n

    def write(self, data: bytes | memoryview) -> None:
        """Pass already-decoded bytes through (large pieces are written directly)."""
        n = len(data)
        if n == 0:
            return
        if n >= _OUT_CAP // 2:
            self.flush()
            self._emit(data)
            return
        self.reserve(n)[:] = data
        self.pos += n

    def flush(self) -> None:
        if self.pos:
            self._emit(self.view[:self.pos])
            self.pos = 0

    def _emit(self, data: bytes | memoryview) -> None:
        try:
            self.out.write(data)
        except OSError as e:
            raise _OutputError(str(e)) from e
        self.total += len(data)


class _Input:
    """Buffered reading of the compressed file into one reused buffer: ``view[off:end]`` are the unread bytes,
    ``base`` is the file offset of ``buf[0]``."""

    __slots__ = ("f", "buf", "view", "off", "end", "base", "eof", "size_hint")

    def __init__(self, f: ByteSource) -> None:
        self.f = f
        self.buf = bytearray()
        self.view = memoryview(self.buf)
        self.off = self.end = self.base = 0
        self.eof = False
        try:
            self.size_hint = os.fstat(f.fileno()).st_size
        except (OSError, AttributeError, ValueError):
            self.size_hint = _READ_CHUNK

    @property
    def pos(self) -> int:
        """File offset of the next unread byte."""
        return self.base + self.off

    def avail(self) -> int:
        return self.end - self.off

    def rest(self) -> bytes:
        """The unread bytes (at the end of the file: a short tail)."""
        return bytes(self.view[self.off:self.end])

    def need(self, n: int) -> bool:
        """Make at least ``n`` unread bytes available; False if the file ends first."""
        while self.end - self.off < n:
            if self.eof:
                return False
            rem = self.end - self.off
            if len(self.buf) < n or (self.off == 0 and rem == len(self.buf)):
                # First read, or a block larger than the buffer: a bigger buffer (small files get a small one).
                size = max(n, min(_READ_CHUNK, self.size_hint + 64), 2 * len(self.buf))
                new = bytearray(size)
                new[:rem] = self.view[self.off:self.end]
                self.buf, self.view = new, memoryview(new)
            elif rem:
                self.buf[:rem] = bytes(self.view[self.off:self.end])
            self.base += self.off
            self.off, self.end = 0, rem
            got = self.f.readinto(self.view[rem:])
            if not got:
                self.eof = True
                return False
            self.end += got
        return True


def _pieces(f: ByteSource, feed: int = _FEED) -> Iterator[tuple[int, memoryview]]:
    """(file offset, piece) of the whole file, in pieces of ``feed`` bytes, read ``_READ_CHUNK`` at a time into
    one reused buffer: a piece is valid until the next one is asked for."""
    try:
        size = os.fstat(f.fileno()).st_size - f.tell()
    except (OSError, AttributeError, ValueError):
        size = _READ_CHUNK
    buf = bytearray(max(feed, min(_READ_CHUNK, size + 64)))
    view = memoryview(buf)
    offset = 0
    while True:
        got = f.readinto(buf)
        if not got:
            return
        for i in range(0, got, feed):
            yield offset + i, view[i:min(i + feed, got)]
        offset += got


_KNOWN_MAGICS: tuple[tuple[bytes, str], ...] = (
    (_ZSTD_MAGIC, "zstd frame magic"),
    (_LZ4_MAGIC, "lz4-java LZ4Block magic"),
    (b"\x04\x22\x4d\x18", "LZ4 frame magic"),
    (_SNAPPY_MAGIC, "snappy-java stream header"),
    (b"\xff\x06\x00\x00sNaPpY", "Snappy framing-format magic"),
    (b"\x1f\x8b", "gzip magic"),
    (b"ZV\x00", "LZF chunk header"),
    (b"ZV\x01", "LZF chunk header"),
    (b"PK\x03\x04", "a zip archive"),
    (b"BZh", "bzip2 magic"),
    (b"\xfd7zXZ\x00", "xz magic"),
)


def _sniff(head: bytes) -> str:
    """What the first bytes of a file look like, for an error message (one line, no control characters)."""
    for magic, what in _KNOWN_MAGICS:
        if head.startswith(magic):
            return what
    text = head.lstrip(b" \t\r\n\xef\xbb\xbf")
    if text.startswith(b"{"):
        return "plain JSON text (an uncompressed event log?)"
    if not head:
        return "nothing"
    if not head.strip(b"\x00"):
        return f"{len(head)} NUL bytes (a sparse or zero-filled file?)"
    sample = head[:24]
    try:
        decoded = sample.decode("utf-8")
    except UnicodeDecodeError as e:
        decoded = sample[:e.start].decode("utf-8") if e.start >= len(sample) - 3 else ""
    if decoded and all(ch.isprintable() or ch in "\t\r\n" for ch in decoded):
        # repr() escapes newlines and quotes: the message stays one line.
        return f"text {decoded!r}"
    return "bytes " + head[:8].hex(" ")


_PROBE_BYTES = 64 * 1024
_WHITESPACE = b" \t\r\n"
_UTF8_BOM = b"\xef\xbb\xbf"
_STREAM_STARTS: dict[str, tuple[tuple[bytes, ...], str]] = {
    "lz4": ((_LZ4_MAGIC,), "'LZ4Block'"),
    "snappy": ((_SNAPPY_MAGIC,), "the header 82 'SNAPPY' 00"),
    "lzf": ((b"ZV\x00", b"ZV\x01"), "'ZV'"),
    "zstd": ((_ZSTD_MAGIC,), "zstd frame magic 28 b5 2f fd"),
    "gz": ((b"\x1f\x8b",), "gzip magic 1f 8b"),
}


def read_head(path: Path, size: int = _PROBE_BYTES) -> bytes:
    """The first ``size`` bytes of ``path`` (fewer for a short file); SparkswordError if it cannot be read."""
    try:
        with open(path, "rb") as f:
            return f.read(size)
    except OSError as e:
        raise SparkswordError(f"cannot read the file ({e.strerror or e})", path=path) from None


def json_lines_problem(head: bytes) -> str | None:
    """Why text starting with ``head`` cannot be a JSON-lines event log, or None if it may be one.

    An event log is one JSON object per line, so its first non-blank byte is ``{``. Judging from the first
    bytes alone keeps a 10 GB sparse file or a binary blob from being scanned to its end before DuckDB gives
    up. Blank (or empty) input is None: the loader reports it as empty.
    """
    text = head.removeprefix(_UTF8_BOM).lstrip(_WHITESPACE)
    if not text or text.startswith(b"{"):
        return None
    if text.startswith(b"["):
        return "not a Spark event log: a JSON array, not one event object per line"
    found = _sniff(text)
    hint = ""
    if any(text.startswith(m) for magics, _ in _STREAM_STARTS.values() for m in magics):
        hint = "; a compressed log without its codec's extension? Spark names them .lz4, .lzf, .snappy, .zstd"
    line = head[: len(head) - len(text)].count(b"\n") + 1
    return f"not a Spark event log: line {line} is not a JSON object; it starts with {found}{hint}"


def content_problem(path: Path, *, probe: int = _PROBE_BYTES) -> str | None:
    """Why the file ``path`` cannot be a Spark event log in any form this package reads, or None if it may be.

    Only the first bytes are read: for a history directory's entries, where a README or a core dump must not
    be taken for an application. A file that starts like JSON lines or like a stream of one of the codecs
    may be a log, whatever its name (when name and content disagree, decoding it explains the mismatch).
    An empty file is a problem here: there is no application in it.
    """
    head = read_head(path, probe)
    if not head:
        return "empty file"
    if any(head.startswith(m) or m.startswith(head) for magics, _ in _STREAM_STARTS.values() for m in magics):
        return None  # (a file shorter than a magic may be a stream still being written)
    if len(head) >= 4 and head[1:4] == b"\x2a\x4d\x18" and head[0] & 0xF0 == 0x50:
        return None  # a zstd skippable frame
    return json_lines_problem(head)


def _not_a(codec: str, head: bytes, expected: str, path: Path) -> SparkswordError:
    """The error for a file whose first bytes are not the codec's stream format."""
    found = _sniff(head)
    if codec in ("lz4", "snappy", "lzf"):
        writer = {"lz4": "lz4-java LZ4Block", "snappy": "snappy-java (xerial)", "lzf": "compress-lzf 'ZV' chunk"}[codec]
        return SparkswordError(
            f"not a Spark {codec} stream (found {found} at byte 0; Spark writes {writer} streams, "
            f"which start with {expected})",
            path=path,
        )
    name = "gzip" if codec == "gz" else codec
    return SparkswordError(f"not a {name} stream (found {found} at byte 0, expected {expected})", path=path)


def _bytes(n: int) -> str:
    return f"{n} byte" if n == 1 else f"{n} bytes"


def _torn(
    codec: str, what: str, at: int, dropped: int, path: Path, tolerate: bool, sink: _Sink
) -> DecodeResult:
    """End of a stream inside a block: report it (in-progress log) or raise."""
    if not tolerate:
        raise SparkswordError(
            f"truncated {'gzip' if codec == 'gz' else codec} stream at byte {at}: {what} "
            f"({_bytes(dropped)}; the file ends before it is complete)",
            path=path,
        )
    sink.flush()
    return DecodeResult(sink.total, f"{what} at end ({_bytes(dropped)} compressed data dropped)")


# --------------------------------------------------------------------------------------------- plain


def _copy(path: Path, f: ByteSource, out: ByteSink) -> DecodeResult:
    total = 0
    while True:
        chunk = f.read(_READ_CHUNK)
        if not chunk:
            return DecodeResult(total, None)
        try:
            out.write(chunk)
        except OSError as e:
            raise _OutputError(str(e)) from e
        total += len(chunk)


# --------------------------------------------------------------------------------------------- lz4


def _decode_lz4(path: Path, f: ByteSource, out: ByteSink, tolerate: bool) -> DecodeResult:
    """lz4-java ``LZ4BlockInputStream`` (stopOnEmptyBlock=false): blocks until a clean EOF at a block boundary."""
    inp = _Input(f)
    sink = _Sink(out)
    header = _LZ4_HEADER
    hlen = header.size
    decompress_into = cramjam.lz4.decompress_block_into
    check_fn = _xxh32
    first = True
    while True:
        start = inp.pos
        if not inp.need(hlen):
            rest = inp.rest()
            if not rest:
                break  # clean end at a block boundary
            if not _LZ4_MAGIC.startswith(rest[:8]):
                if first:
                    raise _not_a("lz4", rest, "'LZ4Block'", path)
                raise SparkswordError(f"corrupt lz4 stream at byte {start}: no 'LZ4Block' magic", path=path)
            return _torn("lz4", "incomplete lz4 block header", start, len(rest), path, tolerate, sink)
        buf, off, view = inp.buf, inp.off, inp.view
        magic, token, clen, ulen, check = header.unpack_from(buf, off)
        if magic != _LZ4_MAGIC:
            if first:
                raise _not_a("lz4", bytes(buf[off:off + 16]), "'LZ4Block'", path)
            raise SparkswordError(f"corrupt lz4 stream at byte {start}: no 'LZ4Block' magic", path=path)
        first = False
        method = token & 0xF0
        level = 10 + (token & 0x0F)
        if (
            method not in (_LZ4_METHOD_RAW, _LZ4_METHOD_LZ4)
            or ulen < 0
            or clen < 0
            or ulen > (1 << level)
            or (ulen == 0) != (clen == 0)
            or (method == _LZ4_METHOD_RAW and ulen != clen)
            or clen > ulen + ulen // 255 + 16
        ):
            raise SparkswordError(
                f"corrupt lz4 stream at byte {start}: invalid block header "
                f"(token 0x{token:02x}, compressed {clen}, original {ulen})",
                path=path,
            )
        if ulen == 0:
            if check != 0:
                raise SparkswordError(f"corrupt lz4 stream at byte {start}: invalid end-of-stream block", path=path)
            inp.off += hlen  # end block; lz4-java (stopOnEmptyBlock=false) goes on if more bytes follow
            continue
        if not inp.need(hlen + clen):
            return _torn(
                "lz4", "incomplete lz4 block", start, inp.avail(), path, tolerate, sink
            )
        buf, off, view = inp.buf, inp.off, inp.view
        payload = view[off + hlen:off + hlen + clen]
        target = sink.reserve(ulen)
        if method == _LZ4_METHOD_RAW:
            target[:] = payload
        else:
            try:
                n = decompress_into(payload, target)
            except Exception as e:  # cramjam.DecompressionError
                raise SparkswordError(
                    f"corrupt lz4 stream: the block at byte {start} does not decompress ({e})", path=path
                ) from None
            if n != ulen:
                raise SparkswordError(
                    f"corrupt lz4 stream: the block at byte {start} decompresses to {n} bytes, its header says {ulen}",
                    path=path,
                )
        if check_fn is not None and (check_fn(target, _LZ4_SEED) & _LZ4_CHECK_MASK) != check:
            raise SparkswordError(f"corrupt lz4 stream: checksum mismatch in the block at byte {start}", path=path)
        target.release()
        payload.release()
        sink.commit(ulen)
        inp.off += hlen + clen
    sink.flush()
    return DecodeResult(sink.total, None)


# --------------------------------------------------------------------------------------------- snappy


def _decode_snappy(path: Path, f: ByteSource, out: ByteSink, tolerate: bool) -> DecodeResult:
    """snappy-java ``SnappyInputStream``: a 16-byte header, then (int32 BE length, raw snappy block) chunks."""
    inp = _Input(f)
    sink = _Sink(out)
    raw_len = cramjam.snappy.decompress_raw_len
    decompress_into = cramjam.snappy.decompress_raw_into
    unpack_len = struct.Struct(">i").unpack_from
    header_len = _SNAPPY_HEADER_LEN

    # The stream header (repeated where streams were concatenated).
    def read_header(first: bool) -> DecodeResult | None:
        start = inp.pos
        if not inp.need(header_len):
            rest = inp.rest()
            if first and not rest:
                return DecodeResult(0, None)  # an empty file
            if not _SNAPPY_MAGIC.startswith(rest[:8]):
                if first:
                    raise _not_a("snappy", rest, "the header 82 'SNAPPY' 00", path)
                raise SparkswordError(f"corrupt snappy stream at byte {start}: invalid stream header", path=path)
            return _torn("snappy", "incomplete snappy stream header", start, len(rest), path, tolerate, sink)
        head = bytes(inp.view[inp.off:inp.off + header_len])
        if not head.startswith(_SNAPPY_MAGIC):
            if first:
                raise _not_a("snappy", head, "the header 82 'SNAPPY' 00", path)
            raise SparkswordError(f"corrupt snappy stream at byte {start}: invalid stream header", path=path)
        inp.off += header_len
        return None

    ended = read_header(True)
    if ended is not None:
        return ended
    magic_head = _SNAPPY_MAGIC[:4]
    while True:
        start = inp.pos
        if not inp.need(4):
            rest = inp.avail()
            if rest == 0:
                break  # snappy streams have no end marker: EOF between chunks is the end
            return _torn("snappy", "incomplete snappy chunk length", start, rest, path, tolerate, sink)
        buf, off, view = inp.buf, inp.off, inp.view
        if buf[off:off + 4] == magic_head:
            ended = read_header(False)  # concatenated streams: skip the repeated header
            if ended is not None:
                return ended
            continue
        (clen,) = unpack_len(buf, off)
        if clen <= 0 or clen > _SNAPPY_MAX_CHUNK:
            raise SparkswordError(
                f"corrupt snappy stream at byte {start}: invalid chunk length {clen}", path=path
            )
        if not inp.need(4 + clen):
            return _torn("snappy", "incomplete snappy chunk", start, inp.avail(), path, tolerate, sink)
        buf, off, view = inp.buf, inp.off, inp.view
        payload = view[off + 4:off + 4 + clen]
        try:
            ulen = raw_len(payload)
            if ulen > clen * _SNAPPY_MAX_RATIO + 64:
                raise ValueError(f"claims {ulen} bytes from {clen}")
            target = sink.reserve(ulen)
            n = decompress_into(payload, target) if ulen else 0
        except Exception as e:  # cramjam.DecompressionError
            raise SparkswordError(
                f"corrupt snappy stream: the chunk at byte {start} does not decompress ({e})", path=path
            ) from None
        if n != ulen:
            raise SparkswordError(
                f"corrupt snappy stream: the chunk at byte {start} decompresses to {n} bytes, expected {ulen}",
                path=path,
            )
        target.release()
        payload.release()
        sink.commit(ulen)
        inp.off += 4 + clen
    sink.flush()
    return DecodeResult(sink.total, None)


# --------------------------------------------------------------------------------------------- lzf


def _decode_lzf(path: Path, f: ByteSource, out: ByteSink, tolerate: bool) -> DecodeResult:
    """compress-lzf ``LZFInputStream``: 'ZV' chunks, compressed (type 1) or stored (type 0)."""
    inp = _Input(f)
    sink = _Sink(out)
    unpack_hh = struct.Struct(">HH").unpack_from
    unpack_h = struct.Struct(">H").unpack_from
    decompress = lzf.decompress
    first = True
    while True:
        start = inp.pos
        if not inp.need(5):
            rest = inp.rest()
            if not rest:
                break  # EOF between chunks: the end
            if not rest.startswith(b"ZV"[:len(rest)]) or (len(rest) >= 3 and rest[2] > 1):
                if first:
                    raise _not_a("lzf", rest, "'ZV'", path)
                raise SparkswordError(f"corrupt lzf stream at byte {start}: no 'ZV' chunk header", path=path)
            return _torn("lzf", "incomplete lzf chunk header", start, len(rest), path, tolerate, sink)
        buf, off, view = inp.buf, inp.off, inp.view
        if buf[off] != 0x5A or buf[off + 1] != 0x56 or buf[off + 2] not in (_LZF_STORED, _LZF_COMPRESSED):
            if first:
                raise _not_a("lzf", bytes(buf[off:off + 16]), "'ZV'", path)
            raise SparkswordError(f"corrupt lzf stream at byte {start}: no 'ZV' chunk header", path=path)
        first = False
        if buf[off + 2] == _LZF_STORED:
            (length,) = unpack_h(buf, off + 3)
            if not inp.need(5 + length):
                return _torn("lzf", "incomplete lzf chunk", start, inp.avail(), path, tolerate, sink)
            buf, off, view = inp.buf, inp.off, inp.view
            sink.write(view[off + 5:off + 5 + length])
            inp.off += 5 + length
            continue
        if not inp.need(7):
            return _torn("lzf", "incomplete lzf chunk header", start, inp.avail(), path, tolerate, sink)
        buf, off, view = inp.buf, inp.off, inp.view
        clen, ulen = unpack_hh(buf, off + 3)
        if not inp.need(7 + clen):
            return _torn("lzf", "incomplete lzf chunk", start, inp.avail(), path, tolerate, sink)
        buf, off, view = inp.buf, inp.off, inp.view
        try:
            data = decompress(bytes(view[off + 7:off + 7 + clen]), ulen) if ulen else b""
        except Exception as e:  # python-lzf raises ValueError on corrupt data
            raise SparkswordError(
                f"corrupt lzf stream: the chunk at byte {start} does not decompress ({e})", path=path
            ) from None
        if data is None or len(data) != ulen:
            raise SparkswordError(
                f"corrupt lzf stream: the chunk at byte {start} does not decompress to the {ulen} bytes "
                "its header says",
                path=path,
            )
        sink.write(data)
        inp.off += 7 + clen
    sink.flush()
    return DecodeResult(sink.total, None)


# --------------------------------------------------------------------------------------------- zstd


def _starts_zstd_frame(data: bytes | memoryview | mmap.mmap) -> bool:
    """Whether `data` begins with a zstd frame: the frame magic, or a skippable frame's."""
    return data[:4] == _ZSTD_MAGIC or _starts_skippable_frame(data)


def _starts_skippable_frame(data: bytes | memoryview | mmap.mmap) -> bool:
    """Whether `data` begins with a zstd skippable frame's magic (50-5f 2a 4d 18)."""
    return len(data) >= 4 and data[1:4] == b"\x2a\x4d\x18" and data[0] & 0xF0 == 0x50


def zstd_frames_complete(path: Path) -> bool:
    """Whether the zstd file is whole: frames (and skippable frames) one after another up to its last byte, the last
    one finished. Only the frame and block headers are read, not decoded.

    DuckDB's own zstd reader takes a stream cut inside its last frame as ending there, so a truncated log would
    load short without a word: it only reads the files this says are complete.
    """
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size == 0:
            return False
        # mapped, not read: only the headers' pages are touched
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return _zstd_walk(data, size)


def _zstd_walk(data: mmap.mmap, size: int) -> bool:
    pos = 0
    try:
        while pos < size:
            if _starts_skippable_frame(data[pos:pos + 4]):
                pos += 8 + int.from_bytes(data[pos + 4:pos + 8], "little")
                continue
            if data[pos:pos + 4] != _ZSTD_MAGIC:
                return False
            header = data[pos:pos + _ZSTD_FRAME_HEADER_MAX]
            checksum = zstandard.get_frame_parameters(header).has_checksum
            pos += zstandard.frame_header_size(header)
            while True:
                if pos + 3 > size:
                    return False
                block = int.from_bytes(data[pos:pos + 3], "little")
                last, kind, length = block & 1, (block >> 1) & 3, block >> 3
                if kind == 3:
                    return False  # reserved block type: corrupt
                pos += 3 + (1 if kind == 1 else length)  # an RLE block holds one byte
                if last:
                    break
            pos += 4 if checksum else 0
    except zstandard.ZstdError:
        return False
    return pos == size


def _decode_zstd(path: Path, f: ByteSource, out: ByteSink, tolerate: bool) -> DecodeResult:
    """Concatenated zstd frames, each decoded by its own decompressor so that an unfinished last frame is seen."""
    head = f.read(4)
    if not head:
        return DecodeResult(0, None)
    if not _starts_zstd_frame(head):
        if len(head) < 4 and _ZSTD_MAGIC.startswith(head):
            sink = _Sink(out)
            return _torn("zstd", "incomplete zstd frame", 0, len(head), path, tolerate, sink)
        raise _not_a("zstd", head + f.read(12), "zstd frame magic 28 b5 2f fd", path)
    f.seek(0)
    sink = _Sink(out)
    dctx = zstandard.ZstdDecompressor()
    dobj = None
    frame_start = 0
    frame_out = 0
    offset = 0
    for offset, piece in _pieces(f, _ZSTD_FEED):
        data: bytes | memoryview = piece
        while data:
            if dobj is None:
                dobj = dctx.decompressobj()
                frame_start = offset
                frame_out = 0
            try:
                chunk = dobj.decompress(data)
            except zstandard.ZstdError as e:
                raise SparkswordError(
                    f"corrupt zstd stream in the frame starting at byte {frame_start} ({e})", path=path
                ) from None
            if chunk:
                sink.write(chunk)
                frame_out += len(chunk)
            if dobj.eof:
                unused = dobj.unused_data
                offset += len(data) - len(unused)
                data = unused
                dobj = None
                if data and not _starts_zstd_frame(data):
                    if len(data) < 4 and _ZSTD_MAGIC.startswith(bytes(data)):
                        continue  # the rest of the magic is in the next piece
                    raise SparkswordError(
                        f"corrupt zstd stream at byte {offset}: no zstd frame magic after the previous frame",
                        path=path,
                    )
            else:
                offset += len(data)
                data = b""
    if dobj is not None:
        size = offset - frame_start
        if not tolerate:
            raise SparkswordError(
                f"truncated zstd stream at byte {frame_start}: the last frame ({size} bytes) is incomplete",
                path=path,
            )
        sink.flush()
        return DecodeResult(
            sink.total,
            f"incomplete zstd frame at end (starts at byte {frame_start}, {size} compressed bytes; "
            f"kept the {frame_out} bytes decoded from its complete blocks, dropped the unfinished block)",
        )
    sink.flush()
    return DecodeResult(sink.total, None)


# --------------------------------------------------------------------------------------------- gzip


def _decode_gz(path: Path, f: ByteSource, out: ByteSink, tolerate: bool) -> DecodeResult:
    """gzip, possibly several members; zero padding after a member is ignored (as Python's gzip module does)."""
    head = f.read(2)
    if not head:
        return DecodeResult(0, None)
    if head != b"\x1f\x8b":
        if head == b"\x1f":
            return _torn("gz", "incomplete gzip member", 0, 1, path, tolerate, _Sink(out))
        raise _not_a("gz", head + f.read(14), "gzip magic 1f 8b", path)
    f.seek(0)
    sink = _Sink(out)
    dobj = None
    member_start = 0
    offset = 0
    for offset, piece in _pieces(f):
        data: bytes | memoryview = piece
        while data:
            if dobj is None:
                if data[0] == 0:  # zero padding between or after members
                    stripped = bytes(data).lstrip(b"\x00")
                    offset += len(data) - len(stripped)
                    data = stripped
                    continue
                dobj = zlib.decompressobj(31)
                member_start = offset
            try:
                chunk = dobj.decompress(data, _ZLIB_MAX_OUT)
                sink.write(chunk)
                # Output capped at _ZLIB_MAX_OUT: drain what the consumed input still holds.
                while len(chunk) == _ZLIB_MAX_OUT and not dobj.eof and not dobj.unconsumed_tail:
                    chunk = dobj.decompress(b"", _ZLIB_MAX_OUT)
                    sink.write(chunk)
            except zlib.error as e:
                raise SparkswordError(
                    f"corrupt gzip stream in the member starting at byte {member_start} ({e})", path=path
                ) from None
            if dobj.eof:
                unused = dobj.unused_data
                offset += len(data) - len(unused)
                data = unused
                dobj = None
            else:
                tail = dobj.unconsumed_tail
                offset += len(data) - len(tail)
                data = tail
    if dobj is not None:
        size = offset - member_start
        if not tolerate:
            raise SparkswordError(
                f"truncated gzip stream at byte {member_start}: the last member ({size} bytes) is incomplete",
                path=path,
            )
        sink.flush()
        return DecodeResult(
            sink.total,
            f"incomplete gzip member at end (starts at byte {member_start}, {size} compressed bytes; "
            "kept what it decoded to)",
        )
    sink.flush()
    return DecodeResult(sink.total, None)


_DECODERS: dict[str, Callable[[Path, ByteSource, ByteSink, bool], DecodeResult]] = {
    "lz4": _decode_lz4,
    "snappy": _decode_snappy,
    "lzf": _decode_lzf,
    "zstd": _decode_zstd,
    "gz": _decode_gz,
}
