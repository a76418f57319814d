"""A Content-Security-Policy for nbgrader's formgrader pages: a Jupyter server extension.

Formgrader shows a submission by rendering its graded notebook into a page of the instructor's
Jupyter server, so any script in it runs with the instructor's session (``/api/contents``,
terminals). The graded notebooks are sanitised when they are made (:mod:`.grading.sanitize`); this policy
is the second wall, for a notebook graded before that or a gap in the sanitiser. jupyter_server's
own policy is only ``frame-ancestors``, and one strict policy for the whole server does not fit:
formgrader's templates run inline scripts of their own (the submission's ids, tooltips).

So every response under ``/formgrader/`` gets, in a tornado output transform:

* pages: scripts only from formgrader's static folder plus the SHA-256 hashes of the inline
  scripts that come *before* the notebook in the page (formgrader's template; on a submission
  page the student's cells start at ``id="notebook-container"``, and nothing after it is
  hashed), no plugins, no ``<base>``, forms and connections to this server only;
* the files beside a graded notebook (``/formgrader/submissions/<id>/<file>``, written by the
  student's code): ``sandbox`` and no script, so an HTML or SVG file a student links to opens
  in an opaque origin.

Not covered: JupyterLab's own pages (they keep jupyter_server's policy; JupyterLab sanitises
untrusted notebooks itself) and MathJax in formgrader (loaded from a CDN; the maths of a
submission shows as TeX). Enabled by the course's ``jupyter_server_config.py``, which
``deepfakelab course formgrader`` passes to JupyterLab.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import sys
from pathlib import Path

from tornado.web import OutputTransform

from .layout import SERVER_CONFIG, kit_root

#: Where formgrader's template puts the notebook: inline scripts after this are not the template's.
NOTEBOOK_MARKER = b'id="notebook-container"'
#: Policy of a file served from a submission's folder.
FILES_CSP = "default-src 'none'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; sandbox"
_INLINE_SCRIPT = re.compile(rb"<script\b([^>]*)>(.*?)</script\s*>", re.I | re.S)
_SUBMISSION_FILE = re.compile(
    r"/formgrader/submissions/[^/]+/(?!(?:next|prev|next_incorrect|prev_incorrect)/?$).+"
)


def page_policy(origin: str, base_url: str, body: bytes) -> str:
    """The policy of a formgrader page whose HTML is ``body``, served from ``origin``."""
    template = body.split(NOTEBOOK_MARKER, 1)[0]
    hashes = sorted(
        {_script_hash(m.group(2)) for m in _INLINE_SCRIPT.finditer(template) if b"src=" not in m.group(1)}
    )
    static = f"{origin}{base_url.rstrip('/')}/formgrader/static/"
    scripts = " ".join([static, *hashes])
    return (
        f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "font-src 'self' data:; connect-src 'self'; object-src 'none'; frame-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'self'"
    )


def _script_hash(script: bytes) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"


def transform_for(base_url: str) -> type[OutputTransform]:
    """The output transform class for a server whose ``base_url`` is ``base_url``."""
    prefix = base_url.rstrip("/") + "/formgrader/"

    class FormgraderPolicy(OutputTransform):
        """Sets the policy of the module doc on every ``/formgrader/`` response."""

        def __init__(self, request):
            super().__init__(request)
            self.path = request.path
            self.origin = f"{request.protocol}://{request.host}"

        def transform_first_chunk(self, status_code, headers, chunk, finishing):
            if not self.path.startswith(prefix):
                return status_code, headers, chunk
            if _SUBMISSION_FILE.fullmatch(self.path[len(base_url.rstrip("/")) :]):
                headers["Content-Security-Policy"] = FILES_CSP
            elif finishing:
                headers["Content-Security-Policy"] = page_policy(self.origin, base_url, chunk)
            else:  # a page sent in pieces: its inline scripts cannot be hashed, so none may run
                headers["Content-Security-Policy"] = page_policy(self.origin, base_url, b"")
            return status_code, headers, chunk

    return FormgraderPolicy


def formgrader_command(course_root: str | Path, extra: list[str] = ()) -> list[str]:
    """``jupyter lab`` in ``course_root`` with the course's server config (copied from the kit if missing)."""
    config = Path(course_root) / SERVER_CONFIG
    if not config.is_file():
        shutil.copy2(kit_root() / "autograder" / SERVER_CONFIG, config)
    return [sys.executable, "-m", "jupyterlab", f"--config={config}", *extra]


def _jupyter_server_extension_points():
    return [{"module": "deepfakelab.course.formgrader_csp"}]


def _load_jupyter_server_extension(serverapp) -> None:
    """Put the transform first, so that it sees each page before compression."""
    web_app = serverapp.web_app
    web_app.transforms.insert(0, transform_for(web_app.settings.get("base_url", "/")))
    serverapp.log.info("deepfakelab: formgrader pages are served with a Content-Security-Policy")
