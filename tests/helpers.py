"""What more than one test file uses, in one module: ``from helpers import NAME`` (issue #28).

The tests are laid out like the package (``tests/faces/`` for ``deepfakelab.faces``, ...) and a test
file never imports another one (``tests/kit/test_lint.py`` checks): what two of them share lives
here. ``tests/`` is on ``sys.path`` because the root ``conftest.py`` is there (pytest's default
"prepend" import mode), so this module imports by name from every folder. The fixtures stay in
``conftest.py``; data files stay in ``tests/fixtures/`` (:data:`FIXTURES`).

Only the standard library and pytest load here: the root ``conftest.py`` imports this module before
any test loads torch (the kit's thread set-up comes first), so the rest is imported where used.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from deepfakelab.fakes.synthetic import SourceVideo

# --- where things are ----------------------------------------------------------------------------
#: The repository (the kit's root), whatever folder of ``tests/`` a test file sits in.
REPO = Path(__file__).resolve().parents[1]
#: The tests' data files.
FIXTURES = Path(__file__).resolve().parent / "fixtures"


# --- checks and folders ----------------------------------------------------------------------------
def failure(check, *args) -> str:
    """The message a failing check gives the student ("" when it passes)."""
    try:
        check(*args)
    except (AssertionError, pytest.fail.Exception) as exc:
        return str(exc)
    return ""


def tree_hashes(folder: Path) -> dict[str, str]:
    """{relative path: sha256} of every file under ``folder``: what a grading run must leave unchanged.

    Looked at with ``lstat``: a link counts by its target's name, a FIFO or device by its kind
    (a submission may hold a link to ``/proc/self/mem`` or a FIFO; neither is ever read).
    """
    hashes = {}
    for path in sorted(Path(folder).rglob("*")):
        if "__pycache__" in path.parts:
            continue
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            hashes[str(path.relative_to(folder))] = "link -> " + os.readlink(path)
        elif stat.S_ISREG(mode):
            hashes[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif not stat.S_ISDIR(mode):
            hashes[str(path.relative_to(folder))] = f"special {stat.S_IFMT(mode):o}"
    return hashes


# --- FOMM ------------------------------------------------------------------------------------------
#: A FOMM small enough to train four steps in seconds on synthetic heads (a training config's YAML).
TINY = {
    "model_params": {
        "common_params": {"num_kp": 5, "num_channels": 3, "estimate_jacobian": True},
        "kp_detector_params": {
            "temperature": 0.1,
            "block_expansion": 4,
            "max_features": 32,
            "scale_factor": 0.5,
            "num_blocks": 3,
        },
        "generator_params": {
            "block_expansion": 4,
            "max_features": 16,
            "num_down_blocks": 2,
            "num_bottleneck_blocks": 1,
            "estimate_occlusion_map": True,
            "dense_motion_params": {
                "block_expansion": 4,
                "max_features": 32,
                "num_blocks": 3,
                "scale_factor": 0.5,
            },
        },
    },
    "train_params": {
        "steps": 4,
        "batch_size": 2,
        "scales": [1, 0.5],
        "checkpoint_every": 2,
        "validate_every": 2,
        "data": {"kind": "heads", "size": 64, "frames": 8, "identities": 10, "videos_per_identity": 1},
    },
}


def conformance_model(vectors: dict):
    """A fresh kit FOMM holding the conformance model's weights (tests may change or move it)."""
    from deepfakelab.reenact.fomm.config import model_config_from_dict
    from deepfakelab.reenact.fomm.model import build_model

    model = build_model(model_config_from_dict(vectors["config"]))
    model.generator.load_state_dict(vectors["generator"])
    model.kp_detector.load_state_dict(vectors["kp_detector"])
    return model


# --- toy talking heads (the detector's fast tests) -------------------------------------------------
def toy_source(identity: int, video: int, frames: int = 3, size: int = 96) -> SourceVideo:
    """A tiny stand-in for a talking head: an ellipse face with eyes and a mouth."""
    import cv2
    import numpy as np

    from deepfakelab.fakes.synthetic import SourceVideo

    rng = np.random.default_rng(identity * 100 + video)
    skin = rng.uniform(90, 230, size=3)
    images, masks, points = [], [], []
    for t in range(frames):
        image = np.zeros((size, size, 3), np.uint8)
        image[:] = rng.uniform(0, 255, size=3)
        image = np.clip(image + rng.normal(0, 8, image.shape), 0, 255).astype(np.uint8)
        cx, cy = size // 2 + int(rng.integers(-4, 5)), size // 2 + int(rng.integers(-4, 5))
        ax, ay = size // 4, size // 3
        mask = np.zeros((size, size), np.uint8)
        cv2.ellipse(mask, (cx, cy), (ax, ay), 0, 0, 360, 1, -1)
        image[mask > 0] = skin
        eyes = [(cx - ax // 2, cy - ay // 3), (cx + ax // 2, cy - ay // 3)]
        mouth = (cx, cy + ay // 2)
        for e in eyes:
            cv2.circle(image, e, 3, (30, 30, 30), -1)
        cv2.ellipse(image, mouth, (ax // 2, 2 + t % 3), 0, 0, 360, (120, 20, 20), -1)
        images.append(image)
        masks.append(mask.astype(np.float32))
        points.append(
            np.array([*eyes, mouth, (cx - ax, cy), (cx + ax, cy), (cx, cy - ay), (cx, cy + ay)], np.float64)
        )
    return SourceVideo(
        f"id{identity}", f"id{identity}_v{video}", np.stack(images), np.stack(masks), np.stack(points)
    )


def toy_sources(identities: int = 4, videos: int = 1, frames: int = 3) -> list[SourceVideo]:
    return [toy_source(i, v, frames) for i in range(identities) for v in range(videos)]


# --- Lab 1's right answers, as in the solution notebook --------------------------------------------
def relative_keypoints(kp_source, kp_driving, kp_initial, scale=1.0):
    return kp_source + scale * (kp_driving - kp_initial)


def relative_jacobians(jac_source, jac_driving, jac_initial):
    import torch

    return jac_driving @ torch.linalg.inv(jac_initial) @ jac_source


def extract_frame(video_path, index):
    from deepfakelab.media import iter_frames

    count = 0
    for count, (_, frame) in enumerate(iter_frames(video_path), start=1):
        if count - 1 == index:
            return frame
    raise IndexError(f"frame {index} asked for, the video has {count}")


def fake_probability(logits):
    import torch

    return torch.softmax(torch.as_tensor(logits, dtype=torch.float32), dim=1)[:, 1].numpy()


def video_verdict(p):
    import numpy as np

    mean = float(np.mean(p))
    return {"p_fake": mean, "p_real": 1 - mean, "label": "fake" if mean >= 0.5 else "real"}


def overlay_cam(face, cam, alpha=0.4):
    import matplotlib
    import numpy as np

    coloured = matplotlib.colormaps["jet"](cam)[..., :3] * 255
    return np.clip(np.round((1 - alpha) * face + alpha * coloured), 0, 255).astype(np.uint8)


#: Lab 1's graded functions, right: a student's answers by name (the hidden checks call them so).
LAB1_RIGHT = dict(
    relative_keypoints=relative_keypoints,
    relative_jacobians=relative_jacobians,
    extract_frame=extract_frame,
    fake_probability=fake_probability,
    video_verdict=video_verdict,
    overlay_cam=overlay_cam,
)


# --- a lab notebook and its guide as text (the labs' guide tests: one set of rules for both labs) ---
def cell_source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def nbgrader_meta(cell: dict) -> dict:
    return cell["metadata"].get("nbgrader", {})


def parts_table(text: str) -> dict[str, tuple[str, str]]:
    """The parts table of the notebook's introduction or of the guide: part -> (points, minutes)."""
    rows = {}
    for line in text.splitlines():
        row = re.match(
            r"\|\s*(?:\[(\d+)\]\(#part-\d+\)|(\d+))?\s*\|\s*(.+?)\s*\|\s*(\d*)\s*\|\s*(\d+) min\s*\|", line
        )
        if row:
            part = row.group(1) or row.group(2) or ("start" if "Start" in row.group(3) else "hand in")
            rows[part] = (row.group(4), row.group(5))
    return rows


def page_anchors(path) -> set[str]:
    """The anchors of a website page: its ``{#id}`` attributes and its headings' slugs."""
    return set(re.findall(r"\{#([a-z0-9-]+)\}", path.read_text())) | {
        re.sub(r"[^a-z0-9 -]", "", m.lower()).strip().replace(" ", "-")
        for m in re.findall(r"^#+ (.+?)\s*$", path.read_text(), re.M)
        if "{#" not in m
    }


def cell_prose(cell: dict) -> str:
    """A markdown cell's text without its folded hints and its formulas."""
    text = re.sub(r"<details>.*?</details>", "", cell_source(cell), flags=re.S)
    return re.sub(r"\$[^$]+\$", "", text)


def masked_markdown(text: str) -> str:
    """``text`` with link addresses and the code spans outside links blanked (same length): prose only."""
    links = [m.span(1) for m in re.finditer(r"\[([^\]]+)\]\([^)]*\)", text)]
    out = re.sub(r"\]\(([^)]*)\)", lambda m: "](" + "x" * len(m.group(1)) + ")", text)

    def code(m):
        inside = any(a <= m.start() < b for a, b in links)
        return m.group() if inside else "`" + "x" * (len(m.group()) - 2) + "`"

    return re.sub(r"`[^`]*`", code, out)


def assert_website_links_exist(cells: list[dict], pages: dict) -> None:
    """Every Markdown link of a lab notebook leads to a page of ``pages`` (link -> Markdown file)
    and, with an ``#anchor``, to a section that page has (both labs' guide tests)."""
    links = [
        link
        for cell in cells
        if cell["cell_type"] == "markdown"
        for link in re.findall(r"\]\(([^)]+)\)", cell_source(cell))
    ]
    assert links
    for link in links:
        page, _, anchor = link.partition("#")
        assert page in pages, f"{link}: not a page of the course website the test knows"
        assert not anchor or anchor in page_anchors(pages[page]), f"{link}: no such section"


def notebook_parts(cells: list[dict], heading: str) -> dict[str, list[dict]]:
    """A lab notebook's cells by part: ``heading`` matches a part's heading and captures its
    number; cells before the first part are ``"start"``, from "Before you hand in" ``"hand in"``."""
    parts, current = {}, "start"
    for cell in cells:
        found = re.match(heading, cell_source(cell))
        if found:
            current = found.group(1)
        elif cell_source(cell).startswith("## Before you hand in"):
            current = "hand in"
        parts.setdefault(current, []).append(cell)
    return parts


def assert_parts_show_points_time_and_link(
    parts: dict[str, list[dict]], minutes: dict[str, int], lab: str, guide: str
) -> None:
    """Each numbered part's heading shows the points its cells hold, the estimated minutes, and a
    link to its section of the lab's guide (``guide``: that page's Markdown), which exists (both
    labs' guide tests)."""
    for part, cells in parts.items():
        if part in ("start", "hand in"):
            continue
        head = cell_source(cells[0])
        shown = re.search(r"\*\*(no points|(\d+) points?) · about (\d+) minutes\*\*", head)
        assert shown, f"part {part}: its heading shows no points and time"
        points = sum(nbgrader_meta(c).get("points", 0) for c in cells)
        assert int(shown.group(2) or 0) == points, (
            f"part {part}: shows {shown.group(1)}, its cells hold {points}"
        )
        assert int(shown.group(3)) == minutes[part], (
            f"part {part}: shows {shown.group(3)} min, estimated {minutes[part]}"
        )
        assert f"(labs/{lab}/#part-{part})" in head, f"part {part}: no link to its section of the guide"
        assert re.search(rf"\{{#part-{part}\}}", guide), f"the guide has no section #part-{part}"


def assert_terms_linked_where_first_used(
    text: str, terms: dict[str, str], case_sensitive=frozenset(), every_term_used: bool = True
) -> None:
    """Each glossary term (``anchor -> pattern``) is linked to ``glossary/#anchor`` where the
    notebook's prose ``text`` first uses it (both labs' guide tests); with ``every_term_used``, a
    term the notebook never uses is an error too (drop it from the list)."""
    prose = masked_markdown(text)
    for anchor, words in terms.items():
        first = re.search(words, prose, 0 if anchor in case_sensitive else re.I)
        if first is None:
            assert not every_term_used, f"{anchor}: never used (drop it from TERMS)"
            continue
        links = [
            m.span(1) for m in re.finditer(r"\[([^\]]+)\]\(glossary/#" + re.escape(anchor) + r"\)", text)
        ]
        where = text[max(0, first.start() - 70) : first.end() + 20].replace("\n", " ")
        assert links, f"{anchor}: used ({where!r}) but never linked to the glossary"
        assert links[0][0] <= first.start() < links[0][1], (
            f"{anchor}: first used where it is not linked: {where!r}"
        )


def sitegen(name: str):
    """A module of ``site/sitegen``, the site's build (no package of the kit): imported with ``site/``
    on the path only while it loads."""
    sys.path.insert(0, str(REPO / "site"))
    try:
        return importlib.import_module(f"sitegen.{name}")
    finally:
        sys.path.remove(str(REPO / "site"))


def run_bench(script: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python bench/SCRIPT ARGS`` from the repository with this checkout's kit first on the path
    (the venv's editable install may point at another checkout); its output captured."""
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO / "lib"), os.environ.get("PYTHONPATH")])),
    )
    return subprocess.run(
        [sys.executable, str(REPO / "bench" / script), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
