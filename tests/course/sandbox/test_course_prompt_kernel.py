"""The graded notebook's kernel client that does not wait 0.2 s at start (deepfakelab.course.sandbox.prompt_kernel)."""

from __future__ import annotations

import asyncio
import json
import sys

import nbformat
import pytest

pytest.importorskip("nbgrader")

from deepfakelab.course.sandbox.prompt_kernel import PromptKernelClient, PromptKernelManager  # noqa: E402
from deepfakelab.course.grading.limits import LimitedExecute  # noqa: E402


def _kernelspec(tmp_path, monkeypatch, argv: list[str]) -> None:
    folder = tmp_path / "jupyter" / "kernels" / "python3"
    folder.mkdir(parents=True)
    (folder / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "test", "language": "python"})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))


def test_limited_execute_runs_cells_with_the_prompt_client(tmp_path, monkeypatch):
    _kernelspec(
        tmp_path, monkeypatch, [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    )
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("print(6 * 7)"), nbformat.v4.new_code_cell("1 / 0")]
    )
    preprocessor = LimitedExecute(timeout=60)
    assert preprocessor.kernel_manager_class is PromptKernelManager
    nb, _ = preprocessor.preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    assert [o.get("text") for o in nb.cells[0].outputs] == ["42\n"]  # no start-up message mixed in
    assert [o.get("ename") for o in nb.cells[1].outputs] == ["ZeroDivisionError"]


def test_a_kernel_that_dies_at_start_is_reported(tmp_path, monkeypatch):
    _kernelspec(tmp_path, monkeypatch, [sys.executable, "-c", "raise SystemExit(3)", "{connection_file}"])

    async def start():
        km = PromptKernelManager(kernel_name="python3")
        await km.start_kernel()
        kc = km.client()
        assert isinstance(kc, PromptKernelClient)
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=30)
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)

    with pytest.raises(RuntimeError, match="died"):
        asyncio.run(start())
