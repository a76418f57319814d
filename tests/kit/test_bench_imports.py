"""Every bench sets up its process explicitly before its work (issues #17 and #28).

OpenMP reads its wait policy once, when torch loads it. Importing the kit changes nothing, so
each bench's ``__main__`` block calls :func:`deepfakelab.threads.prepare_process` first: it sets
``OMP_WAIT_POLICY=PASSIVE`` and, as a bench has loaded torch at its top, starts the script again
so the policy takes effect (``tests/test_threads.py`` checks the restart). Without it a bench
measures spinning threads: 2-4x slower beside one other CPU-bound job than what the commands do.
Read from the source (``ast``), so no bench runs and nothing heavy is imported.
"""

from __future__ import annotations

import ast

import pytest

from helpers import REPO

BENCH = REPO / "bench"
#: Scripts with a ``__main__`` block (``classic_recipes.py`` is a module the GAN benches import).
SCRIPTS = sorted(
    p for p in BENCH.glob("*.py") if p.name != "_kit.py" and '__name__ == "__main__"' in p.read_text()
)
#: bench/threads.py measures the policies themselves, each in a child process it starts with one set.
MEASURES_POLICIES = {"threads.py"}


def sets_up_first(source: str) -> bool:
    """Whether the script's ``if __name__ == "__main__":`` block starts with ``prepare_process()``."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
            first = node.body[0]
            return (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Call)
                and ast.unparse(first.value.func).endswith("prepare_process")
            )
    return False


def test_the_check_sees_the_set_up_and_its_absence():
    assert sets_up_first('if __name__ == "__main__":\n    prepare_process()\n    main()\n')
    assert not sets_up_first('if __name__ == "__main__":\n    main()\n    prepare_process()\n')
    assert not sets_up_first("prepare_process()\nmain()\n")


def test_there_are_benches_to_check():
    assert len(SCRIPTS) >= 10


@pytest.mark.parametrize(
    "script", [s for s in SCRIPTS if s.name not in MEASURES_POLICIES], ids=lambda p: p.name
)
def test_each_bench_sets_up_its_process_before_its_work(script):
    assert sets_up_first(script.read_text()), (
        f"{script.name}: start its __main__ block with prepare_process() (deepfakelab.threads)"
    )
