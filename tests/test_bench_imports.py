"""Every bench script imports the kit's thread set-up (``bench/_kit.py``) before torch (issue #17).

OpenMP reads its wait policy once, when torch loads it; ``import deepfakelab`` sets it to
PASSIVE only while torch is not loaded yet. A bench that imports torch first (directly, or
through numpy, OpenCV or a kit module that loads torch) measures spinning threads: 2-4x slower
beside one other CPU-bound job than what the commands do. The order is read from the source
(``ast``), so no bench runs and nothing heavy is imported.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
SCRIPTS = sorted(p for p in BENCH.glob("*.py") if p.name != "_kit.py")


def imports_before_the_kit(source: str) -> tuple[bool, list[str]]:
    """Whether module-level code imports ``_kit``, and the non-standard-library modules imported before it.

    Only the statements at the top of the module count (and those in its top-level ``if`` and
    ``try`` blocks): an import inside a function runs after the module's own imports.
    """
    found: list[str] = []

    def statements(body):
        for node in body:
            if isinstance(node, (ast.If, ast.Try)):
                yield from statements(node.body)
                for handler in getattr(node, "handlers", []):
                    yield from statements(handler.body)
                yield from statements(node.orelse)
            else:
                yield node

    for node in statements(ast.parse(source).body):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""] if node.level == 0 else ["." + (node.module or "")]
        else:
            continue
        if "_kit" in names:
            return True, found
        found += [n for n in names if n.split(".")[0] not in sys.stdlib_module_names]
    return False, found


def test_the_check_catches_torch_or_numpy_before_the_kit():
    assert imports_before_the_kit("import torch\nimport _kit\n") == (True, ["torch"])
    assert imports_before_the_kit("import os\nfrom deepfakelab.gan import train\nimport _kit\n") == \
        (True, ["deepfakelab.gan"])
    assert imports_before_the_kit("try:\n    import numpy as np\nexcept ImportError:\n    pass\nimport _kit\n") == \
        (True, ["numpy"])
    assert imports_before_the_kit("from __future__ import annotations\nimport sys\nimport _kit\nimport torch\n") == \
        (True, [])
    assert imports_before_the_kit("import torch\n")[0] is False
    assert imports_before_the_kit("def f():\n    import _kit\n")[0] is False


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_each_bench_imports_the_kit_before_anything_that_loads_torch(script):
    imports_kit, before = imports_before_the_kit(script.read_text())
    assert imports_kit, f"{script.name} never imports _kit at module level (add `import _kit` first)"
    assert not before, f"{script.name} imports {before} before _kit: torch's threads would spin"


def test_the_kit_helper_sets_passive_waiting_before_torch_loads():
    """Run as a bench is (``bench/`` first on the path), with no policy set by the caller."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "PYTHONPATH")}
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import _kit, os; "
            "print(os.environ.get('OMP_WAIT_POLICY'), 'torch' in sys.modules, _kit.deepfakelab.__file__)")
    out = subprocess.run([sys.executable, "-c", code, str(BENCH)], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out[:2] == ["PASSIVE", "False"]
    assert Path(out[2]).is_relative_to(BENCH.parent / "lib")  # this checkout's kit, not an installed copy
