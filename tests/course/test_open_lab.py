"""``deepfakelab lab``: the release goes into a working folder, the student's edits survive, and
JupyterLab (mocked) is started there from the kit's Python with a ``python3`` kernel that is it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from deepfakelab.cli import main
from deepfakelab.course import open_lab
from deepfakelab.course.layout import kit_root


@pytest.fixture
def launches(monkeypatch):
    """Record JupyterLab launches instead of starting it; read the kernel spec while it exists."""
    calls = []

    def fake_run(command, cwd=None, env=None, **kwargs):
        data_dir = Path(env["JUPYTER_PATH"].split(os.pathsep)[0])
        spec = json.loads((data_dir / "kernels" / "python3" / "kernel.json").read_text())
        # what JupyterLab's page would be given: the page config of every config folder on the path
        from jupyterlab_server.config import get_static_page_config

        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("JUPYTER_CONFIG_PATH", env["JUPYTER_CONFIG_PATH"])
            page_config = get_static_page_config()
        calls.append(
            {"command": command, "cwd": Path(cwd), "env": env, "spec": spec, "page_config": page_config}
        )
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(open_lab.subprocess, "run", fake_run)
    return calls


def test_fetches_the_kits_release_and_starts_jupyterlab_there(tmp_path, monkeypatch, launches, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JUPYTER_PATH", "/somewhere/else")
    assert main(["lab", "lab1", "--no-browser"]) == 0
    work = tmp_path / "lab1"
    release = kit_root() / "assignments" / "lab1" / "lab1.ipynb"
    assert (work / "lab1.ipynb").read_bytes() == release.read_bytes()
    (call,) = launches
    assert call["cwd"] == work
    assert call["command"][:3] == [sys.executable, "-m", "jupyterlab"]
    assert "--no-browser" in call["command"] and call["command"][-1] == "lab1.ipynb"
    assert call["spec"]["argv"][0] == sys.executable and call["spec"]["argv"][1:3] == [
        "-m",
        "ipykernel_launcher",
    ]
    assert call["env"]["JUPYTER_PATH"].split(os.pathsep)[1] == "/somewhere/else"
    assert not Path(call["env"]["JUPYTER_PATH"].split(os.pathsep)[0]).exists(), (
        "the session's kernel spec is removed"
    )
    assert "working folder" in capsys.readouterr().out


def test_an_edited_notebook_is_never_overwritten(tmp_path, launches, capsys):
    work = tmp_path / "mine"
    assert main(["lab", "lab1", "--dir", str(work), "--dry-run"]) == 0
    notebook = work / "lab1.ipynb"
    edited = notebook.read_text().replace("def ", "def  ", 1)
    notebook.write_text(edited)
    capsys.readouterr()
    assert main(["lab", "lab1", "--dir", str(work)]) == 0
    assert notebook.read_text() == edited
    assert "kept your lab1.ipynb" in capsys.readouterr().out
    assert launches[-1]["cwd"] == work.resolve()


def test_a_release_from_the_instructor_with_its_media(tmp_path, launches):
    release = tmp_path / "release" / "lab1"
    (release / "media" / "photos").mkdir(parents=True)
    (release / "lab1.ipynb").write_text((kit_root() / "assignments" / "lab1" / "lab1.ipynb").read_text())
    (release / "media" / "lab1.yaml").write_text("photos: {}\n")
    (release / "media" / "photos" / "a.jpg").write_bytes(b"jpeg")
    (release / ".ipynb_checkpoints").mkdir()
    (release / ".ipynb_checkpoints" / "lab1-checkpoint.ipynb").write_text("{}")
    work = tmp_path / "work"
    assert main(["lab", "lab1", "--from", str(tmp_path / "release"), "--dir", str(work)]) == 0
    assert (work / "media" / "photos" / "a.jpg").read_bytes() == b"jpeg"
    assert not (work / ".ipynb_checkpoints").exists()
    assert launches[-1]["command"][-1] == "lab1.ipynb"


def test_dry_run_prints_the_command_and_starts_nothing(tmp_path, launches, capsys):
    assert main(["lab", "lab2", "--dir", str(tmp_path / "g"), "--dry-run", "--port", "8999"]) == 0
    out = capsys.readouterr().out
    assert "-m jupyterlab" in out and "--port=8999" in out and "lab2.ipynb" in out
    assert launches == [] and (tmp_path / "g" / "lab2.ipynb").is_file()


def test_without_an_assignment_it_opens_the_folder(tmp_path, launches):
    assert main(["lab", "--dir", str(tmp_path)]) == 0
    assert launches[-1]["cwd"] == tmp_path.resolve()
    assert not any(arg.endswith(".ipynb") for arg in launches[-1]["command"])


def test_bad_input_is_one_line(tmp_path, capsys):
    assert main(["lab", "no-such-lab", "--dir", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no lab called 'no-such-lab'" in err and "lab1" in err
    assert main(["lab", "lab1", "--from", str(tmp_path), "--dir", str(tmp_path / "y")]) == 2
    assert "no notebook of lab1" in capsys.readouterr().err


def test_the_printed_link_opens_the_notebook_and_nbgrader_instructor_tools_are_off(
    tmp_path, launches, monkeypatch
):
    """Issue 31: ``--no-browser`` printed the launcher's address, and the student saw the formgrader
    and the Create Assignment panel. JupyterLab's default address is now the notebook (what it prints
    and where ``/`` redirects), the instructor server extensions are off on the command line, and the
    instructor plugins are disabled in the session's page config; the student's side stays."""
    from jupyterlab.labapp import LabApp

    monkeypatch.setenv("JUPYTER_CONFIG_PATH", "/students/own/config")
    assert main(["lab", "lab1", "--dir", str(tmp_path / "w"), "--no-browser"]) == 0
    call = launches[-1]
    app = LabApp()
    app.parse_command_line([arg for arg in call["command"][3:] if arg.startswith("--")])
    assert app.config.LabApp.default_url == "/lab/tree/lab1.ipynb"
    extensions = app.config.ServerApp.jpserver_extensions
    assert extensions == {
        "nbgrader.server_extensions.formgrader": False,
        "nbgrader.server_extensions.course_list": False,
    }
    disabled = {name for name, off in call["page_config"].get("disabledExtensions", {}).items() if off}
    assert {
        "@jupyter/nbgrader:formgrader",
        "@jupyter/nbgrader:create-assignment",
        "@jupyter/nbgrader:course-list",
    } <= disabled
    assert not disabled & {"@jupyter/nbgrader:assignment-list", "@jupyter/nbgrader:validate-assignment"}
    paths = call["env"]["JUPYTER_CONFIG_PATH"].split(os.pathsep)
    assert paths[1] == "/students/own/config" and not Path(paths[0]).exists(), (
        "the session's config is removed"
    )


def test_a_notebook_name_with_spaces_is_quoted_in_the_address():
    command = open_lab.jupyterlab_command(["my lab.ipynb"], no_browser=True)
    assert "--LabApp.default_url=/lab/tree/my%20lab.ipynb" in command and command[-1] == "my lab.ipynb"
    assert not any("default_url" in arg for arg in open_lab.jupyterlab_command([]))
