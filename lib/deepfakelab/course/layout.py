"""Where things live: the kit's course material and an instructor's nbgrader course folder.

The kit (this repository) holds the instructor sources in ``solutions/<assignment>/``, the
student versions in ``assignments/<assignment>/``, the nbgrader config template and the hidden
checks in ``autograder/``. An instructor's course folder is an ordinary nbgrader course
(``source/``, ``release/``, ``submitted/``, ``autograded/``, ``feedback/``, ``gradebook.db``)
made from the kit by :func:`init_course`, so every ``nbgrader`` command works in it too.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from ..datafiles import read_json_file
from ..errors import ConfigError, DataError
from ..media.files import check_input_folder, check_output_folder

#: Folder inside a course where the kit keeps its own state (journal, backups, scratch).
STATE_DIR = ".deepfakelab"
#: Folder inside a course with each assignment's media pack (``media/lab1/lab1.yaml``).
MEDIA_DIR = "media"
#: The Jupyter server config ``deepfakelab course formgrader`` starts JupyterLab with (:mod:`.formgrader_csp`).
SERVER_CONFIG = "jupyter_server_config.py"
#: A student id: it names a folder under submitted/, autograded/ and feedback/, so letters, digits,
#: ``_ . @ + -`` only, never starting with ``.`` or ``-`` (no ``..``, no hidden folder, no option).
STUDENT_ID = re.compile(r"\w[\w.@+-]{0,99}")


def check_student_id(student: str) -> str:
    """``student`` if it is safe as a folder name; a one-line DataError naming it otherwise.

    Ids come from the instructor (``--student``), from folder names and from the file names of an
    LMS download, which students choose in part; an id of ``..`` or with a ``/`` would put a
    submission (and its grading output) outside the course's folders.
    """
    if not isinstance(student, str) or not STUDENT_ID.fullmatch(student):
        raise DataError(
            f"{student!r}: not a safe student id (at most 100 letters, digits and _ . @ + -, "
            "starting with a letter, digit or _)"
        )
    return student


def kit_root() -> Path:
    """The kit's folder (with ``solutions/`` and ``autograder/``).

    ``DEEPFAKELAB_KIT`` overrides it, for an installed (non-editable) package or a course that
    keeps its own copy of the material.
    """
    env = os.environ.get("DEEPFAKELAB_KIT")
    root = Path(env) if env else Path(__file__).resolve().parents[3]
    if not (root / "autograder" / "nbgrader_config.py").is_file():
        raise ConfigError(
            f"course material not found under {root} (expected autograder/nbgrader_config.py); "
            "set DEEPFAKELAB_KIT to the deepfakelab repository folder"
        )
    return root


@dataclass(frozen=True)
class Course:
    """An nbgrader course folder, plus where its hidden checks are."""

    root: Path
    hidden_checks: Path

    @property
    def config(self) -> Path:
        return self.root / "nbgrader_config.py"

    @property
    def gradebook(self) -> Path:
        return self.root / "gradebook.db"

    @property
    def state(self) -> Path:
        return self.root / STATE_DIR

    def source(self, assignment: str) -> Path:
        return self.root / "source" / assignment

    def release(self, assignment: str) -> Path:
        return self.root / "release" / assignment

    def submitted(self, assignment: str, student: str | None = None) -> Path:
        if student is None:
            return self.root / "submitted"
        return self.root / "submitted" / check_student_id(student) / assignment

    def media(self, assignment: str) -> Path:
        """The course's media pack for ``assignment`` (see :mod:`deepfakelab.labs.lab1.media_pack`); the
        hidden checks read this copy, never the student's."""
        return self.root / MEDIA_DIR / assignment

    def autograded(self, assignment: str, student: str) -> Path:
        return self.root / "autograded" / check_student_id(student) / assignment

    def check_assignment(self, assignment: str) -> None:
        """Refuse, before nbgrader runs, an assignment with no notebooks or one that is not a notebook
        (nbgrader's own error is a traceback, and a Gradescope zip would carry the broken file)."""
        source = self.source(assignment)
        notebooks = sorted(source.glob("*.ipynb"))
        if not notebooks:
            known = sorted(p.name for p in (self.root / "source").glob("*") if p.is_dir())
            raise DataError(f"{source}: no notebooks here; assignments in this course: {known or 'none'}")
        for notebook in notebooks:
            content = read_json_file(notebook, "Jupyter notebook")
            if not isinstance(content, dict) or not isinstance(content.get("cells"), list):
                raise DataError(f"{notebook}: JSON but not a Jupyter notebook (no list of 'cells')")

    def students(self, assignment: str) -> list[str]:
        """Students with a submitted folder for ``assignment``, sorted."""
        base = self.root / "submitted"
        if not base.is_dir():
            return []
        return sorted(p.name for p in base.iterdir() if _real_folder(p) and _real_folder(p / assignment))


def _real_folder(path: Path) -> bool:
    """A folder that is not a link: a submission linked in from elsewhere is not graded."""
    return path.is_dir() and not path.is_symlink()


def open_course(root: str | Path, hidden_checks: str | Path | None = None) -> Course:
    """The course in ``root``; it must have an ``nbgrader_config.py`` (see :func:`init_course`)."""
    root = check_input_folder(Path(root).resolve(), "course folder")
    if not (root / "nbgrader_config.py").is_file():
        raise ConfigError(
            f"{root}: not a course folder (no nbgrader_config.py); "
            "create one with `deepfakelab course release ASSIGNMENT --course DIR`"
        )
    if hidden_checks:
        hidden = check_input_folder(Path(hidden_checks), "folder of hidden checks")
    else:
        hidden = _default_hidden(root)
    return Course(root=root, hidden_checks=hidden.resolve())


def _default_hidden(root: Path) -> Path:
    local = root / "hidden_checks"
    return local if local.is_dir() else kit_root() / "autograder" / "hidden_checks"


def init_course(root: str | Path, assignments: list[str] | None = None, kit: Path | None = None) -> Course:
    """Make (or top up) a course folder from the kit, never overwriting the instructor's files.

    Copies the nbgrader config template, the hidden checks and the instructor sources of
    ``assignments`` (all of them by default) into ``root``; an assignment found only in the
    course's ``source/`` is the instructor's own and is released as it is. Every name and the
    folder are checked before anything is written.
    """
    kit = kit or kit_root()
    root = check_output_folder(Path(root).resolve())
    names = assignments or sorted(p.name for p in (kit / "solutions").iterdir() if p.is_dir())
    for name in names:  # every name is checked before anything is written
        if not (kit / "solutions" / name).is_dir() and not (root / "source" / name).is_dir():
            known = sorted(p.name for p in (kit / "solutions").iterdir() if p.is_dir())
            raise DataError(
                f"{name}: no such assignment in the kit's solutions/ ({', '.join(known)}) "
                f"nor in this course's source/"
            )
    root.mkdir(parents=True, exist_ok=True)
    if not (root / "nbgrader_config.py").exists():
        shutil.copy2(kit / "autograder" / "nbgrader_config.py", root / "nbgrader_config.py")
    if not (root / SERVER_CONFIG).exists():  # formgrader's Content-Security-Policy (issue 32)
        shutil.copy2(kit / "autograder" / SERVER_CONFIG, root / SERVER_CONFIG)
    if not (root / "hidden_checks").exists():
        shutil.copytree(
            kit / "autograder" / "hidden_checks",
            root / "hidden_checks",
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    for name in names:
        src = kit / "solutions" / name
        dest = root / "source" / name
        if not dest.exists() and src.is_dir():  # the instructor's own assignments are left as they are
            shutil.copytree(
                src, dest, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "artifacts", "__pycache__")
            )
    return open_course(root)


def ensure_tools_on_path() -> None:
    """Make nbgrader usable from this process: its tools on ``PATH``, its gradebook set-up fast.

    nbgrader runs ``alembic`` by name when it creates a gradebook; without this Python's ``bin``
    folder on ``PATH`` a venv used without activation (``.venv/bin/deepfakelab``) fails with
    "No such file or directory: 'alembic'". It also starts that command for every new gradebook
    (seconds each); the revision it asks for is read here once, in-process, instead.
    """
    bin_dir = str(Path(sys.executable).parent)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if bin_dir not in parts:
        os.environ["PATH"] = os.pathsep.join([bin_dir, *parts])
    import nbgrader.api  # deferred: --help loads course.layout; nbgrader (+3 s) is not in the base install

    if not getattr(nbgrader.api.get_alembic_version, "_deepfakelab", False):

        @functools.cache
        def head_revision() -> str:
            from alembic.config import Config  # deferred: as nbgrader above; only for a new gradebook
            from alembic.script import ScriptDirectory  # deferred: as nbgrader above

            config = Config()
            config.set_main_option("script_location", str(Path(nbgrader.api.__file__).parent / "alembic"))
            return ScriptDirectory.from_config(config).get_current_head()

        head_revision._deepfakelab = True
        nbgrader.api.get_alembic_version = head_revision
