"""Applications behind a Spark History Server, by the base URL a user copies from the browser.

The list comes from ``/api/v1/applications``; an application's event-log files from
``/api/v1/applications/<id>[/<attempt>]/logs`` (a zip of its files, as the History Server's "Download" link gives),
streamed to disk and unpacked into a local mirror under the parse cache. A finished attempt is downloaded once:
the mirror remembers the ``lastUpdated`` the History Server listed for it.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import SeveralApplications, SparkswordError
from .catalog import catalog_frame, catalog_row
from .remote import display_url

__all__ = ["is_history_server_url", "localize_from_history_server"]

_TIMEOUT_S = 60
_CHUNK = 4 << 20
_UI_APP = re.compile(r"/history/([^/]+)(?:/(\d+))?(?:/|$)")


def is_history_server_url(url: str) -> bool:
    """An http(s) URL of a History Server: its base (``http://host:18080``), ``.../api/v1`` or a UI page of an app."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return False
    path = parts.path.rstrip("/")
    return path == "" or path.endswith("/api/v1") or bool(_UI_APP.search(parts.path))


def _api_base(url: str) -> tuple[str, str | None, str | None]:
    """(the REST root ``.../api/v1``, the app id and attempt a UI URL names)."""
    parts = urllib.parse.urlsplit(url)
    path = parts.path.rstrip("/")
    app = attempt = None
    ui = _UI_APP.search(parts.path)
    if ui:
        app, attempt = urllib.parse.unquote(ui.group(1)), ui.group(2)
        path = parts.path[: ui.start()]
    elif path.endswith("/api/v1"):
        path = path[: -len("/api/v1")]
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path + "/api/v1", "", "")), app, attempt


@contextlib.contextmanager
def _http_errors(url: str) -> Iterator[None]:
    shown = display_url(url)
    try:
        yield
    except urllib.error.HTTPError as err:
        what = {401: "needs authentication", 403: "access denied", 404: "not found"}.get(err.code, err.reason)
        raise SparkswordError(f"the server answered HTTP {err.code} ({what})", path=shown) from None
    except TimeoutError:
        raise SparkswordError(f"no answer within {_TIMEOUT_S} s (timed out)", path=shown) from None
    except urllib.error.URLError as err:
        raise SparkswordError(f"cannot connect ({err.reason})", path=shown) from None
    except (OSError, zipfile.BadZipFile, ValueError) as err:
        raise SparkswordError(f"the download failed ({type(err).__name__}: {err})", path=shown) from None


def _get_json(url: str) -> Any:
    with _http_errors(url), urllib.request.urlopen(url, timeout=_TIMEOUT_S) as response:
        body = response.read(64 << 20)
    try:
        return json.loads(body)
    except ValueError:
        raise SparkswordError("is not a Spark History Server: /api/v1/applications did not answer JSON",
                              path=display_url(url)) from None


def _applications(api: str) -> list[dict[str, Any]]:
    try:
        listing = _get_json(api + "/applications")
    except SparkswordError as err:
        if "HTTP 404" in str(err):
            raise SparkswordError("is not a Spark History Server (GET /api/v1/applications answered HTTP 404)",
                                  path=display_url(api.removesuffix("/api/v1"))) from None
        raise
    if not isinstance(listing, list) or any(not isinstance(a, dict) or "id" not in a for a in listing):
        raise SparkswordError("is not a Spark History Server: /api/v1/applications is not a list of applications",
                              path=display_url(api))
    return listing


def _attempts(listing: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """``(app, application, attempt)`` for every attempt of the listing; `app` is what ``app=`` takes."""
    for application in listing:
        for attempt in application.get("attempts") or [{}]:
            attempt_id = attempt.get("attemptId")
            yield application["id"] + (f"/{attempt_id}" if attempt_id else ""), application, attempt


def _table(listing: list[dict[str, Any]], api: str) -> Any:
    rows = []
    for app, application, attempt in _attempts(listing):
        start = {"App ID": application["id"], "App Attempt ID": attempt.get("attemptId"),
                 "App Name": application.get("name"), "Timestamp": attempt.get("startTimeEpoch")}
        end = attempt.get("endTimeEpoch") if attempt.get("completed") else None
        rows.append(catalog_row(app, start, end_ms=end, status="completed" if attempt.get("completed")
                                else "in progress", size=None, where=display_url(f"{api}/applications/{app}")))
    return catalog_frame(rows)


def list_logs(url: str) -> list[tuple[str, str, int | None]]:
    """``(app, version, size)`` of every application attempt the server lists (one request): `app` is what
    ``app=`` takes, the version changes when the server saw the attempt's log change (its lastUpdated)."""
    api, _, _ = _api_base(url)
    return [(app, json.dumps([attempt.get(k) for k in ("lastUpdatedEpoch", "completed", "endTimeEpoch")]), None)
            for app, _, attempt in _attempts(_applications(api))]


def _choose(listing: list[dict[str, Any]], app: str | None, api: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(application, attempt) that `app` names: an id (its latest attempt), id/attempt, or a row of the table."""
    if app is None:
        if len(listing) == 1:
            app = listing[0]["id"]
        else:
            raise SeveralApplications([a["id"] for a in listing], lambda: _table(listing, api), path=display_url(api))
    wanted, _, attempt_id = app.partition("/")
    by_id = {a["id"]: a for a in listing}
    if wanted not in by_id and app.isdigit():
        table = _table(listing, api)
        if int(app) < len(table):
            wanted, _, attempt_id = str(table["app"][int(app)]).partition("/")
    application = by_id.get(wanted)
    if application is None:
        shown = ", ".join(sorted(by_id)[:10])
        raise SparkswordError(f"the History Server has no application {app!r}; it lists: {shown}", path=display_url(api))
    attempts = application.get("attempts") or [{}]
    if attempt_id:
        matching = [a for a in attempts if str(a.get("attemptId")) == attempt_id]
        if not matching:
            raise SparkswordError(f"application {wanted} has no attempt {attempt_id}", path=display_url(api))
        return application, matching[0]
    return application, attempts[0]  # the History Server lists the latest attempt first


def localize_from_history_server(url: str, *, app: str | None, mirror_dir: Path) -> Path:
    """A local folder holding the event-log files of the application `app` (or the URL) names."""
    api, ui_app, ui_attempt = _api_base(url)
    if app is None and ui_app:
        app = ui_app + (f"/{ui_attempt}" if ui_attempt else "")
    listing = _applications(api)
    application, attempt = _choose(listing, app, api)
    attempt_id = attempt.get("attemptId")
    logs_url = f"{api}/applications/{urllib.parse.quote(application['id'])}" + (
        f"/{urllib.parse.quote(str(attempt_id))}" if attempt_id else "") + "/logs"
    netloc = urllib.parse.urlsplit(api).netloc.replace(":", "_")
    local = mirror_dir / "history-server" / netloc / (application["id"] + (f"_{attempt_id}" if attempt_id else ""))
    version = {"lastUpdated": attempt.get("lastUpdatedEpoch"), "completed": attempt.get("completed")}
    meta = local.with_name(f".{local.name}.remote.json")
    if attempt.get("completed") and local.is_dir() and meta.exists():
        with contextlib.suppress(OSError, ValueError):
            if json.loads(meta.read_text()) == version:
                return local
    local.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=local.parent, prefix=".download-") as tmp:
        archive = Path(tmp) / "logs.zip"
        with _http_errors(logs_url), urllib.request.urlopen(logs_url, timeout=_TIMEOUT_S) as response, \
                open(archive, "wb") as target:
            shutil.copyfileobj(response, target, _CHUNK)
        unpacked = Path(tmp) / "unpacked"
        with _http_errors(logs_url), zipfile.ZipFile(archive) as zipped:
            for member in zipped.infolist():
                # the zip holds the log file, or the rolling folder eventlog_v2_*/... : never a path out of it
                target_path = (unpacked / member.filename).resolve()
                if not str(target_path).startswith(str(unpacked.resolve()) + os.sep):
                    raise SparkswordError(f"the logs archive names a path outside it: {member.filename!r}",
                                          path=display_url(logs_url))
            zipped.extractall(unpacked)
        entries = list(unpacked.iterdir()) if unpacked.is_dir() else []
        if not entries:
            raise SparkswordError("the History Server's logs archive is empty", path=display_url(logs_url))
        if local.exists():
            shutil.rmtree(local)
        os.replace(unpacked, local)
    meta.write_text(json.dumps(version))
    return local
