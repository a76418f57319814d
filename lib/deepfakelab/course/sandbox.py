"""Time and memory limits for a graded notebook, as an nbgrader execute preprocessor.

nbgrader already interrupts one cell after ``Execute.timeout`` seconds. :class:`LimitedExecute`
adds what a course needs on a shared machine: a budget for the whole notebook (cells after it
is spent are skipped with a message, so the student keeps the points of the cells that ran) and
a kernel whose address space is capped (``memory_mb``), started through
:mod:`deepfakelab.course.kernel_launcher` by a kernelspec written into a private Jupyter path.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Float, Integer

#: Name of the error a skipped or interrupted cell shows in the graded notebook.
TIME_LIMIT_ERROR = "NotebookTimeLimit"


class LimitedExecute(Execute):
    """nbgrader's Execute with a whole-notebook time budget and a memory-capped kernel."""

    notebook_timeout = Float(900.0, help="Seconds the whole notebook may run; later cells are skipped.").tag(config=True)
    memory_mb = Integer(8192, help="Address-space limit of the kernel, in MiB (0: none).").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        self._deadline = time.monotonic() + self.notebook_timeout
        self._cell_timeout = self.timeout
        try:
            return super().preprocess(nb, resources, km=km)
        finally:
            self.timeout = self._cell_timeout

    def preprocess_cell(self, cell: NotebookNode, resources, index: int):
        if cell.cell_type != "code" or not cell.source.strip():
            return super().preprocess_cell(cell, resources, index)
        remaining = self._deadline - time.monotonic()
        if remaining < 1:  # cell timeouts are whole seconds; less than one left means none
            cell.outputs = [_error(
                TIME_LIMIT_ERROR,
                f"not run: the notebook used up its {self.notebook_timeout:.0f} s time limit before this "
                "cell. Make the earlier cells faster (fewer epochs, smaller inputs) and submit again.",
            )]
            return cell, resources
        self.timeout = max(1, int(min(self._cell_timeout or remaining, remaining)))
        self.error_on_timeout = {
            "ename": TIME_LIMIT_ERROR,
            "evalue": f"interrupted after {self.timeout} s",
            "traceback": [f"{TIME_LIMIT_ERROR}: this cell was stopped after {self.timeout} s (the time "
                          "limit of one cell, or what was left of the notebook's). Look for a loop "
                          "that never ends or work that is far too large."],
        }
        return super().preprocess_cell(cell, resources, index)


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def write_kernelspec(jupyter_path: Path, memory_mb: int, name: str = "python3", jail: list[str] | None = None) -> Path:
    """Write a kernelspec ``name`` that starts the memory-limited kernel; return its folder.

    Put ``jupyter_path`` first on ``JUPYTER_PATH``: it then shadows the normal ``python3``
    kernel for this process only, without touching the instructor's Jupyter set-up. ``jail``
    is the command that starts a process in the submission's sandbox
    (:meth:`.bubblewrap.Sandbox.command` without its program); the kernel then runs inside it
    and is interrupted by a message, since a signal to ``bwrap`` would not reach it.
    """
    folder = Path(jupyter_path) / "kernels" / name
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [*(jail or []), sys.executable, "-m", "deepfakelab.course.kernel_launcher", "--memory-mb",
                 str(int(memory_mb)), "-f", "{connection_file}", "--IPKernelApp.log_level=ERROR"],
        "display_name": "Python 3 (graded, limited)",
        "language": "python",
        "env": {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"},
    }
    if jail:  # its banner would go to the grader's terminal: it has no parent pid to detect a client by
        spec["interrupt_mode"] = "message"
        spec["argv"][-1] = "--IPKernelApp.log_level=CRITICAL"
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1))
    return folder
