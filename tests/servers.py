"""Real servers on loopback for the tests that read logs from them: moto's S3 server, Python's HTTP server and the
Spark History Server from pyspark. Each is a subprocess on a free port, stopped when its fixture ends."""
from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from sparksword_nb.history_server_process import answers, history_server, spark_home

__all__ = ["free_port", "history_server", "http_files", "moto_s3", "running", "spark_home"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running(command: list[str], url: str, *, timeout_s: float, env: dict[str, str] | None = None,
            log: Path | None = None, cwd: Path | None = None,
            ok_statuses: tuple[int, ...] = (200,)) -> Iterator[subprocess.Popen]:
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


def moto_s3(port: int) -> list[str]:
    """The command that starts moto's S3 server (moto[server]) on loopback."""
    return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]


def http_files(folder: Path, port: int) -> list[str]:
    return [sys.executable, "-m", "http.server", "-b", "127.0.0.1", "-d", str(folder), str(port)]
