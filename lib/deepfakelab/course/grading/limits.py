"""Time, memory and output limits for a graded notebook, as nbgrader preprocessors.

nbgrader already interrupts one cell after ``Execute.timeout`` seconds. :class:`LimitedExecute`
adds what a course needs on a shared machine: a budget for the whole notebook (cells after it
is spent are skipped with a message, so the student keeps the points of the cells that ran), a
cell that ignores the interrupt costing only itself (the kernel is restarted and the cells before it
run again), a kernel that ends itself costing its cell and the ones after it, and a
kernel whose address space is capped (``memory_mb``), managed without jupyter_client's fixed
waits (:mod:`..sandbox.prompt_kernel`), started through
:mod:`deepfakelab.course.sandbox.kernel_launcher` by a kernelspec written into a private Jupyter path --
inside the submission's bubblewrap sandbox when grading (:mod:`..sandbox.bubblewrap`).
:class:`LimitedOutput` caps each cell's output in bytes as well as lines.
"""

from __future__ import annotations

import copy
import json
import os
import sys
import time
from pathlib import Path

from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute, LimitOutput
from traitlets import Float, Integer, Unicode
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from ..sandbox.prompt_kernel import PromptKernelManager

#: Name of the error a skipped or interrupted cell shows in the graded notebook.
TIME_LIMIT_ERROR = "NotebookTimeLimit"
#: Name of the error of a cell that ended the kernel, or that could not be stopped, and of the cells after it.
KERNEL_LOST_ERROR = "KernelLost"


class LimitedExecute(Execute):
    """nbgrader's Execute with a whole-notebook time budget and a memory-capped kernel."""

    notebook_timeout = Float(900.0, help="Seconds the whole notebook may run; later cells are skipped.").tag(
        config=True
    )
    memory_mb = Integer(8192, help="Address-space limit of the kernel, in MiB (0: none).").tag(config=True)
    max_output_bytes = Integer(
        8_000_000,
        help="Bytes of output received per cell while it runs; the rest is dropped as it arrives, so "
        "a cell printing without end cannot fill the grader's memory (LimitedOutput trims further).",
    ).tag(config=True)
    progress_dir = Unicode(
        "",
        help="Folder (outside the sandbox) where the notebook as executed so far is written "
        "before each cell, atomically: if the grading worker is killed, the cells that had "
        "finished keep their points (see .worker.partial_result). Empty: not written.",
    ).tag(config=True)

    def __init__(self, *args, **kwargs):
        # nbgrader sets its kernel manager the same way (a keyword, ahead of any config).
        kwargs.setdefault("kernel_manager_class", PromptKernelManager)
        super().__init__(*args, **kwargs)

    def _save_progress(self, running: int | None) -> None:
        if not self.progress_dir:
            return
        folder = Path(self.progress_dir)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self._progress_name}.json"
        tmp = path.with_name(f".{path.name}.tmp")
        with open(tmp, "w") as f:
            json.dump({"running": running, "notebook": self.nb}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        size = len(str(content.get("text", ""))) + sum(len(str(v)) for v in content.get("data", {}).values())
        before = self._received.get(cell_index, 0)
        self._received[cell_index] = before + size
        if before + size <= self.max_output_bytes or msg.get("msg_type") == "error":
            return super().output(outs, msg, display_id, cell_index)
        out = None
        left = self.max_output_bytes - before
        if msg.get("msg_type") == "stream" and left > 0:  # keep the part of the text that still fits
            out = super().output(
                outs,
                {**msg, "content": {**content, "text": str(content["text"])[:left]}},
                display_id,
                cell_index,
            )
        if not self._dropped.get(cell_index):
            self._dropped[cell_index] = True
            outs.append(
                NotebookNode(
                    output_type="stream",
                    name="stdout",
                    text=(
                        f"\n... Output truncated: more than {self.max_output_bytes:,} bytes while the cell ran ...\n"
                    ),
                )
            )
        return out

    def preprocess(self, nb, resources=None, km=None):
        self._deadline = time.monotonic() + self.notebook_timeout
        self._cell_timeout = self.timeout
        self._lost = ""  # why the kernel is gone, once it is (the cells after it are not run)
        self._received, self._dropped = {}, {}  # output bytes per cell index, and whether some were dropped
        self._progress_name = str((resources or {}).get("unique_key") or "notebook")
        try:
            result = super().preprocess(nb, resources, km=km)
            self._save_progress(None)
            return result
        finally:
            self.timeout = self._cell_timeout

    def preprocess_cell(self, cell: NotebookNode, resources, index: int):
        if cell.cell_type != "code" or not cell.source.strip():
            return super().preprocess_cell(cell, resources, index)
        if self._lost:
            cell.outputs = [_error(KERNEL_LOST_ERROR, f"not run: {self._lost}")]
            return cell, resources
        self._save_progress(index)
        remaining = self._deadline - time.monotonic()
        if remaining < 1:  # cell timeouts are whole seconds; less than one left means none
            cell.outputs = [
                _error(
                    TIME_LIMIT_ERROR,
                    f"not run: the notebook used up its {self.notebook_timeout:.0f} s time limit before this "
                    "cell. Make the earlier cells faster (fewer epochs, smaller inputs) and submit again.",
                )
            ]
            return cell, resources
        self.timeout = max(1, int(min(self._cell_timeout or remaining, remaining)))
        self.error_on_timeout = {
            "ename": TIME_LIMIT_ERROR,
            "evalue": f"interrupted after {self.timeout} s",
            "traceback": [
                f"{TIME_LIMIT_ERROR}: this cell was stopped after {self.timeout} s (the time "
                "limit of one cell, or what was left of the notebook's). Look for a loop "
                "that never ends or work that is far too large."
            ],
        }
        try:
            return super().preprocess_cell(cell, resources, index)
        except (DeadKernelError, CellTimeoutError) as exc:
            # The cells before keep their outputs (and their points); this one scores 0.
            where = _cell_name(cell, index)
            if isinstance(exc, DeadKernelError):
                what = f"the kernel ended in {where} (os._exit, a crash, or a limit of the sandbox killed it)"
            else:
                what = f"{where} could not be stopped at its time limit (it ignored the interrupt)"
            cell.outputs = [*cell.get("outputs", []), _error(KERNEL_LOST_ERROR, what)]
            if isinstance(exc, CellTimeoutError) and self._restart_and_replay(index):
                cell.outputs[-1] = _error(
                    KERNEL_LOST_ERROR,
                    f"{what}; the kernel was restarted and the cells "
                    "before it run again, so only this cell's work is lost",
                )
            else:  # a kernel that ended itself would end again: the rest of the notebook is lost
                self._lost = what
            return cell, resources

    def _restart_and_replay(self, index: int) -> bool:
        """A fresh kernel holding what the cells before ``index`` made: whether that worked in time.

        A cell that ignores the interrupt costs only itself (issue 32): the kernel is restarted
        in the same sandbox and the earlier code cells that ran without error are run again,
        their outputs discarded, within what is left of the notebook's time budget.
        """
        try:
            run_sync(self.km.restart_kernel)(now=True)
            if self.kc is not None:
                self.kc.stop_channels()
            run_sync(self.async_start_new_kernel_client)()
            for number, earlier in enumerate(self.nb.cells[:index]):
                if earlier.cell_type != "code" or not earlier.source.strip() or _has_error(earlier):
                    continue
                remaining = self._deadline - time.monotonic()
                if remaining < 1:
                    return False
                self.timeout = max(1, int(min(self._cell_timeout or remaining, remaining)))
                try:  # nbclient stores the cell it ran at its index: run a copy, keep the graded original
                    replayed = super().execute_cell(copy.deepcopy(earlier), number)
                finally:
                    self.nb.cells[number] = earlier
                if _has_error(replayed):
                    return False
            return True
        except Exception:  # the restart or a replayed cell failed: the notebook stops here, as before
            return False


class LimitedOutput(LimitOutput):
    """nbgrader's LimitOutput (lines), plus a limit in bytes of each cell's outputs.

    A 200 MB print on one line passes a line limit; this keeps the graded notebook and its
    feedback small whatever the shape of the output. Text is cut, a larger image or other
    display is replaced by a note, and errors keep their name (the score depends on it).
    """

    max_bytes = Integer(1_000_000, help="Bytes of output kept per cell (-1: no limit).").tag(config=True)

    def preprocess_cell(self, cell: NotebookNode, resources, cell_index: int):
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if self.max_bytes < 0 or cell.cell_type != "code":
            return cell, resources
        budget, kept, dropped = self.max_bytes, [], 0
        for output in cell.outputs:
            size = _output_bytes(output)
            if size <= budget:
                budget -= size
                kept.append(output)
                continue
            dropped += size
            if output.output_type == "stream":
                text = output.text.encode()[: max(0, budget)].decode(errors="ignore")
                output.text = (
                    f"{text}\n... Output truncated ({size:,} bytes, {self.max_bytes:,} kept per cell) ...\n"
                )
                kept.append(output)
            elif output.output_type == "error":
                output.evalue = output.evalue.encode()[:2000].decode(errors="ignore")
                output.traceback = [t.encode()[:2000].decode(errors="ignore") for t in output.traceback[:20]]
                kept.append(output)
            budget = 0
        if dropped and not any(
            o.output_type == "stream" and "Output truncated" in o.get("text", "") for o in kept
        ):
            kept.append(
                NotebookNode(
                    output_type="stream",
                    name="stdout",
                    text=f"... {dropped:,} bytes of output left out ({self.max_bytes:,} kept per cell) ...\n",
                )
            )
        cell.outputs = kept
        return cell, resources


def limit_outputs(nb: NotebookNode, config_folder: Path) -> NotebookNode:
    """``nb`` with :class:`LimitedOutput`'s limits, as ``config_folder/nbgrader_config.py`` sets them.

    For a notebook that nbgrader never finished -- the one a killed or timed-out worker saved
    (:func:`.worker.partial_result`) -- so it is trimmed in lines and bytes like a finished one.
    """
    config = Config()
    if (Path(config_folder) / "nbgrader_config.py").is_file():
        config = PyFileConfigLoader("nbgrader_config.py", path=str(config_folder)).load_config()
    nb, _ = LimitedOutput(config=config).preprocess(nb, {})
    return nb


def _output_bytes(output: NotebookNode) -> int:
    if output.output_type == "stream":
        return len(output.get("text", "").encode())
    if output.output_type == "error":
        return len(output.get("evalue", "").encode()) + sum(
            len(t.encode()) for t in output.get("traceback", [])
        )
    return sum(
        len(v.encode()) if isinstance(v, str) else len(json.dumps(v)) for v in output.get("data", {}).values()
    )


def _has_error(cell: NotebookNode) -> bool:
    return any(output.get("output_type") == "error" for output in cell.get("outputs", []))


def _cell_name(cell: NotebookNode, index: int) -> str:
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    return f"cell {grade_id!r}" if grade_id else f"cell {index + 1}"


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def write_kernelspec(
    jupyter_path: Path, memory_mb: int, name: str = "python3", jail: list[str] | None = None
) -> Path:
    """Write a kernelspec ``name`` that starts the memory-limited kernel; return its folder.

    Put ``jupyter_path`` first on ``JUPYTER_PATH``: it then shadows the normal ``python3``
    kernel for this process only, without touching the instructor's Jupyter set-up. ``jail``
    is the command that starts a process in the submission's sandbox
    (:meth:`..sandbox.bubblewrap.Sandbox.command` without its program); the kernel then runs inside it
    and is interrupted by a message, since a signal to ``bwrap`` would not reach it.
    """
    folder = Path(jupyter_path) / "kernels" / name
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [
            *(jail or []),
            sys.executable,
            "-m",
            "deepfakelab.course.sandbox.kernel_launcher",
            "--memory-mb",
            str(int(memory_mb)),
            "-f",
            "{connection_file}",
            "--IPKernelApp.log_level=ERROR",
        ],
        "display_name": "Python 3 (graded, limited)",
        "language": "python",
        "env": {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"},
    }
    if jail:  # its banner would go to the grader's terminal: it has no parent pid to detect a client by
        spec["interrupt_mode"] = "message"
        spec["argv"][-1] = "--IPKernelApp.log_level=CRITICAL"
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1))
    return folder
