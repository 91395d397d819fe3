"""A real Spark History Server from pyspark's own distribution, started on loopback: the benchmark's yardstick
(`sparksword bench --shs`) and the tests' truth; and the loopback server subprocess both use (`running`).
Nothing here is used to load a log."""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

_JAVA_17 = Path("/usr/lib/jvm/java-17-openjdk-amd64")


def spark_home() -> Path | None:
    """pyspark's own Spark distribution (bin/spark-class), when pyspark and Java are installed."""
    try:
        import pyspark
    except ImportError:
        return None
    home = Path(pyspark.__file__).parent
    if not (home / "bin" / "spark-class").exists() or shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return None
    return home


def history_server(log_dir: Path, port: int, work: Path, *, disk_store: bool = True) -> tuple[list[str], dict[str, str]]:
    """The command and environment of a History Server over `log_dir` on 127.0.0.1:`port`, its files in `work`.

    `disk_store=False` keeps the replayed applications in memory (the History Server's default)."""
    home = spark_home()
    if home is None:
        raise RuntimeError("a History Server needs pyspark and Java")
    env = dict(os.environ)
    options = [f"-Dspark.history.fs.logDirectory=file://{log_dir}", f"-Dspark.history.ui.port={port}",
               "-Dspark.history.fs.update.interval=1s", "-Dspark.ui.bindAddress=127.0.0.1"]
    if disk_store:
        options.append(f"-Dspark.history.store.path={work / 'store'}")
    env.update({"SPARK_HOME": str(home), "SPARK_LOG_DIR": str(work / "logs"), "SPARK_PID_DIR": str(work / "pid"),
                "SPARK_NO_DAEMONIZE": "1", "SPARK_HISTORY_OPTS": " ".join(options)})
    if "JAVA_HOME" not in env and _JAVA_17.is_dir():
        env["JAVA_HOME"] = str(_JAVA_17)
    return [str(home / "bin" / "spark-class"), "org.apache.spark.deploy.history.HistoryServer"], env


def answers(url: str, process: subprocess.Popen, timeout_s: float, log: Path | None = None,
            ok_statuses: tuple[int, ...] = (200,)) -> bytes:
    """The body of the first answer of `url` with one of `ok_statuses`, polling until `timeout_s` (a server still
    starting refuses the connection); raises when the server exits or the time is up."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}): "
                               f"{log.read_text()[-2000:] if log and log.exists() else ''}")
        try:
            with urllib.request.urlopen(url, timeout=max(2.0, deadline - time.monotonic())) as response:
                return response.read()
        except urllib.error.HTTPError as err:
            if err.code in ok_statuses:
                return b""
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout_s} s")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running(command: list[str], url: str, *, timeout_s: float, env: dict[str, str] | None = None,
            log: Path | None = None, cwd: Path | None = None,
            ok_statuses: tuple[int, ...] = (200,)) -> Iterator[subprocess.Popen]:
    """A server subprocess (its output in `log`), yielded once `url` answers; stopped (TERM, then KILL) after."""
    out = open(log, "wb") if log else subprocess.DEVNULL
    process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                               start_new_session=True)
    try:
        answers(url, process, timeout_s, log, ok_statuses)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        if log:
            out.close()  # type: ignore[union-attr]
