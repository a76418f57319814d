"""Student versions of the instructor's notebooks, made by ``nbgrader generate_assignment``.

nbgrader clears the solutions, removes the hidden tests, locks the graded and read-only cells
and records their checksums and sources in a gradebook. The same step builds the private
gradebook each grading worker starts from (:func:`build_template`), so grading always compares
a submission with exactly the instructor's current source.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path

from nbgrader.apps.api import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from traitlets.config.loader import PyFileConfigLoader

from ..errors import DataError
from .layout import Course, ensure_tools_on_path, open_course
from .website import count_website_links


def nbgrader_api(root: Path, overrides: dict | None = None):
    """An ``NbGraderAPI`` for the course in ``root``, configured by its ``nbgrader_config.py``."""
    ensure_tools_on_path()
    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    for section, values in (overrides or {}).items():
        for key, value in values.items():
            config[section][key] = value
    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


def _check(result: dict, what: str) -> None:
    if not result.get("success"):
        raise DataError(f"{what} failed:\n{(result.get('log') or '')[-2000:]}{result.get('error') or ''}")


def generate_assignment(course: Course, assignment: str, site_url: str | None = None) -> Path:
    """Run ``nbgrader generate_assignment`` in the course; return the release folder.

    ``site_url``: the course website's address, for the notebooks' links
    (:mod:`~deepfakelab.course.website`; default: the course's config, else ``$DEEPFAKELAB_SITE_URL``).
    """
    course.check_assignment(assignment)
    overrides = {"WebsiteLinks": {"base_url": site_url}} if site_url else None
    _check(
        nbgrader_api(course.root, overrides).generate_assignment(assignment, force=True, create=True),
        f"nbgrader generate_assignment {assignment}",
    )
    return course.release(assignment)


def relative_website_links(release: Path) -> dict[str, int]:
    """Each released notebook's count of website links still relative (they open nothing in JupyterLab)."""
    counts = {}
    for notebook in sorted(release.glob("*.ipynb")):
        cells = json.loads(notebook.read_text()).get("cells", [])
        text = "\n".join("".join(c.get("source", "")) for c in cells if c.get("cell_type") == "markdown")
        if n := count_website_links(text):
            counts[notebook.name] = n
    return counts


def build_template(course: Course, assignment: str, into: Path) -> Path:
    """A private mini-course in ``into``: the source, the config and a gradebook of one assignment.

    Grading workers copy it, so no worker (and no student kernel) ever sees the course's real
    gradebook with everyone's grades.
    """
    course.check_assignment(assignment)
    stamp = _template_stamp(course, assignment)
    if (
        (into / "stamp.txt").is_file()
        and (into / "stamp.txt").read_text() == stamp
        and (into / "gradebook.db").is_file()
    ):
        return into  # made from this very source and config before
    if into.exists():
        shutil.rmtree(into)
    (into / "source").mkdir(parents=True)
    shutil.copytree(
        course.source(assignment),
        into / "source" / assignment,
        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "artifacts", "__pycache__"),
    )
    shutil.copy2(course.config, into / "nbgrader_config.py")
    _check(
        nbgrader_api(into).generate_assignment(assignment, force=True, create=True),
        f"nbgrader generate_assignment {assignment} (grading template)",
    )
    (into / "stamp.txt").write_text(stamp)
    return into


def _template_stamp(course: Course, assignment: str) -> str:
    """A digest of everything a grading template is made from: the source and the config."""
    h = hashlib.sha256(course.config.read_bytes())
    for path in sorted(course.source(assignment).rglob("*")):
        if path.is_file() and ".ipynb_checkpoints" not in path.parts and "artifacts" not in path.parts:
            h.update(str(path.relative_to(course.source(assignment))).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def student_versions(solutions: Path, out: Path, assignments: list[str], config: Path) -> list[Path]:
    """Write the student version of each assignment in ``solutions`` into ``out/<assignment>``.

    Used to regenerate the kit's committed ``assignments/`` folder; a test checks the committed
    files equal what this produces.
    """
    written = []
    with tempfile.TemporaryDirectory(prefix="dfl-release-") as tmp:
        root = Path(tmp)
        shutil.copy2(config, root / "nbgrader_config.py")
        for name in assignments:
            shutil.copytree(
                solutions / name,
                root / "source" / name,
                ignore=shutil.ignore_patterns(".ipynb_checkpoints", "artifacts", "__pycache__"),
            )
        course = open_course(root, hidden_checks=root)
        for name in assignments:
            release = generate_assignment(course, name)
            dest = Path(out) / name
            if dest.exists():
                shutil.rmtree(dest)
            shutil.copytree(release, dest)
            written.append(dest)
    return written
