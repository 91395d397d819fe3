"""Event logs in Azure Blob Storage (abfs:// and az://), read through adlfs from Azurite, the Azure Storage emulator
(npm), on loopback; answers equal to the History Server's. Skipped where Azurite or adlfs is not installed
(`.ci/run` installs both)."""
from __future__ import annotations

import os
import shutil

import pytest

import sparksword_nb as ss
from sparksword_nb import SparkswordError

from conftest import assert_loaded_as_the_history_server_read_it, spark43_answers, spark43_log_path
from servers import free_port, running

pytest.importorskip("adlfs")
blob = pytest.importorskip("azure.storage.blob")

# Azurite's documented well-known development account (not a secret)
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def _azurite() -> str | None:
    return os.environ.get("AZURITE_BLOB") or shutil.which("azurite-blob")


@pytest.fixture(scope="module")
def azure(tmp_path_factory):
    command = _azurite()
    if command is None:
        pytest.skip("Azurite is not installed (npm install azurite; AZURITE_BLOB=path/to/azurite-blob)")
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}/{ACCOUNT}"
    connection = (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
                  f"BlobEndpoint={endpoint};")
    work = tmp_path_factory.mktemp("azurite")
    with running([command, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--inMemoryPersistence",
                  "--skipApiVersionCheck", "--loose"],
                 f"http://127.0.0.1:{port}/{ACCOUNT}?comp=list", timeout_s=60, log=work / "azurite.out",
                 ok_statuses=(200, 403)):
        service = blob.BlobServiceClient.from_connection_string(connection)
        service.create_container("logs")
        for case in ("skewed_join", "zstd_single"):
            source = spark43_log_path(case)
            for f in sorted(source.iterdir()) if source.is_dir() else [source]:
                name = f"history/{source.name}/{f.name}" if source.is_dir() else f"history/{f.name}"
                service.get_blob_client("logs", name).upload_blob(f.read_bytes())
        yield connection


def test_a_rolling_log_and_a_single_file_load_from_blob_storage(azure):
    options = {"connection_string": azure}
    rolling = spark43_log_path("skewed_join").name
    assert_loaded_as_the_history_server_read_it(ss.Session().load(f"abfs://logs/history/{rolling}", cache=False,
                                                  storage_options=options), "skewed_join")
    table = ss.applications_in("az://logs/history/", storage_options=options)
    assert set(table["app_id"]) == {spark43_answers(c)["application.json"]["id"] for c in ("skewed_join", "zstd_single")}
    assert table["path"].str.startswith("az://logs/history/").all()
    single = ss.Session().load("az://logs/history/", app=spark43_answers("zstd_single")["application.json"]["id"],
                               cache=False, storage_options=options)
    assert_loaded_as_the_history_server_read_it(single, "zstd_single")


def test_the_connection_string_from_the_environment_is_used_and_never_shown(azure, monkeypatch):
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azure)
    log = ss.Session().load("abfs://logs/history/", app=spark43_answers("skewed_join")["application.json"]["id"],
                            cache=False, storage_options={"skip_instance_cache": True})
    assert log.app_id == spark43_answers("skewed_join")["application.json"]["id"]
    with pytest.raises(SparkswordError) as info:
        ss.Session().load("abfs://logs/missing/", cache=False, storage_options={"skip_instance_cache": True})
    assert str(info.value).startswith("abfs://logs/missing/: ") and KEY not in str(info.value)
