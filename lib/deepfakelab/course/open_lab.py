"""``deepfakelab lab [ASSIGNMENT]``: a student's way into a lab, in JupyterLab.

A student has the kit installed and a release of the lab (the folder the instructor handed out,
or the kit's own student version). This command puts the release into a working folder the
student owns -- copying only files that are not there yet, so an edited notebook is never
overwritten -- and starts JupyterLab in that folder with the notebook open.

The notebooks ask for the kernel ``python3``. JupyterLab is started from the kit's own Python,
and a kernel spec ``python3`` pointing at that interpreter is put first on ``JUPYTER_PATH`` for
this session only (a temporary folder, removed when JupyterLab exits), so the notebook runs
with the kit's packages even when the student's Jupyter knows another ``python3``.

The address JupyterLab prints (with ``--no-browser``, the one the student opens) is the lab's
notebook itself (``/lab/tree/<notebook>``), not the launcher. And the student sees the student's
side of nbgrader only: the assignment list and validate. nbgrader's instructor tools -- the
formgrader, the Create Assignment panel, the course list -- are switched off for this session,
as nbgrader's documentation says to do for students: their server extensions by
``--ServerApp.jpserver_extensions`` on the command line, their JupyterLab plugins by a
``labconfig/page_config.json`` (``disabledExtensions``, what ``jupyter labextension disable``
writes) in a config folder put first on ``JUPYTER_CONFIG_PATH`` for this session only. The
student's own Jupyter configuration is left as it is.
"""

from __future__ import annotations

import argparse
import filecmp
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from ..errors import ConfigError, DataError
from .layout import kit_root

#: Files of a release that are not the student's to work on.
_IGNORED = {".ipynb_checkpoints", "__pycache__"}


@dataclass
class WorkingFolder:
    """What :func:`fetch_release` did: the folder, and which files it copied or kept."""

    folder: Path
    notebooks: list[Path]
    copied: list[Path] = field(default_factory=list)
    kept_edited: list[Path] = field(default_factory=list)


def find_release(assignment: str, source: str | Path | None = None) -> Path:
    """The folder holding ``assignment``'s student notebook.

    ``source`` is the release the instructor handed out: the assignment's folder itself or a
    folder with an ``assignment/`` inside (a course's ``release/``). Without it, the kit's own
    student version (``assignments/<assignment>/`` of the kit, see
    :func:`~deepfakelab.course.layout.kit_root`), or of the installed wheel (:func:`student_versions`).
    """
    if source is not None:
        source = Path(source)
        for candidate in (source / assignment, source):
            if candidate.is_dir() and any(candidate.glob("*.ipynb")):
                return candidate
        raise DataError(
            f"{source}: no notebook of {assignment} there (expected {assignment}.ipynb in it "
            f"or in {source / assignment})"
        )
    places = student_versions()
    for place in places:
        if any((place / assignment).glob("*.ipynb")):
            return place / assignment
    known = sorted({p.name for place in places for p in place.iterdir() if any(p.glob("*.ipynb"))})
    if not known:
        raise DataError(
            f"this install of the kit holds no student versions; pass --from FOLDER, the release "
            f"of {assignment} your instructor gave you"
        )
    raise DataError(
        f"no lab called {assignment!r} in the kit (labs: {', '.join(known)}); "
        "pass --from FOLDER for a release your instructor gave you"
    )


def student_versions() -> list[Path]:
    """Folders holding the kit's own student versions, one sub-folder per lab, first match wins.

    A checkout has them in ``assignments/`` (see :func:`~deepfakelab.course.layout.kit_root`); an
    installed wheel under its environment's ``share/deepfakelab/assignments/`` (``data-files`` in
    ``pyproject.toml``).
    """
    places = []
    try:
        places.append(kit_root() / "assignments")
    except ConfigError:  # an installed kit: no course material beside the package
        pass
    schemes = [sysconfig.get_path("data"), sys.prefix]
    if sysconfig.get_preferred_scheme("user") in sysconfig.get_scheme_names():
        schemes.append(sysconfig.get_path("data", sysconfig.get_preferred_scheme("user")))
    places += [Path(prefix) / "share" / "deepfakelab" / "assignments" for prefix in schemes]
    unique = []
    for place in places:
        if place.is_dir() and place.resolve() not in [u.resolve() for u in unique]:
            unique.append(place)
    return unique


def fetch_release(release: Path, folder: str | Path) -> WorkingFolder:
    """Copy ``release`` into ``folder``, never replacing a file that is already there.

    A notebook already in ``folder`` that differs from the release's is the student's work: it is
    kept and listed in ``kept_edited``.
    """
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    result = WorkingFolder(folder, [])
    for path in sorted(release.rglob("*")):
        rel = path.relative_to(release)
        if _IGNORED & set(rel.parts) or not path.is_file():
            continue
        dest = folder / rel
        if path.suffix == ".ipynb" and len(rel.parts) == 1:
            result.notebooks.append(dest)
        if dest.exists():
            if path.suffix == ".ipynb" and not filecmp.cmp(path, dest, shallow=False):
                result.kept_edited.append(dest)
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
        result.copied.append(dest)
    return result


def kernel_spec(python: str = sys.executable) -> dict:
    """The ``python3`` kernel spec that runs notebooks with ``python`` (the kit's interpreter)."""
    return {
        "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (deepfakelab)",
        "language": "python",
        "metadata": {"debugger": True},
    }


def write_kernel_spec(data_dir: Path, python: str = sys.executable) -> Path:
    """Write :func:`kernel_spec` as ``data_dir/kernels/python3/kernel.json``; return ``data_dir``."""
    spec = data_dir / "kernels" / "python3" / "kernel.json"
    spec.parent.mkdir(parents=True, exist_ok=True)
    spec.write_text(json.dumps(kernel_spec(python), indent=1))
    return data_dir


#: nbgrader's instructor tools, off for students (nbgrader's docs, "Installation": disable the
#: formgrader, Create Assignment and the course list for students): its server extensions ...
INSTRUCTOR_SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.course_list",
)
#: ... and its JupyterLab plugins. The assignment list and validate (the student's side) stay; the
#: Nbgrader menu shows only the commands of the plugins that are on.
INSTRUCTOR_LAB_PLUGINS = (
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
)


def jupyterlab_command(open_files: list[str], no_browser: bool = False, port: int | None = None) -> list[str]:
    """The command that starts JupyterLab from the kit's Python with ``open_files`` open.

    The first notebook is also JupyterLab's default address, so the link it prints opens it (not the
    launcher); nbgrader's instructor server extensions are switched off (:data:`INSTRUCTOR_SERVER_EXTENSIONS`).
    """
    command = [sys.executable, "-m", "jupyterlab"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers often run as root; JupyterLab refuses to without it
    if no_browser:
        command.append("--no-browser")
    if port is not None:
        command.append(f"--port={port}")
    notebooks = [f for f in open_files if f.endswith(".ipynb")]
    if notebooks:
        command.append(f"--LabApp.default_url=/lab/tree/{quote(notebooks[0])}")
    command += [f"--ServerApp.jpserver_extensions={name}=False" for name in INSTRUCTOR_SERVER_EXTENSIONS]
    return command + list(open_files)


def write_student_config(config_dir: Path) -> Path:
    """Write the JupyterLab page config that disables nbgrader's instructor plugins
    (:data:`INSTRUCTOR_LAB_PLUGINS`) as ``config_dir/labconfig/page_config.json``; return ``config_dir``."""
    page_config = config_dir / "labconfig" / "page_config.json"
    page_config.parent.mkdir(parents=True, exist_ok=True)
    disabled = {name: True for name in INSTRUCTOR_LAB_PLUGINS}
    page_config.write_text(json.dumps({"disabledExtensions": disabled}, indent=1))
    return config_dir


def jupyter_env(data_dir: Path, config_dir: Path | None = None) -> dict[str, str]:
    """This process's environment with ``data_dir`` first on ``JUPYTER_PATH`` (and ``config_dir``,
    when given, first on ``JUPYTER_CONFIG_PATH``)."""
    env = dict(os.environ)
    env["JUPYTER_PATH"] = os.pathsep.join([str(data_dir), *filter(None, [env.get("JUPYTER_PATH")])])
    if config_dir is not None:
        env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
            [str(config_dir), *filter(None, [env.get("JUPYTER_CONFIG_PATH")])]
        )
    return env


def _lab(args: argparse.Namespace) -> int:
    if args.assignment:
        release = find_release(args.assignment, args.source)
        work = fetch_release(release, args.dir or args.assignment)
        print(f"{args.assignment}: working folder {work.folder} (release: {release})")
        if work.copied:
            print(f"  copied {len(work.copied)} file(s) from the release")
        for path in work.kept_edited:
            print(
                f"  kept your {path.name}: it differs from the release's copy (your work is never overwritten)"
            )
        folder, open_files = work.folder, [p.name for p in work.notebooks]
    else:
        folder = Path(args.dir or ".").resolve()
        if not folder.is_dir():
            raise DataError(f"{folder}: no such folder")
        open_files = []
    if importlib.util.find_spec("jupyterlab") is None and not args.dry_run:
        raise DataError(
            "JupyterLab is not installed with this Python "
            f"({sys.executable}); install the kit with its lab extra: pip install 'deepfakelab[lab]'"
        )
    command = jupyterlab_command(open_files, args.no_browser, args.port)
    with tempfile.TemporaryDirectory(prefix="deepfakelab-jupyter-") as tmp:
        data_dir = write_kernel_spec(Path(tmp) / "data")
        config_dir = write_student_config(Path(tmp) / "config")
        if args.dry_run:
            print(
                f"in {folder}: JUPYTER_PATH={data_dir} JUPYTER_CONFIG_PATH={config_dir} {' '.join(command)}"
            )
            return 0
        print(f"Starting JupyterLab in {folder} (stop it with Ctrl-C; your files stay in that folder).")
        if open_files:
            print(
                f"Open the address JupyterLab prints below (http://localhost:...?token=...): "
                f"it opens {open_files[0]}."
            )
        try:
            return subprocess.run(command, cwd=folder, env=jupyter_env(data_dir, config_dir)).returncode
        except KeyboardInterrupt:
            return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "lab",
        help="open a lab in JupyterLab (fetching its release into a working folder first)",
        description="Put the lab's student release into a working folder (only files not there yet: your "
        "edited notebook is never overwritten) and start JupyterLab there with the kit's Python as the kernel. "
        "Without ASSIGNMENT, start JupyterLab in --dir (default: here).",
    )
    parser.add_argument("assignment", nargs="?", metavar="ASSIGNMENT", help="the lab, e.g. lab1 or lab2")
    parser.add_argument(
        "--dir", help="the working folder (default: ./ASSIGNMENT, as nbgrader's fetch makes it)"
    )
    parser.add_argument(
        "--from",
        dest="source",
        metavar="FOLDER",
        help="the release your instructor gave you (default: the kit's own student version)",
    )
    parser.add_argument(
        "--no-browser", action="store_true", help="do not open a browser (passed to JupyterLab)"
    )
    parser.add_argument("--port", type=int, help="JupyterLab's port (passed to JupyterLab)")
    parser.add_argument(
        "--dry-run", action="store_true", help="fetch the files, print the command, start nothing"
    )
    parser.set_defaults(func=_lab)
