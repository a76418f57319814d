"""The package's modules import one way: no cycles, and each one imports on its own.

Data flows media -> faces -> reenact / detect -> reports; a module pair that imports each other
(even inside functions) breaks that order and, at module level, fails depending on which of the
two is imported first. Two checks: the graph of every ``deepfakelab`` import in the source (top
level and inside functions) has no cycle, and every module imports as the first ``deepfakelab``
module of a fresh interpreter.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import deepfakelab

PACKAGE = Path(deepfakelab.__file__).resolve().parent
#: Running these starts a program (``python -m``), importing them is not the point.
ENTRY_POINTS = {"deepfakelab.__main__"}


def _modules() -> dict[str, Path]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _imported(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every ``deepfakelab`` module that ``module``'s source imports, anywhere in the file."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names
            ]
        for name in names:
            while name not in modules and "." in name:
                name = name.rsplit(".", 1)[0]
            if name in modules and name != module:
                found.add(name)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return cycles


def test_no_module_imports_back_what_imports_it():
    modules = _modules()
    graph = {name: _imported(name, path, modules) for name, path in modules.items()}
    assert _cycles(graph) == [], "import cycles (break them by moving the shared part below both)"


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


#: What sits on top of the library: the labs (what each notebook works on), the course (releasing
#: and grading them) and the demos. They use the library; no library part imports them.
ON_TOP = ("deepfakelab.labs", "deepfakelab.course", "deepfakelab.demos")

#: Each layer and what it must not import: data flows media -> faces -> reenact -> fakes -> detect
#: -> reports (fake-making uses reenactment; the detector's training reads the fakes), and no part
#: of the library reaches up into the labs, the course or the demos.
LAYERS = {
    "deepfakelab.media": (
        "deepfakelab.faces",
        "deepfakelab.reenact",
        "deepfakelab.fakes",
        "deepfakelab.detect",
        *ON_TOP,
    ),
    "deepfakelab.faces": ("deepfakelab.reenact", "deepfakelab.fakes", "deepfakelab.detect", *ON_TOP),
    "deepfakelab.heads": ON_TOP,
    "deepfakelab.reenact": ON_TOP,
    "deepfakelab.fakes": ("deepfakelab.detect", *ON_TOP),
    "deepfakelab.detect": ON_TOP,
    "deepfakelab.gan": ON_TOP,
    "deepfakelab.provenance": ON_TOP,
}


def _layer_violations(modules: dict[str, Path]) -> list[str]:
    """One line per module that imports something above its layer (see :data:`LAYERS`)."""
    found = []
    for name, path in modules.items():
        for layer, above in LAYERS.items():
            if name == layer or name.startswith(layer + "."):
                wrong = sorted(m for m in _imported(name, path, modules) if m.startswith(above))
                if wrong:
                    found.append(f"{name} imports {wrong}")
    return found


def test_each_layer_imports_nothing_above_it():
    wrong = _layer_violations(_modules())
    assert not wrong, (
        "data flows media -> faces -> reenact -> fakes -> detect, and the library never imports "
        "the labs, the course or the demos:\n" + "\n".join(wrong)
    )


def test_the_layer_check_sees_a_library_part_importing_a_lab(tmp_path):
    """A reenact module that imports Lab 1 (as reenact/demo.py once did) is caught."""
    (tmp_path / "demo.py").write_text("from ..labs.lab1 import notebook as lab1\n")
    modules = {**_modules(), "deepfakelab.reenact.demo": tmp_path / "demo.py"}
    wrong = _layer_violations(modules)
    assert wrong == ["deepfakelab.reenact.demo imports ['deepfakelab.labs.lab1.notebook']"], wrong


#: Inside reenact: the FOMM is the model alone (the interface in ``methods`` runs it, never the
#: other way round), and the warps know nothing of the FOMM or of the interface that wraps them.
FOMM = "deepfakelab.reenact.fomm"
WARPS = ("deepfakelab.reenact.mesh_warp", "deepfakelab.reenact.landmark_warp")
WRAPPERS = ("deepfakelab.reenact.methods", "deepfakelab.reenact.pipeline")


def _under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_fomm_and_the_warps_stay_apart_inside_reenact():
    modules = _modules()
    assert f"{FOMM}.animate" in modules and all(name in modules for name in WARPS + WRAPPERS)
    for name, path in modules.items():
        imported = _imported(name, path, modules)
        if _under(name, FOMM):
            wrong = sorted(m for m in imported if _under(m, "deepfakelab.reenact") and not _under(m, FOMM))
        elif name in WARPS:
            wrong = sorted(m for m in imported if _under(m, FOMM) or m in WRAPPERS)
        else:
            continue
        assert not wrong, f"{name} imports {wrong}: the FOMM, the warps and the interface stay apart"


#: What ``deepfakelab detect`` runs to score an input: the detector, its maps, the domain check, the report.
SCORING = (
    "deepfakelab.detect.inference",
    "deepfakelab.detect.report",
    "deepfakelab.detect.explain",
    "deepfakelab.detect.model",
    "deepfakelab.detect.domain",
)
#: Training and fake-making: what scoring a video must never load (a student's ``detect`` pays for
#: none of it, and a change to training cannot break scoring).
TRAINING = (
    "deepfakelab.fakes",
    "deepfakelab.detect.train",
    "deepfakelab.detect.evaluation",
    "deepfakelab.detect.dataset",
    "deepfakelab.detect.domain_stats",
    "deepfakelab.detect.probe",
    "deepfakelab.detect.calibration",
    "deepfakelab.detect.backbone",
)


def _is_training(module: str) -> bool:
    return any(module == t or module.startswith(t + ".") for t in TRAINING)


def test_scoring_reaches_no_training_code_in_the_source():
    """Every import the scoring modules can reach, those inside functions included (they run
    while a video is scored), leads to no training or fake-making module."""
    modules = _modules()
    graph = {name: _imported(name, path, modules) for name, path in modules.items()}
    for start in SCORING:
        seen, todo, parent = {start}, [start], {}
        while todo:
            node = todo.pop()
            for other in graph[node]:
                if other not in seen:
                    seen.add(other)
                    parent[other] = node
                    todo.append(other)
        for found in sorted(filter(_is_training, seen)):
            chain = [found]
            while chain[-1] != start:
                chain.append(parent[chain[-1]])
            raise AssertionError(f"{start} reaches training code: {' <- '.join(chain)}")


def test_importing_the_detector_loads_no_training_code():
    """In a fresh interpreter, the command line and the scoring modules load no module of
    training or fake-making."""
    script = (
        "import sys\n"
        f"import deepfakelab.cli\nfor name in {SCORING!r}:\n    __import__(name)\n"
        f"training = {TRAINING!r}\n"
        "print('\\n'.join(sorted(m for m in sys.modules if any(m == t or m.startswith(t + '.') for t in training))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=600, cwd=PACKAGE.parent
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "", f"training modules loaded by scoring: {result.stdout.split()}"


def test_the_training_check_sees_training_code():
    """The two checks above would catch a scoring module that imports training code."""
    assert _is_training("deepfakelab.fakes.roster") and _is_training("deepfakelab.detect.train")
    assert not _is_training("deepfakelab.detect.domain") and not _is_training(
        "deepfakelab.detect.trainer_notes"
    )


def test_every_module_imports_alone_in_a_fresh_interpreter():
    """One fresh interpreter; before each module every ``deepfakelab`` module is forgotten, so each
    is imported first (third-party modules stay loaded: they cannot take part in our cycles)."""
    names = [name for name in _modules() if name not in ENTRY_POINTS]
    script = (
        "import importlib, sys, traceback\n"
        "failed = []\n"
        f"for name in {names!r}:\n"
        "    for loaded in [m for m in sys.modules if m == 'deepfakelab' or m.startswith('deepfakelab.')]:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as exc:\n"
        "        failed.append(f'{name}: {type(exc).__name__}: {exc}')\n"
        "print('\\n'.join(failed))\n"
        "sys.exit(1 if failed else 0)\n"
    )
    result = _in_a_fresh_interpreter(script, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]


def _in_a_fresh_interpreter(script: str, timeout: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout, cwd=PACKAGE.parent
    )


def test_the_command_line_parser_loads_no_torch():
    """``deepfakelab --help`` builds every sub-command's parser; the packages it imports for them
    (``gan``, ``heads``) load their modules on first use, so it needs no torch, scipy or matplotlib."""
    script = (
        "import sys\n"
        "from deepfakelab.cli import build_parser\n"
        "build_parser()\n"
        "print(' '.join(sorted(m for m in ('torch', 'scipy', 'matplotlib') if m in sys.modules)))\n"
    )
    result = _in_a_fresh_interpreter(script, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr[-2000:]


def test_lazy_packages_give_every_name_they_list():
    """``gan`` and ``heads`` export names loaded on first use: each one in ``__all__`` resolves."""
    import deepfakelab.gan
    import deepfakelab.heads

    for package in (deepfakelab.gan, deepfakelab.heads):
        missing = [name for name in package.__all__ if getattr(package, name, None) is None]
        assert package.__all__ and not missing, f"{package.__name__} lists {missing} but gives none"
