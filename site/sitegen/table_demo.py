"""The demo's table of the Results page, from ``site/data/demo_load.json``.

``bench/demo_load.py`` runs ``make demo``'s command twice into fresh folders, idle and beside one
busy loop. The demo has a time budget and chooses its GAN's epochs to fit it, so the table shows
the epochs each run chose beside its times, and the renderer checks the budget, the cost of the
busy loop and the printed estimates on the file's numbers.
"""

from __future__ import annotations

from .results import markdown_table


def minutes(seconds: float | None) -> str:
    """``2 min 44 s`` (``44.0 s`` under a minute, ``-`` when not measured)."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    return f"{whole // 60} min {whole % 60:02d} s"


def _parts(run: dict) -> dict[str, dict]:
    return {part["part"]: part for part in run.get("parts", [])}


def _gan_cell(gan: dict | None) -> str:
    """``301 s / 274 s (7.7 steps/s probed)``: the GAN's printed estimate, its actual time, the probe."""
    if not gan:
        return "-"
    expected = "-" if gan.get("expected_seconds") is None else f"{gan['expected_seconds']:.0f} s"
    probe = gan.get("probe_steps_per_second")
    return f"{expected} / {gan['seconds']:.0f} s" + (f" ({probe:.1f} steps/s probed)" if probe else "")


def _seconds(part: dict | None) -> str:
    return "-" if not part or part.get("seconds") is None else f"{part['seconds']:.1f} s"


def _run_name(name: str, run: dict) -> str:
    return name if run.get("returncode", 0) == 0 else f"{name} (**exited with code {run['returncode']}**)"


def _budget_line(runs: dict, budget: float) -> str:
    """Whether each run ended within the demo's budget (counted from the command's start)."""
    verdicts = [
        f"{'met' if run['wall_seconds'] <= budget else '**not met**'} {name} ({minutes(run['wall_seconds'])}"
        + ("" if run["wall_seconds"] <= budget else f", {run['wall_seconds'] - budget:.0f} s over")
        + ")"
        for name, run in runs.items()
    ]
    return (
        f"- **Target** (the whole demo within its {budget:.0f} s budget, from the command's start): "
        + "; ".join(verdicts)
        + "."
    )


def _cost_line(runs: dict) -> str | None:
    """What the busy loop cost: wall time against the idle run's, and the GAN's epochs in each."""
    idle = next((run for run in runs.values() if run["competitors"] == 0), None)
    busy = next(((name, run) for name, run in runs.items() if run["competitors"] > 0), None)
    if idle is None or busy is None:
        return None
    name, run = busy
    share = run["competitor_cpu_seconds"] / run["wall_seconds"] if run["wall_seconds"] else 0.0
    epochs = (_parts(idle).get("gan") or {}).get("epochs"), (_parts(run).get("gan") or {}).get("epochs")
    trained = f"; its GAN trained {epochs[1]} epochs against {epochs[0]} idle" if None not in epochs else ""
    return (
        f"- **What the busy loop cost**: {name} (the loop got {100 * share:.0f} % of a core) the demo took "
        f"{run['wall_seconds'] / idle['wall_seconds']:.2f}x the idle run's wall time{trained}."
    )


def _estimates_line(runs: dict) -> str | None:
    """How far the printed expected times were from the parts' actual times, at most."""
    errors = [
        (abs(part["seconds"] / part["expected_seconds"] - 1), part["part"], name)
        for name, run in runs.items()
        for part in run.get("parts", [])
        if part.get("expected_seconds") and part.get("seconds") is not None
    ]
    if not errors:
        return None
    worst, part, name = max(errors)
    return (
        f"- **The printed estimates**: within {100 * worst:.0f} % of what each part took "
        f"({len(errors)} parts; the farthest: {part}, {name})."
    )


def demo_load(data: dict) -> str:
    """``bench/demo_load.py --json``: the demo's command idle and beside one busy loop."""
    runs, budget = data["runs"], data["budget_seconds"]
    rows = []
    for name, run in runs.items():
        parts = _parts(run)
        gan = parts.get("gan")
        rows.append(
            [
                _run_name(name, run),
                minutes(run["wall_seconds"]),
                "-" if not gan or gan.get("epochs") is None else gan["epochs"],
                _gan_cell(gan),
                _seconds(parts.get("reenact")),
                _seconds(parts.get("detect")),
            ]
        )
    only = f" (only the parts {', '.join(data['parts'])})" if data.get("parts") else ""
    busy = (
        f" The busy loop (pure Python, one core) started {data.get('settle_seconds', 0):g} s before the "
        "demo, so that the load average the demo reads at its start shows it."
        if any(run["competitors"] for run in runs.values())
        else ""
    )
    chooses = (
        ""
        if data.get("quick")
        else " The GAN trains as many epochs as fit what is left of the demo's time budget."
    )
    lines = [
        f"`make demo`'s command{only}, run into a fresh folder for each row.{busy}{chooses}",
        "",
        markdown_table(
            ["run", "wall", "GAN epochs", "GAN: expected / actual", "reenact", "detect"], rows, align="lrrrrr"
        ),
        "",
    ]
    if data.get("quick"):
        lines.append(
            "- A `--quick` smoke run: the demo's time budget does not apply, so no target is checked."
        )
    else:
        lines.append(_budget_line(runs, budget))
    lines += [line for line in (_cost_line(runs), _estimates_line(runs)) if line]
    return "\n".join(lines)


def fresh_clone(data: dict) -> str:
    """``bench/fresh_clone.py``: the newcomer's ``make demo`` from a fresh clone, install and demo apart."""
    demo, target = data["demo_s"], data["demo_target_s"]
    rows = [
        ["install (`make` up to the venv's stamp: venv, pip, system packages)", minutes(data["install_s"])],
        ["the demo, once installed (`make demo`)", minutes(demo)],
    ]
    return "\n".join(
        [
            f"A fresh `git clone` of commit `{data['commit']}`, then `make demo`, its two halves timed apart. "
            f"The install fills `.venv` with {data['venv_gb']:.1f} GB; its time depends on the machine's "
            "package index as much as on the kit.",
            "",
            markdown_table(["step", "wall"], rows),
            "",
            f"- **Against the target** (issue 29): the demo after install took {minutes(demo)}, "
            f"{'within' if demo <= target else 'over'} the {minutes(target)} target.",
        ]
    )
