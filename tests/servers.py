"""Real servers on loopback for the tests that read logs from them: moto's S3 server, Python's HTTP server and the
Spark History Server from pyspark. Each is a subprocess on a free port, stopped when its fixture ends."""
from __future__ import annotations

import sys
from pathlib import Path

from sparksword_nb.history_server_process import free_port, history_server, running, spark_home

__all__ = ["free_port", "history_server", "http_files", "moto_s3", "running", "spark_home"]


def moto_s3(port: int) -> list[str]:
    """The command that starts moto's S3 server (moto[server]) on loopback."""
    return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]


def http_files(folder: Path, port: int) -> list[str]:
    return [sys.executable, "-m", "http.server", "-b", "127.0.0.1", "-d", str(folder), str(port)]
