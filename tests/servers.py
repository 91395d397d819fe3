"""Real servers on loopback for the tests that read logs from them: moto's S3 server, Python's HTTP server and the
Spark History Server from pyspark. Each is a subprocess on a free port, stopped when its fixture ends."""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, timeout_s: float, log: Path | None = None,
             ok_statuses: tuple[int, ...] = (200,)) -> None:
    """Until `url` answers with one of `ok_statuses` (a server that answers 403 to anonymous requests is up)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}): "
                               f"{log.read_text()[-2000:] if log and log.exists() else ''}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError as err:
            if err.code in ok_statuses:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout_s} s")


@contextlib.contextmanager
def running(command: list[str], url: str, *, timeout_s: float, env: dict[str, str] | None = None,
            log: Path | None = None, cwd: Path | None = None,
            ok_statuses: tuple[int, ...] = (200,)) -> Iterator[subprocess.Popen]:
    out = open(log, "wb") if log else subprocess.DEVNULL
    process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                               start_new_session=True)
    try:
        wait_for(url, process, timeout_s, log, ok_statuses)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        if log:
            out.close()  # type: ignore[union-attr]


def moto_s3(port: int) -> list[str]:
    """The command that starts moto's S3 server (moto[server]) on loopback."""
    return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]


def http_files(folder: Path, port: int) -> list[str]:
    return [sys.executable, "-m", "http.server", "-b", "127.0.0.1", "-d", str(folder), str(port)]


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


def history_server(log_dir: Path, port: int, work: Path) -> tuple[list[str], dict[str, str]]:
    """The command and environment of a real Spark History Server over `log_dir`, on loopback."""
    home = spark_home()
    assert home is not None
    env = dict(os.environ)
    env.update({
        "SPARK_HOME": str(home), "SPARK_LOG_DIR": str(work / "logs"), "SPARK_PID_DIR": str(work / "pid"),
        "SPARK_NO_DAEMONIZE": "1",
        "SPARK_HISTORY_OPTS": " ".join([
            f"-Dspark.history.fs.logDirectory=file://{log_dir}", f"-Dspark.history.ui.port={port}",
            "-Dspark.history.fs.update.interval=1s", "-Dspark.ui.bindAddress=127.0.0.1",
            f"-Dspark.history.store.path={work / 'store'}"]),
    })
    if "JAVA_HOME" not in env and Path("/usr/lib/jvm/java-17-openjdk-amd64").is_dir():
        env["JAVA_HOME"] = "/usr/lib/jvm/java-17-openjdk-amd64"
    return [str(home / "bin" / "spark-class"), "org.apache.spark.deploy.history.HistoryServer"], env
