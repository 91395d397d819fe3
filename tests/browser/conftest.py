"""Browser tests: Debian's Chromium driven by Playwright, on the built widget bundles.

Two layers: a "mock host" page that imports a bundle exactly as anywidget does (a blob: URL) with a
20-line model, and a real JupyterLab server on loopback. Never `playwright install`: the browser is
/usr/bin/chromium from apt (or $SPARKSWORD_CHROMIUM). Screenshots go to test-artifacts/.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "sparksword_nb" / "static"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("SPARKSWORD_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling out, which this machine refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip this folder's tests on a machine without Chromium (CI installs it: see .ci/run)."""
    if os.path.exists(CHROMIUM):
        return
    skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(skip)


@pytest.fixture(scope="module")
def session():
    """A fresh sparksword Session for one test module, closed after it."""
    from sparksword_nb import Session

    s = Session()
    yield s
    s.close()


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


# The anywidget host, reduced to what a panel uses: get/set/on/off/save_changes/send. `saved` records
# every save_changes(), i.e. what the kernel would receive.
_MOCK_HOST = """
async ({esm, css, state, width}) => {
  const listeners = {};
  const saved = [];
  const model = {
    get: (k) => state[k],
    set: (k, v) => { state[k] = v; for (const f of listeners["change:" + k] || []) f(); },
    on: (ev, f) => { (listeners[ev] = listeners[ev] || []).push(f); },
    off: (ev, f) => { if (ev) listeners[ev] = (listeners[ev] || []).filter((g) => g !== f); },
    save_changes: () => saved.push(JSON.parse(JSON.stringify(state))),
    send: () => {},
  };
  const style = document.createElement("style");
  style.textContent = css;
  document.head.appendChild(style);
  const el = document.createElement("div");
  el.id = "host";
  el.style.width = width + "px";
  document.body.appendChild(el);
  const mod = await import(URL.createObjectURL(new Blob([esm], { type: "text/javascript" })));
  const widget = typeof mod.default === "function" ? await mod.default() : mod.default;
  await widget.initialize?.({ model });
  const started = performance.now();
  await widget.render({ model, el, signal: new AbortController().signal });
  window.__sw = { model, saved, state, renderMs: performance.now() - started };
}
"""


class MockHost:
    """A page showing one widget bundle with a given state, outside Jupyter."""

    def __init__(self, page: Any, name: str, state: dict[str, Any], width: int = 960) -> None:
        self.page = page
        esm = (STATIC / f"{name}.js").read_text()
        css = (STATIC / f"{name}.css").read_text()
        page.goto("about:blank")
        page.evaluate(_MOCK_HOST, {"esm": esm, "css": css, "state": json.loads(json.dumps(state)), "width": width})

    def set(self, key: str, value: Any) -> None:
        """What a Python-side trait change does in the browser."""
        self.page.evaluate("([k, v]) => window.__sw.model.set(k, v)", [key, value])

    @property
    def saved(self) -> list[dict[str, Any]]:
        """Every state the panel pushed to Python, oldest first."""
        return self.page.evaluate("() => window.__sw.saved")

    @property
    def render_ms(self) -> float:
        """How long render() took."""
        return self.page.evaluate("() => window.__sw.renderMs")


@pytest.fixture
def mock_host(browser):
    """mock_host(bundle name, state) -> MockHost on a fresh page; the page closes after the test."""
    pages = []

    def open_(name: str, state: dict[str, Any], width: int = 960) -> MockHost:
        page = browser.new_page(viewport={"width": width + 40, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        pages.append((page, errors))
        return MockHost(page, name, state, width)

    yield open_
    for page, errors in pages:
        page.close()
        assert not errors, errors


def widget_state(widget: Any) -> dict[str, Any]:
    """The synced traits a front end receives (what get_state gives, minus the bundle)."""
    state = widget.get_state()
    return {k: v for k, v in state.items() if not k.startswith("_")}


# ---- a real JupyterLab ---------------------------------------------------------------------------

@pytest.fixture(scope="session")
def jupyterlab(tmp_path_factory: pytest.TempPathFactory):
    """A JupyterLab server on loopback serving a temporary notebook folder; yields (url, folder)."""
    from servers import free_port, running

    root = tmp_path_factory.mktemp("lab")
    port = free_port()
    home = tmp_path_factory.mktemp("lab-home")
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "IPYTHONDIR": str(home / "ipython"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    # the news/announcements toast would cover the panels in screenshots
    settings = home / "config" / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False, "doNotDisturbMode": True}))
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "jupyter", "lab", "--allow-root", "--no-browser", "--ip=127.0.0.1",
               f"--port={port}", "--ServerApp.token=", "--ServerApp.password=",
               "--ServerApp.disable_check_xsrf=True", f"--ServerApp.root_dir={root}",
               "--LabApp.news_url=", "--ServerApp.open_browser=False"]
    with running(command, f"{url}/api/status", timeout_s=60, env=env, log=home / "server.log", cwd=root):
        yield url, root
