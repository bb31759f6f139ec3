"""The lab as a person sees it: JupyterLab served headless on loopback with a token,
Debian's Chromium driven by Playwright (no browser download), the start notebook run
from the browser. The status widget must show the server unsealed, the check cell
must pass, and no cell may show an error. Screenshots go to $LABKIT_SCREENSHOTS (default:
a temporary folder); `LABKIT_SCREENSHOTS=docs/screenshots` refreshes the README's picture."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import urllib.request
from pathlib import Path

import pytest

from labkit.doctor import chromium_binary
from labkit.services.supervisor import Lifetime, free_port, spawn

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("LABKIT_SCREENSHOTS") or tempfile.mkdtemp(prefix="labkit-shots-"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
KERNEL_IDLE = ("() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel?.status"
               " === 'idle'")
pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def jupyterlab(lab_home, tmp_path):
    """JupyterLab on 127.0.0.1 serving a copy of notebooks/ (the browser's autosave
    must never write outputs into the repository's notebooks)."""
    served = tmp_path / "served"
    shutil.copytree(ROOT / "notebooks", served / "notebooks")
    port, token = free_port(), secrets.token_hex(16)
    from labkit import redact

    redact.register(token, "jupyter token")
    server = spawn("jupyterlab", [str(ROOT / ".venv" / "bin" / "jupyter"), "lab", "--no-browser",
                                  "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={token}",
                                  f"--ServerApp.root_dir={served}", "--LabApp.expose_app_in_browser=True",
                                  "--ServerApp.open_browser=False"] + (["--allow-root"] if os.getuid() == 0 else []),
                   lab_home / "jupyterlab.log", Lifetime.EPHEMERAL, cwd=served,
                   env={"JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
                        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
                        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings")})

    def answering():
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2) as resp:
            return resp.status == 200

    server.wait_until(answering, 120, "serving JupyterLab")
    yield f"http://127.0.0.1:{port}", token
    server.stop(timeout=20)


def test_start_notebook_in_chromium(jupyterlab):
    from playwright.sync_api import sync_playwright

    base, token = jupyterlab
    browser_path = chromium_binary()
    assert browser_path, "Debian's chromium is needed (environments/apt-packages-test.txt)"
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=browser_path, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(180_000)
            page.goto(f"{base}/lab/tree/notebooks/00-start-here.ipynb?token={token}")
            page.wait_for_selector(".jp-Notebook .jp-Cell")
            page.wait_for_function("() => window.jupyterapp && document.querySelector('.jp-Notebook')")
            # Wait for the kernel, then run every cell as Run > Run All Cells does.
            page.wait_for_function(KERNEL_IDLE, polling=500)
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
            page.wait_for_selector(".labkit-check", timeout=240_000)
            page.wait_for_function(KERNEL_IDLE, polling=500)
            news = page.get_by_role("button", name="No")
            if news.count():
                news.first.click()  # JupyterLab's "get notified about news?" toast

            status = page.locator(".jp-OutputArea .labkit-status").first
            status.scroll_into_view_if_needed()
            assert "unsealed" in status.inner_text()
            assert page.locator(".jp-OutputArea .widget-button", has_text="Refresh").count() >= 1, \
                "the status panel rendered as a static fallback, not as a live widget"
            page.screenshot(path=str(SHOTS / "start-here-status.png"))

            check_cell = page.locator(".labkit-check").first
            check_cell.scroll_into_view_if_needed()
            assert check_cell.get_attribute("data-passed") == "true", check_cell.inner_text()
            assert "All checks passed." in check_cell.inner_text()
            page.screenshot(path=str(SHOTS / "start-here-check.png"))

            errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error'],"
                                  " .jp-OutputArea-output.jp-OutputArea-executeResult .jp-RenderedText"
                                  "[data-mime-type='application/vnd.jupyter.stderr']")
            texts = page.locator(".jp-OutputArea-output").all_inner_texts()
            assert errors.count() == 0 and not any("Traceback" in t for t in texts), \
                [t for t in texts if "Traceback" in t or "Error" in t]
            prompts = page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
            assert prompts and not any("[*]" in p for p in prompts), prompts
            # Close the kernel from the browser: the ephemeral lab server goes with it.
            page.evaluate("() => window.jupyterapp.commands.execute('kernelmenu:shutdown')")
            page.wait_for_timeout(1000)
        finally:
            browser.close()
