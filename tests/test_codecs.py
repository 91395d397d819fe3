"""Decoding real Spark event logs under every codec, and refusing broken streams with a clear SparkswordError."""
from __future__ import annotations

import collections
import gzip
import io
import json
import random
import shutil
from pathlib import Path

import cramjam
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sparksword_nb.errors import SparkswordError
from sparksword_nb.ingest.codecs import CODECS, DecodeResult, codec_for, decode_to

from conftest import SPARK43


def _one(pattern: str) -> Path:
    found = sorted(SPARK43.glob(pattern))
    assert len(found) == 1, (pattern, found)
    return found[0]


# Every compressed real log file: the single-file logs and the rolling logs' event files.
SINGLE = {codec: _one(f"{codec}_single/local-*.{codec}") for codec in ("lz4", "lzf", "snappy", "zstd")}
PLAIN_SINGLE = _one("plain_single/local-*")
ROLLED = {
    codec: _one(f"compressed_{codec}/eventlog_v2_*/events_1_*.{codec}") for codec in ("lz4", "lzf", "snappy", "zstd")
}
ROLLING_ZSTD = sorted(SPARK43.glob("rolling/eventlog_v2_*/events_*.zstd"))  # 2 files
CRASHED = _one("crashed_driver/eventlog_v2_*/events_1_*.zstd")
MANY_TASKS = _one("many_tasks/eventlog_v2_*/events_1_*.zstd")  # 3.4 MB -> 115 MB

COMPLETE_LOGS = {
    **{f"{c}_single": [p] for c, p in SINGLE.items()},
    **{f"compressed_{c}": [p] for c, p in ROLLED.items()},
    "rolling": ROLLING_ZSTD,
    "plain_single": [PLAIN_SINGLE],
}


def decode(path: Path, codec: str | None = "auto", *, tolerate: bool = False) -> tuple[bytes, DecodeResult]:
    out = io.BytesIO()
    result = decode_to(path, codec_for(path) if codec == "auto" else codec, out, tolerate_torn_tail=tolerate)
    assert result.bytes_out == len(out.getvalue())
    return out.getvalue(), result


def decode_all(paths: list[Path]) -> bytes:
    return b"".join(decode(p)[0] for p in paths)


def events(data: bytes) -> list[str]:
    """The "Event" of every line (each line must be one JSON object)."""
    assert data.endswith(b"\n")
    return [json.loads(line)["Event"] for line in data.decode("utf-8").splitlines()]


@pytest.fixture(scope="module")
def plain_bytes() -> bytes:
    return PLAIN_SINGLE.read_bytes()


# --------------------------------------------------------------------------------------------- codec_for


@pytest.mark.parametrize(
    "name, codec",
    [
        ("events_1_local-1.zstd", "zstd"),
        ("local-1.lz4.inprogress", "lz4"),
        ("local-1795302288874.inprogress", None),
        ("app-20161115172038-0000", None),
        ("local-1430917381535_1", None),
        ("events_5_local-1.snappy.compact", "snappy"),
        ("events_5_local-1.compact", None),
        ("local-1.lzf", "lzf"),
        ("local-1.gz", "gz"),
        ("local-1.ZSTD", "zstd"),
        ("local-1.json", None),
        ("local-1.zstd.inprogress.compact", "zstd"),
    ],
)
def test_codec_for_follows_sparks_codec_name(name, codec):
    assert codec_for(Path("/some/dir") / name) == codec


def test_codec_for_the_real_files():
    assert CODECS == {"lz4", "lzf", "snappy", "zstd", "gz"}
    for codec, path in {**SINGLE}.items():
        assert codec_for(path) == codec
    assert codec_for(PLAIN_SINGLE) is None
    assert codec_for(_one("inprogress/local-*.inprogress")) is None


# --------------------------------------------------------------------------------------------- real logs


@pytest.mark.parametrize("case", sorted(COMPLETE_LOGS))
def test_real_log_decodes_to_json_lines_from_log_start_to_application_end(case):
    data = decode_all(COMPLETE_LOGS[case])
    names = events(data)
    assert data.startswith(b'{"Event":"SparkListenerLogStart"')
    assert names[0] == "SparkListenerLogStart"
    assert names[-1] == "SparkListenerApplicationEnd"
    assert names.count("SparkListenerLogStart") == 1


def test_rolled_files_are_separate_streams_and_only_the_first_has_log_start():
    first, second = (decode(p)[0] for p in ROLLING_ZSTD)
    assert first.startswith(b'{"Event":"SparkListenerLogStart"')
    assert b"SparkListenerLogStart" not in second
    assert events(second)[-1] == "SparkListenerApplicationEnd"
    assert events(first)[-1] != "SparkListenerApplicationEnd"


def test_the_four_rolled_codecs_hold_the_same_events():
    counts = {codec: collections.Counter(events(decode(p)[0])) for codec, p in ROLLED.items()}
    assert counts["zstd"]["SparkListenerTaskEnd"] > 100
    for codec, count in counts.items():
        assert count == counts["zstd"], codec


def test_the_five_single_file_logs_hold_the_same_events():
    counts = {codec: collections.Counter(events(decode(p)[0])) for codec, p in SINGLE.items()}
    counts["plain"] = collections.Counter(events(PLAIN_SINGLE.read_bytes()))
    for codec, count in counts.items():
        assert count == counts["plain"], codec


def test_plain_file_is_copied_byte_for_byte(plain_bytes):
    data, result = decode(PLAIN_SINGLE, None)
    assert data == plain_bytes
    assert result.torn_tail is None


def test_large_zstd_log_streams_to_the_output_in_bounded_writes():
    class Sink:
        def __init__(self) -> None:
            self.total = self.lines = self.largest = 0
            self.head = b""
            self.tail = b""

        def write(self, b) -> int:
            b = bytes(b)
            self.total += len(b)
            self.lines += b.count(b"\n")
            self.largest = max(self.largest, len(b))
            if len(self.head) < 100:
                self.head += b[:100]
            self.tail = (self.tail + b)[-2000:]
            return len(b)

    sink = Sink()
    result = decode_to(MANY_TASKS, "zstd", sink, tolerate_torn_tail=False)  # type: ignore[arg-type]
    assert result == DecodeResult(sink.total, None)
    assert sink.total > 100_000_000
    assert sink.largest <= 16 * 1024 * 1024
    assert sink.lines > 40_000
    assert sink.head.startswith(b'{"Event":"SparkListenerLogStart"')
    assert json.loads(sink.tail.splitlines()[-1])["Event"] == "SparkListenerApplicationEnd"


# --------------------------------------------------------------------------------------------- in progress


def test_crashed_driver_torn_zstd_frame_keeps_every_decodable_event():
    data, result = decode(CRASHED, tolerate=True)
    assert result.torn_tail is not None and "zstd" in result.torn_tail
    lines = data.split(b"\n")
    whole, torn = lines[:-1], lines[-1]
    assert torn, "the stream ends inside a line"
    names = [json.loads(line)["Event"] for line in whole]
    assert names[0] == "SparkListenerLogStart"
    assert "SparkListenerApplicationEnd" not in names
    with pytest.raises(ValueError):
        json.loads(torn)
    # The complete blocks of the unfinished last frame are kept: as many finished tasks as the History Server saw.
    stages = json.loads((SPARK43 / "crashed_driver/history-server/stages.json").read_text())
    assert names.count("SparkListenerTaskEnd") == sum(s["numCompleteTasks"] for s in stages) == 49


def test_crashed_driver_torn_zstd_frame_is_an_error_when_the_log_is_complete():
    with pytest.raises(SparkswordError, match=r"truncated zstd stream at byte \d+") as err:
        decode(CRASHED, tolerate=False)
    assert CRASHED.name in str(err.value)
    assert "\n" not in str(err.value)


def _no_decoding(monkeypatch) -> None:
    import sparksword_nb.ingest.loader as loader

    def refuse(*args, **kwargs):
        raise AssertionError("decoded to a temporary file")

    monkeypatch.setattr(loader, "decode_to", refuse)


@pytest.mark.parametrize("log", [SINGLE["zstd"], ROLLING_ZSTD[0].parent], ids=["single", "rolling"])
def test_a_finished_zstd_log_is_decoded_by_duckdb_while_it_parses_with_the_same_rows(log, monkeypatch):
    import sparksword_nb as ss

    decoded_first = ss.Session().load(log, cache=False)
    _no_decoding(monkeypatch)
    direct = ss.Session().load(log, cache=False)
    for table in ("tasks", "stages", "jobs", "executors", "task_accumulables", "sql_executions"):
        query = f"SELECT * FROM {table} ORDER BY ALL"
        assert direct.sql(query).fetchall() == decoded_first.sql(query).fetchall(), table
    assert direct.report.events == decoded_first.report.events


def test_an_unfinished_zstd_log_and_a_broken_one_still_go_through_our_decoder(monkeypatch, tmp_path):
    import sparksword_nb as ss

    # the crashed driver's log is in progress: its unfinished last frame is cut off by our decoder, not refused
    crashed = ss.Session().load(CRASHED.parent, cache=False)
    assert crashed.sql("SELECT count(*) FROM tasks WHERE status = 'SUCCESS'").fetchall()[0][0] == 49
    # a finished log whose stream DuckDB cannot read is decoded by ours, which says where it breaks
    cut = tmp_path / "local-1.zstd"
    cut.write_bytes(SINGLE["zstd"].read_bytes()[:-100])
    with pytest.raises(SparkswordError, match=r"truncated zstd stream at byte \d+"):
        ss.Session().load(cut, cache=False)
    _no_decoding(monkeypatch)
    with pytest.raises(AssertionError, match="decoded to a temporary file"):
        ss.Session().load(cut, cache=False)


# --------------------------------------------------------------------------------------------- broken streams


def _gz_of(plain: bytes) -> bytes:
    half = len(plain) // 2
    return gzip.compress(plain[:half]) + gzip.compress(plain[half:])  # two members


def _copy_as(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def _compressed_cases(plain: bytes) -> dict[str, tuple[str, bytes]]:
    """codec -> (file name, bytes) of a real compressed log (gz made from the real plain log)."""
    cases = {codec: (path.name, path.read_bytes()) for codec, path in ROLLED.items()}
    cases["gz"] = (PLAIN_SINGLE.name + ".gz", _gz_of(plain))
    return cases


def test_gzip_with_several_members_decodes(tmp_path, plain_bytes):
    p = _copy_as(tmp_path, "local-1.gz", _gz_of(plain_bytes))
    assert decode(p)[0] == plain_bytes


@pytest.mark.parametrize("codec", ["lz4", "lzf", "snappy", "zstd", "gz"])
def test_truncated_stream_is_an_error_naming_the_file_or_a_torn_tail_in_progress(codec, tmp_path, plain_bytes):
    name, data = _compressed_cases(plain_bytes)[codec]
    full = decode(_copy_as(tmp_path, "full_" + name, data))[0]
    cut = _copy_as(tmp_path, name, data[: len(data) // 2 + 7])
    shown = "gzip" if codec == "gz" else codec
    with pytest.raises(SparkswordError, match=rf"truncated {shown} stream at byte \d+") as err:
        decode(cut)
    assert str(err.value).startswith(str(cut) + ": ")
    kept, result = decode(cut, tolerate=True)
    assert result.torn_tail and "at end" in result.torn_tail
    assert 0 < len(kept) < len(full) and full.startswith(kept)


@pytest.mark.parametrize("codec", ["lz4", "lzf", "snappy", "zstd"])
def test_concatenated_streams_decode_as_spark_reads_them(codec, tmp_path):
    """lz4: data after the end block; snappy: a repeated header; lzf/zstd: more chunks/frames."""
    one = ROLLED[codec].read_bytes()
    p = _copy_as(tmp_path, ROLLED[codec].name, one + one)
    single = decode(ROLLED[codec])[0]
    assert decode(p)[0] == single + single


def _second_zstd_frame(data: bytes) -> int:
    dobj = zstandard.ZstdDecompressor().decompressobj()
    dobj.decompress(data)
    return len(data) - len(dobj.unused_data)


def _flip_position(codec: str, data: bytes) -> tuple[int, str]:
    """A byte whose corruption each codec must notice, and what the message says."""
    if codec == "lz4":
        return 21 + 1000, "checksum mismatch|does not decompress"  # inside the first block's payload
    if codec == "snappy":
        return 16, "invalid chunk length"  # the first chunk's length
    if codec == "lzf":
        return 7 + int.from_bytes(data[3:5], "big"), "no 'ZV' chunk header"  # the second chunk's header
    if codec == "zstd":
        return _second_zstd_frame(data), "no zstd frame magic"
    return len(data) // 3, "corrupt gzip stream"


@pytest.mark.parametrize("codec", ["lz4", "lzf", "snappy", "zstd", "gz"])
def test_flipped_byte_is_a_corrupt_stream_error(codec, tmp_path, plain_bytes):
    name, data = _compressed_cases(plain_bytes)[codec]
    pos, message = _flip_position(codec, data)
    broken = bytearray(data)
    broken[pos] ^= 0x80
    p = _copy_as(tmp_path, name, bytes(broken))
    for tolerate in (False, True):
        with pytest.raises(SparkswordError, match=message) as err:
            decode(p, tolerate=tolerate)
        assert str(err.value).startswith(str(p) + ": corrupt ")
        assert "byte" in str(err.value)


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_garbage_is_not_a_stream_of_the_codec(codec, tmp_path):
    garbage = random.Random(codec).randbytes(5000)
    shown = "gzip" if codec == "gz" else codec
    p = _copy_as(tmp_path, f"local-1.{codec}", garbage)
    for tolerate in (False, True):
        with pytest.raises(SparkswordError, match=rf"not a (Spark )?{shown} stream") as err:
            decode(p, tolerate=tolerate)
        assert str(err.value).startswith(str(p) + ": ")


def test_lz4_frame_file_named_lz4_is_explained(tmp_path, plain_bytes):
    p = _copy_as(tmp_path, "local-1.lz4", bytes(cramjam.lz4.compress(plain_bytes)))
    with pytest.raises(SparkswordError, match=r"not a Spark lz4 stream \(found LZ4 frame magic.*lz4-java LZ4Block"):
        decode(p)


def test_snappy_framing_file_named_snappy_is_explained(tmp_path, plain_bytes):
    p = _copy_as(tmp_path, "local-1.snappy", bytes(cramjam.snappy.compress(plain_bytes)))
    with pytest.raises(SparkswordError, match=r"not a Spark snappy stream \(found Snappy framing-format magic"):
        decode(p)


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_uncompressed_log_with_a_codec_suffix_is_explained(codec, tmp_path, plain_bytes):
    p = _copy_as(tmp_path, f"local-1.{codec}", plain_bytes)
    with pytest.raises(SparkswordError, match=r"found plain JSON text"):
        decode(p)


def test_a_codec_mismatch_is_explained(tmp_path):
    p = _copy_as(tmp_path, "local-1.lz4", SINGLE["zstd"].read_bytes())
    with pytest.raises(SparkswordError, match=r"not a Spark lz4 stream \(found zstd frame magic"):
        decode(p)


@pytest.mark.parametrize("codec", sorted(CODECS) + [None])
def test_empty_file_decodes_to_nothing(codec, tmp_path):
    p = _copy_as(tmp_path, "local-1" + (f".{codec}" if codec else ""), b"")
    assert decode(p, codec) == (b"", DecodeResult(0, None))


def test_missing_or_unreadable_file_and_unknown_codec(tmp_path):
    with pytest.raises(SparkswordError, match="cannot read the file"):
        decode(tmp_path / "nope.zstd")
    with pytest.raises(SparkswordError, match="cannot read the file"):
        decode(tmp_path, "zstd")
    with pytest.raises(SparkswordError, match="unsupported compression codec 'brotli'"):
        decode(PLAIN_SINGLE, "brotli")


# --------------------------------------------------------------------------------------------- property


_FUZZ_SOURCES = {codec: ROLLED[codec] for codec in ("lz4", "lzf", "snappy", "zstd")}


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def fuzz_sources(plain_bytes) -> dict[str, tuple[bytes, bytes]]:
    """codec -> (compressed bytes, decoded bytes), from real files (gz made from the real plain log)."""
    sources = {codec: (p.read_bytes(), decode(p)[0]) for codec, p in _FUZZ_SOURCES.items()}
    sources["gz"] = (_gz_of(plain_bytes[:300_000]), plain_bytes[:300_000])
    return sources


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    codec=st.sampled_from(["lz4", "lzf", "snappy", "zstd", "gz"]),
    cut=st.floats(min_value=0.0, max_value=1.0),
    flips=st.lists(st.tuples(st.floats(min_value=0.0, max_value=0.999), st.integers(1, 255)), max_size=3),
    tolerate=st.booleans(),
)
def test_truncated_or_flipped_streams_raise_only_sparksword_errors(fuzz_dir, fuzz_sources, codec, cut, flips, tolerate):
    compressed, decoded = fuzz_sources[codec]
    data = bytearray(compressed)
    for where, mask in flips:
        data[int(where * len(data))] ^= mask
    data = data[: int(cut * len(data))] if cut < 1.0 else data
    path = fuzz_dir / f"local-1.{codec}"
    path.write_bytes(bytes(data))
    try:
        out, result = decode(path, tolerate=tolerate)
    except SparkswordError as e:
        assert str(e).startswith(str(path) + ": ") and "\n" not in str(e)
        assert not (tolerate and not flips), "a cut stream of an in-progress log must decode"
        return
    if not flips:
        # Truncation alone: what is decoded is a prefix of the real log, and a cut is reported.
        assert decoded.startswith(out)
        if len(data) == len(compressed):
            assert out == decoded and result.torn_tail is None


def test_decoding_leaves_the_source_untouched(tmp_path):
    src = tmp_path / ROLLED["lz4"].name
    shutil.copy(ROLLED["lz4"], src)
    before = src.read_bytes()
    decode(src)
    assert src.read_bytes() == before
