"""Shared fixtures: the read-only ../shared folder, a headless matplotlib and browser, a provenance key.

The one conftest of the suite; what test files share that is not a fixture is in ``helpers.py``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from deepfakelab.threads import prepare_process
from helpers import REPO

# The test run is an edge where a process starts: the kit's one explicit set-up, before any test
# module loads torch (sleeping OpenMP threads; never a restart of pytest itself).
prepare_process(restart=False)
os.environ.setdefault("MPLBACKEND", "Agg")

SHARED = Path(os.environ.get("DEEPFAKELAB_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session", autouse=True)
def provenance_key_folder(tmp_path_factory):
    """The kit-made signing key of the test run in a temporary folder, never the user's ~/.config (unless set)."""
    if "DEEPFAKELAB_PROVENANCE_DIR" in os.environ:
        yield
        return
    os.environ["DEEPFAKELAB_PROVENANCE_DIR"] = str(tmp_path_factory.mktemp("provenance"))
    yield
    del os.environ["DEEPFAKELAB_PROVENANCE_DIR"]


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The project's read-only ``../shared`` folder (conformance vectors, real faces).

    Present in CI and for the developers; a newcomer's clone without it skips these tests
    with a reason instead of failing.
    """
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} not found (set DEEPFAKELAB_SHARED to the shared folder)")
    return SHARED


@pytest.fixture(scope="session")
def real_data(shared_dir: Path) -> Path:
    path = shared_dir / "data" / "real"
    if not path.is_dir():
        pytest.skip(f"{path} not found")
    return path


@pytest.fixture(scope="session")
def conformance_vectors(shared_dir: Path) -> dict:
    """The published FOMM code's tiny model, inputs and outputs (``../shared/conformance/fomm``)."""
    import torch

    path = shared_dir / "conformance" / "fomm" / "fomm_tiny_conformance.pt"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return torch.load(path, weights_only=True)


# --- a headless browser (the website's and formgrader's tests) -----------------------------------
CHROMIUM_CANDIDATES = ["/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser"]
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _chromium() -> str | None:
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium through playwright (never a downloaded browser); CI must have it, elsewhere a skip."""
    executable = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if executable is None or sync_playwright is None:
        missing = "Debian's chromium" if executable is None else "the playwright package"
        if os.environ.get("CI"):
            pytest.fail(f"{missing} is not installed; CI must install it (scripts/system-deps.sh)")
        pytest.skip(f"{missing} is not installed (apt-get install chromium; pip install playwright)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()
