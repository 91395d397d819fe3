"""Fuzzing the codecs' stream readers and the loader with damaged copies of real logs.

Random truncations, bit flips, inserted bytes, repeated ranges and concatenations of the real logs in
tests/data must never crash or raise anything but SparkswordError (one line, naming the file). hypothesis
runs a fixed number of derandomized examples so CI is deterministic and cheap; the number that ran is
printed at the end of the run ("fuzz cases run: ...").

When atheris is installed (`pip install .[test]` on Linux x86_64), `test_atheris_coverage_guided_fuzzing`
also runs this file as a libFuzzer target (`python tests/test_fuzz.py -runs=N`) for a few thousand inputs.
"""
from __future__ import annotations

import collections
import gzip
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
SPARK43 = DATA / "spark-4.3.0"
SMALL = DATA / "spark-tests" / "logs" / "local-1422981780767"  # plain, Spark 1.2, 68 KB

# Rolled event files of the same Spark 4.3 application under each of Spark's codecs (50-210 KB each).
REAL_STREAMS = {
    codec: next(SPARK43.glob(f"compressed_{codec}/eventlog_v2_*/events_1_*.{codec}"))
    for codec in ("lz4", "lzf", "snappy", "zstd")
}
CODECS = ("lz4", "lzf", "snappy", "zstd", "gz")

CODEC_EXAMPLES = 40  # per codec
LOADER_EXAMPLES = 100

COUNTS: collections.Counter[str] = collections.Counter()
"""How many examples each fuzz test ran (printed at the end)."""



def fuzz(examples: int) -> settings:
    """hypothesis settings of these tests: `examples` fixed, derandomized examples."""
    return settings(
        max_examples=examples,
        deadline=None,  # a load takes a varying fraction of a second on a busy runner
        derandomize=True,  # the same examples on every run: CI is deterministic
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )



@pytest.fixture(scope="module", autouse=True)
def _print_case_counts(request):
    yield
    if not COUNTS:
        return
    line = "fuzz cases run: " + ", ".join(f"{k} {v}" for k, v in sorted(COUNTS.items())) + f" (total {sum(COUNTS.values())})"
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if capture is None:
        print(line)
        return
    with capture.global_and_fixture_disabled():  # shown even when pytest captures output
        print("\n" + line)


def _real_stream(codec: str) -> bytes:
    if codec == "gz":  # Spark writes no gzip; the same real log, gzipped
        return gzip.compress(SMALL.read_bytes(), mtime=0)
    return REAL_STREAMS[codec].read_bytes()


# --------------------------------------------------------------------------------------------- damage

# One damage: ("flip", where, xor mask) | ("cut", where) | ("insert", where, bytes) | ("repeat", where, length)
# | ("append", which real stream or log, where it is cut). `where` is a fraction of the current length.
_WHERE = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
_INTERESTING = st.sampled_from([b"\x00", b"\n", b"\x00" * 64, b"{", b"}", b'"', b"\\", b"\xff\xfe", b"[" * 50,
                                b'{"Event":"SparkListenerTaskEnd"}\n', b"\x1b[2J"])
_DAMAGE = st.one_of(
    st.tuples(st.just("flip"), _WHERE, st.integers(1, 255)),
    st.tuples(st.just("cut"), _WHERE),
    st.tuples(st.just("insert"), _WHERE, st.one_of(_INTERESTING, st.binary(min_size=1, max_size=16))),
    st.tuples(st.just("repeat"), _WHERE, st.integers(1, 4096)),
    st.tuples(st.just("append"), st.integers(0, 3), _WHERE),
)
DAMAGES = st.lists(_DAMAGE, min_size=1, max_size=4)


def damaged(data: bytes, damages: list[tuple], others: list[bytes]) -> bytes:
    """`data` with each damage applied in turn (`others`: what an "append" may add, cut somewhere)."""
    out = bytearray(data)
    for damage in damages:
        kind, where = damage[0], damage[1]
        at = min(int(where * len(out)), max(len(out) - 1, 0))
        if kind == "flip" and out:
            out[at] ^= damage[2]
        elif kind == "cut":
            del out[int(where * len(out)):]
        elif kind == "insert":
            out[at:at] = damage[2]
        elif kind == "repeat":
            out[at:at] = out[at:at + damage[2]]
        elif kind == "append":
            other = others[damage[1] % len(others)]
            out += other[: max(1, int(damage[2] * len(other)))]
    return bytes(out)


def assert_one_line_naming(err: Exception, path: Path) -> None:
    from sparksword_nb.errors import SparkswordError

    assert isinstance(err, SparkswordError), repr(err)
    message = str(err)
    assert "\n" not in message and "\r" not in message, message
    assert str(path) in message or str(path.parent) in message, message


# --------------------------------------------------------------------------------------------- codecs


@pytest.fixture(scope="module")
def streams() -> dict[str, bytes]:
    return {codec: _real_stream(codec) for codec in CODECS}


@pytest.mark.parametrize("codec", CODECS)
@fuzz(CODEC_EXAMPLES)
@given(damages=DAMAGES, tolerate=st.booleans())
def test_codec_stream_reader_raises_only_sparksword_errors(codec, damages, tolerate, streams, tmp_path):
    from sparksword_nb.errors import SparkswordError
    from sparksword_nb.ingest.codecs import decode_to

    COUNTS[f"{codec} stream"] += 1
    # Appending: the same codec's real stream (concatenated streams are valid), or another codec's.
    others = [streams[codec], streams[codec][:100], streams["zstd" if codec != "zstd" else "lz4"], SMALL.read_bytes()]
    path = tmp_path / f"local-1.{codec}"
    path.write_bytes(damaged(streams[codec], damages, others))
    out = io.BytesIO()
    try:
        result = decode_to(path, codec, out, tolerate_torn_tail=tolerate)
    except SparkswordError as err:
        assert_one_line_naming(err, path)
    else:
        assert result.bytes_out == len(out.getvalue())


# --------------------------------------------------------------------------------------------- loader


@pytest.fixture(scope="module")
def real_logs() -> list[tuple[str, bytes]]:
    """(file name, bytes) of real logs to damage: a plain Spark 1.2 log, a plain Spark 4.3 log with SQL, and
    the zstd event file of another Spark 4.3 log."""
    from sparksword_nb.ingest.codecs import decode_to

    healthy = next(SPARK43.glob("healthy/eventlog_v2_*/events_1_*.zstd"))
    plain_43 = io.BytesIO()
    decode_to(healthy, "zstd", plain_43, tolerate_torn_tail=False)
    return [
        (SMALL.name, SMALL.read_bytes()),
        ("local-1795302288292", plain_43.getvalue()),
        ("local-1795302268640.zstd", REAL_STREAMS["zstd"].read_bytes()),
    ]


# Line-level damage of a plain log: drop, repeat or swap whole lines (the loader must not mind order).
_LINE_DAMAGE = st.lists(
    st.tuples(st.sampled_from(["drop", "repeat", "swap", "halve"]), _WHERE, _WHERE), max_size=3
)


def damaged_lines(data: bytes, damages: list[tuple]) -> bytes:
    lines = data.splitlines(keepends=True)
    for kind, a, b in damages:
        if not lines:
            break
        i, j = int(a * (len(lines) - 1)), int(b * (len(lines) - 1))
        if kind == "drop":
            del lines[i]
        elif kind == "repeat":
            lines.insert(j, lines[i])
        elif kind == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "halve":
            lines[i] = lines[i][: len(lines[i]) // 2] + b"\n"
    return b"".join(lines)


@fuzz(LOADER_EXAMPLES)
@given(
    which=st.integers(0, 2),
    line_damages=_LINE_DAMAGE,
    damages=st.lists(_DAMAGE, max_size=3),
    in_progress=st.booleans(),
)
def test_loader_raises_only_sparksword_errors(which, line_damages, damages, in_progress, real_logs, tmp_path):
    import sparksword_nb as ss
    from sparksword_nb.cli import summary_text
    from sparksword_nb.errors import SparkswordError

    COUNTS["loader"] += 1
    name, data = real_logs[which]
    if not name.endswith(".zstd"):
        data = damaged_lines(data, line_damages)
    data = damaged(data, damages, [d for _, d in real_logs])
    path = tmp_path / (name + (".inprogress" if in_progress else ""))
    path.write_bytes(data)
    session = ss.Session()
    try:
        log = session.load(path, cache=False)
    except SparkswordError as err:
        assert_one_line_naming(err, path)
        assert session.logs == []
    else:
        summary_text(log)  # what the CLI shows must be computable from whatever loaded
        assert log.report is not None and log.report.events > 0
    finally:
        session.close()


# --------------------------------------------------------------------------------------------- atheris

ATHERIS_RUNS = 2000


def test_atheris_coverage_guided_fuzzing(tmp_path):
    pytest.importorskip("atheris")
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for n, codec in enumerate(CODECS):
        (seeds / f"{codec}.bin").write_bytes(bytes([n]) + _real_stream(codec)[:4096])
    (seeds / "plain.bin").write_bytes(bytes([len(CODECS)]) + SMALL.read_bytes()[:8192])
    proc = subprocess.run(
        [sys.executable, __file__, f"-runs={ATHERIS_RUNS}", "-seed=1", "-max_len=16384", "-rss_limit_mb=4096",
         str(seeds)],
        capture_output=True, text=True, timeout=900, cwd=tmp_path, env={**os.environ, "SPARKSWORD_FUZZ_TMP": str(tmp_path)},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    done = re.search(r"Done (\d+) runs", proc.stderr)
    assert done, proc.stderr[-3000:]
    COUNTS["atheris (codecs and loader)"] += int(done.group(1))


def _atheris_main() -> None:
    """libFuzzer target: the first byte picks a codec (or plain, through the loader), the rest is the file."""
    import atheris
    import duckdb  # noqa: F401  (imported before instrumentation: only our own code is instrumented)
    import pandas  # noqa: F401

    with atheris.instrument_imports(include=["sparksword_nb"]):
        import sparksword_nb as ss
        from sparksword_nb.errors import SparkswordError
        from sparksword_nb.ingest.codecs import decode_to

    workdir = Path(os.environ.get("SPARKSWORD_FUZZ_TMP", "."))
    session = ss.Session()

    def one_input(data: bytes) -> None:
        if not data:
            return
        choice, body = data[0] % (len(CODECS) + 1), data[1:]
        if choice < len(CODECS):
            path = workdir / f"local-1.{CODECS[choice]}"
            path.write_bytes(body)
            try:
                decode_to(path, CODECS[choice], io.BytesIO(), tolerate_torn_tail=bool(data[0] & 0x80))
            except SparkswordError:
                pass
            return
        path = workdir / ("local-1.inprogress" if data[0] & 0x80 else "local-1")
        path.write_bytes(body)
        try:
            session.load(path, cache=False)
        except SparkswordError:
            pass

    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    _atheris_main()
