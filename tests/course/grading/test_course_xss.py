"""A student's HTML never runs for the instructor: sanitised graded notebooks, CSP on formgrader and feedback.

Issue 32: a ``<script>`` in a written answer (or an HTML/SVG output) ran in formgrader with the
instructor's Jupyter session. The unit tests check :mod:`deepfakelab.course.grading.sanitize`; the
end-to-end test grades a toy submission carrying such an answer, then opens its formgrader page
in headless Chromium (Debian's, through Playwright) on a JupyterLab started the way
``deepfakelab course formgrader`` starts it, and checks that nothing of the student's ran.
Without bubblewrap or Chromium it skips with the reason (in CI a missing Chromium fails).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
import urllib.request
from urllib.parse import urlparse

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

pytest.importorskip("nbgrader")

from deepfakelab.course import toy  # noqa: E402
from deepfakelab.course.formgrader_csp import formgrader_command, page_policy  # noqa: E402
from deepfakelab.course.layout import SERVER_CONFIG, kit_root  # noqa: E402
from deepfakelab.course.grading.sanitize import add_feedback_csp, sanitize_markdown, sanitize_notebook  # noqa: E402

MARKER = "dfl-xss-ran"  # in every script the student plants; must never show up anywhere it could run
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
ANSWER_TEXT = "Averaging hides the few frames that were manipulated."
PLANT = (
    f"fetch('/api/contents/{MARKER}.txt', {{method: 'PUT', headers: {{'Content-Type': 'application/json', "
    "'X-XSRFToken': (document.cookie.match(/_xsrf=([^;]+)/) || [])[1]}, "
    f"body: JSON.stringify({{type: 'file', format: 'text', content: '{MARKER}'}})}})"
)
WRITTEN_ATTACK = (
    f"{ANSWER_TEXT}\n\n<script>document.title = '{MARKER}'; console.log('{MARKER}'); {PLANT};</script>\n"
    f"<img src=x onerror=\"console.log('{MARKER}'); document.title = '{MARKER}'\">\n"
)
CODE_ATTACK = (
    toy.RIGHT["verdict_answer"]
    + f"""
from IPython.display import HTML, SVG, display
display(HTML("<b>bold output</b><script>console.log('{MARKER}')</script>"))
display(SVG('<svg xmlns="http://www.w3.org/2000/svg" onload="console.log(\\'{MARKER}\\')"><circle r="5"/></svg>'))
"""
)


# --------------------------------------------------------------------------- the sanitiser
@pytest.mark.parametrize(
    "attack",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)><circle/></svg>",
        "[click](javascript:alert(1))",
        "[click](java&#115;cript:alert(1))",
        "<a href='javascript:alert(1)'>x</a>",
        "<iframe src='https://example.org'></iframe>",
        "<object data=x></object>",
        "<form action=x><input></form>",
        "![x](data:image/svg+xml;base64,PHN2Zz4=)",
        "<style>body{display:none}</style>",
        "<javascript:alert(1)>",
    ],
)
def test_active_markdown_is_removed(attack):
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    text = f"My answer.\n\n{attack}\n"
    clean = sanitize_markdown(text)
    rendered = markdown2html_mistune(clean).lower()
    for bad in (
        "<script",
        "onerror",
        "onload",
        "<svg",
        'href="javascript:',
        "<iframe",
        "<object",
        "<form",
        "<input",
        "data:image/svg",
        "<style",
    ):
        assert bad not in rendered, (attack, clean)
    assert "My answer." in clean
    assert (
        sanitize_markdown(clean) == clean
    )  # a second pass (answers, then the whole notebook) changes nothing


@pytest.mark.parametrize(
    "answer",
    [
        "A mean over *many* frames barely moves: $\\bar s = \\frac{1}{n}\\sum_i s_i$ and $a < b$, so x < 0.5 > y.",
        "> quoted\n\n- a list with `code < here`\n- and [a link](https://example.org/a?b=1&c=2)\n\n1. `x<3`",
        "![frames](attachment:frames.png) and ![plot](data:image/png;base64," + PNG + ")\n\n$$E = mc^2$$",
    ],
)
def test_ordinary_markdown_is_kept_verbatim(answer):
    assert sanitize_markdown(answer) == answer


def test_markdown_with_html_keeps_what_a_browser_shows():
    clean = sanitize_markdown("Frames **matter**: $a<b$ and `<div>`\n\n<b>bold</b><script>x()</script>")
    assert clean.startswith("<div>") and "\n" not in clean
    assert "<strong>matter</strong>" in clean and "$a&lt;b$" in clean and "<code>&lt;div&gt;</code>" in clean
    assert "<b>bold</b>" in clean and "x()" not in clean


def test_sanitize_markdown_refuses_non_text():
    with pytest.raises(TypeError, match="markdown must be text"):
        sanitize_markdown(42)
    with pytest.raises(TypeError, match="expects a notebook"):
        sanitize_notebook({"cells": "nope"})


def _output(mime_data: dict, metadata: dict | None = None):
    return new_output("display_data", data=mime_data, metadata=metadata or {})


def test_outputs_follow_the_allowlist():
    nb = new_notebook(
        cells=[
            new_code_cell(
                "x",
                outputs=[
                    _output(
                        {
                            "text/html": "<b>ok</b><script>alert(1)</script><img src=x onerror=alert(1)>",
                            "text/plain": "ok",
                        }
                    ),
                    _output({"image/svg+xml": "<svg onload='alert(1)'/>"}),
                    _output(
                        {
                            "application/javascript": "alert(1)",
                            "text/plain": "<IPython.core.display.Javascript>",
                        }
                    ),
                    _output({"application/vnd.jupyter.widget-view+json": {"model_id": "x"}}),
                    _output(
                        {"image/png": PNG},
                        {"image/png": {"width": "1 onerror=alert(1)", "height": 20}, "filenames": {}},
                    ),
                    _output({"image/png": '"><script>alert(1)</script>'}),
                    _output(
                        {"application/json": {"a": 1}, "text/markdown": "**md** <script>alert(1)</script>"}
                    ),
                    new_output(
                        "stream", name="stdout", text="<script>printed, escaped by every renderer</script>"
                    ),
                    new_output("error", ename="ValueError", evalue="bad", traceback=["ValueError: bad"]),
                ],
            ),
            new_markdown_cell(
                "<img src=x onerror=alert(1)>",
                attachments={"a.png": {"image/png": PNG}, "b.svg": {"image/svg+xml": "PHN2Zz4="}},
            ),
            nbformat.v4.new_raw_cell("<script>alert(1)</script><p>raw</p>"),
        ]
    )
    before = nbformat.writes(nb)
    clean = sanitize_notebook(nb)
    assert nbformat.writes(nb) == before  # the notebook passed in is left as it was
    nbformat.validate(clean)
    html, svg, js, widget, png, fake_png, md, stream, error = clean.cells[0].outputs
    assert html.data == {"text/html": '<b>ok</b><img src="x">', "text/plain": "ok"}
    assert svg.data == {"text/plain": "[output not shown in the graded notebook: image/svg+xml]"}
    assert js.data == {"text/plain": "<IPython.core.display.Javascript>"}
    assert "widget" in widget.data["text/plain"]
    assert png.data == {"image/png": PNG} and png.metadata == {"image/png": {"height": 20}}
    assert "image/png" not in fake_png.data
    assert md.data["application/json"] == {"a": 1} and "alert" not in md.data["text/markdown"]
    assert stream.text.startswith("<script>") and error.ename == "ValueError"
    assert clean.cells[1].source == '<div><img src="x"></div>' and list(clean.cells[1].attachments) == [
        "a.png"
    ]
    assert clean.cells[2].source == "<p>raw</p>"


def test_feedback_csp_is_the_first_element_of_head(tmp_path):
    page = tmp_path / "toy.html"
    page.write_text(
        "<!DOCTYPE html>\n<html>\n<HEAD>\n<meta charset='utf-8'>\n<title>t</title></head><body></body></html>"
    )
    assert add_feedback_csp(tmp_path) == [page]
    assert add_feedback_csp(tmp_path) == []  # once only
    text = page.read_text()
    assert text.index("<HEAD>") + len("<HEAD>") == text.index('<meta http-equiv="Content-Security-Policy"')
    assert "script-src" not in text and "default-src 'none'" in text


def test_formgrader_policy_hashes_only_the_template_scripts():
    body = (
        b"<html><head><script>var submission_id = 'a';</script><script src='/x.js'></script></head><body>"
        b'<div id="notebook-container"><script>alert(1)</script></div></body></html>'
    )
    policy = page_policy("http://127.0.0.1:1", "/", body)
    assert (
        policy.count("'sha256-") == 1
        and "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";")[0]
    )
    assert (
        "script-src http://127.0.0.1:1/formgrader/static/ 'sha256-" in policy
        and "object-src 'none'" in policy
    )


# --------------------------------------------------------------------------- end to end
@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A toy course where one student's written answer and outputs carry script, graded once."""
    from deepfakelab.course.sandbox.bubblewrap import availability
    from deepfakelab.course.grading.grade import GradeOptions, grade_assignment
    from deepfakelab.course.release import generate_assignment

    if availability() is not None:
        pytest.skip(f"no sandbox here: {availability()}")
    course = toy.build_toy_course(tmp_path_factory.mktemp("course"))
    shutil.copy2(kit_root() / "autograder" / SERVER_CONFIG, course.root / SERVER_CONFIG)
    generate_assignment(course, toy.ASSIGNMENT)
    path = toy.make_submission(course, "mallory", "correct")
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        cell.source = {"explain_verdict": WRITTEN_ATTACK, "verdict_answer": CODE_ATTACK}.get(
            grade_id, cell.source
        )
    nbformat.write(nb, str(path))
    started = time.perf_counter()
    report = grade_assignment(course, toy.ASSIGNMENT, GradeOptions(jobs=1, progress=False))
    print(f"graded in {time.perf_counter() - started:.1f} s")
    return course, report


def test_graded_notebook_and_feedback_hold_no_student_script(graded):
    course, report = graded
    assert report.graded["mallory"].score == sum(toy.AUTOGRADED_POINTS.values()), report.failed
    assert "mallory" not in report.failed
    nb = nbformat.read(
        str(course.autograded(toy.ASSIGNMENT, "mallory") / f"{toy.NOTEBOOK}.ipynb"), as_version=4
    )
    # what is rendered: markdown, and outputs (a code cell's source is shown as code, escaped)
    shown = [c.source for c in nb.cells if c.cell_type == "markdown"] + [
        json.dumps(c.outputs) for c in nb.cells if c.cell_type == "code"
    ]
    shown = "\n".join(shown)
    assert ANSWER_TEXT in shown and "bold output" in shown
    for bad in (MARKER, "<script", "onerror", "onload", "image/svg+xml"):
        assert bad not in shown, bad
    feedback = (course.root / "feedback" / "mallory" / toy.ASSIGNMENT / f"{toy.NOTEBOOK}.html").read_text()
    assert ANSWER_TEXT in feedback
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script", feedback, re.S | re.I)
    assert not any(MARKER in script for script in scripts)  # the code's text is there, escaped, as code
    assert not re.search(r"<[^>]*\son\w+\s*=[^>]*" + MARKER, feedback), "an event handler of the student's"
    head = feedback[feedback.lower().index("<head") :]
    assert head[head.index(">") + 1 :].lstrip().startswith('<meta http-equiv="Content-Security-Policy"')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def formgrader(graded, tmp_path_factory):
    """JupyterLab with formgrader in the course folder, as `deepfakelab course formgrader` starts it."""
    course, _ = graded
    port, token = _free_port(), secrets.token_hex(16)
    runtime = tmp_path_factory.mktemp("jupyter-runtime")
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(runtime), "JUPYTER_PLATFORM_DIRS": "1"}
    command = formgrader_command(
        course.root,
        [
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            *(["--allow-root"] if os.geteuid() == 0 else []),
        ],
    )
    log = open(runtime / "server.log", "w")
    proc = subprocess.Popen(command, cwd=course.root, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"jupyter lab did not start:\n{(runtime / 'server.log').read_text()[-3000:]}")
                time.sleep(0.3)
        yield course, base, token
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _submission_id(course, student: str) -> str:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course.gradebook}") as gb:
        return gb.find_submission_notebook(toy.NOTEBOOK, toy.ASSIGNMENT, student).id


def _open(browser, url: str) -> dict:
    """Open ``url`` in a fresh context, nothing leaving 127.0.0.1; what the page showed and logged."""
    context = browser.new_context()
    seen = {"console": [], "blocked": []}

    def route(route):
        if urlparse(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            seen["blocked"].append(route.request.url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda message: seen["console"].append(message.text))
    response = page.goto(url, wait_until="load")
    page.wait_for_timeout(1500)  # the planted fetch, had it run, has long been answered
    seen.update(
        status=response.status,
        csp=response.headers.get("content-security-policy", ""),
        title=page.title(),
        text=page.inner_text("body"),
        submission_id=page.evaluate("typeof submission_id === 'string' ? submission_id : null"),
    )
    context.close()
    return seen


def test_formgrader_shows_the_answer_and_runs_none_of_it(formgrader, browser):
    course, base, token = formgrader
    sid = _submission_id(course, "mallory")
    seen = _open(browser, f"{base}/formgrader/submissions/{sid}/?token={token}")
    assert seen["status"] == 200 and ANSWER_TEXT in seen["text"] and "bold output" in seen["text"]
    script_src = next(d for d in seen["csp"].split(";") if d.strip().startswith("script-src"))
    assert (
        "'unsafe-inline'" not in script_src
        and "'unsafe-eval'" not in script_src
        and "object-src 'none'" in seen["csp"]
    )
    assert seen["submission_id"] == sid  # formgrader's own inline script ran (its hash is in the policy)
    assert seen["title"] == toy.NOTEBOOK and not any(MARKER in m for m in seen["console"]), seen["console"]
    assert not list(course.root.rglob(f"{MARKER}*"))


def test_formgrader_policy_stops_an_unsanitised_notebook(formgrader, browser):
    """A notebook graded before the sanitiser (written here raw): the policy alone stops its script."""
    course, base, token = formgrader
    graded = course.autograded(toy.ASSIGNMENT, "mallory") / f"{toy.NOTEBOOK}.ipynb"
    nb = nbformat.read(str(graded), as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "explain_verdict":
            cell.source = WRITTEN_ATTACK
    nbformat.write(nb, str(graded))
    seen = _open(browser, f"{base}/formgrader/submissions/{_submission_id(course, 'mallory')}/?token={token}")
    assert ANSWER_TEXT in seen["text"]
    assert seen["title"] == toy.NOTEBOOK and not any(
        MARKER in m for m in seen["console"] if "Refused" not in m
    )
    assert any("Content Security Policy" in m for m in seen["console"]), seen["console"]
    assert not list(course.root.rglob(f"{MARKER}*"))
