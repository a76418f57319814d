"""The "Threads on a shared machine" table of the Results page, from ``site/data/threads.json``.

``bench/threads.py`` trains the demo's GAN with each number of torch threads and each OpenMP
wait policy beside 0, 1 or 2 busy loops. The kit's choice (:func:`deepfakelab.threads.choose_threads`
with ``OMP_WAIT_POLICY=PASSIVE`` set by ``prepare_process``: sleeping threads, all of them) rests
on two comparisons in that table, so the renderer checks both on the file's numbers.
"""

from __future__ import annotations

from .results import markdown_table


def _policy(policy: str) -> str:
    """How the page names a wait policy: OpenMP's default spins."""
    return "spinning" if policy == "default" else f"`{policy}`"


def _rates(values: list[float]) -> str:
    """One measurement, or the range of several (``--repeats``)."""
    low, high = min(values), max(values)
    return f"{low:.2f}" if len(values) == 1 or f"{low:.2f}" == f"{high:.2f}" else f"{low:.2f}-{high:.2f}"


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _checks(rates: dict[tuple[int, int, str], list[float]], competitors: list[int]) -> list[str]:
    """The two comparisons the kit's choice rests on, one line each, where the file has both settings."""
    lines = []
    faster_than_spinning = [
        (k, _mean(rates[k, 2, "PASSIVE"]) > _mean(rates[k, 2, "default"]))
        for k in competitors
        if k > 0 and (k, 2, "PASSIVE") in rates and (k, 2, "default") in rates
    ]
    if faster_than_spinning:
        lines.append(
            "- **2 sleeping threads faster than 2 spinning ones beside busy loops** (why the kit sets "
            f"`PASSIVE`): {_verdicts(faster_than_spinning)}."
        )
    as_fast_as_one = [
        (k, _mean(rates[k, 2, "PASSIVE"]) >= _mean(rates[k, 1, "PASSIVE"]))
        for k in competitors
        if (k, 2, "PASSIVE") in rates and (k, 1, "PASSIVE") in rates
    ]
    if as_fast_as_one:
        lines.append(
            "- **2 sleeping threads at least as fast as 1** (why the kit keeps both threads with `PASSIVE`): "
            f"{_verdicts(as_fast_as_one)}."
        )
    return lines


def _loops(counts: list[int]) -> str:
    """``0, 1 or 2 busy loops``: the numbers of busy loops a sentence is about."""
    words = [str(k) for k in counts]
    listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
    return f"{listed} busy loop{'s' * (counts != [1])}"


def _verdicts(results: list[tuple[int, bool]]) -> str:
    """``met beside 1 or 2 busy loops``, or where it is not (on the mean of repeated measurements)."""
    met = [k for k, ok in results if ok]
    missed = [k for k, ok in results if not ok]
    if not missed:
        return f"met beside {_loops(met)}"
    return f"**not met** beside {_loops(missed)}" + (f" (met beside {_loops(met)})" if met else "")


def threads_table(data: dict) -> str:
    """``bench/threads.py --json``: GAN steps/s per number of busy loops, threads and wait policy."""
    rows = data["rows"]
    rates = {(r["competitors"], r["threads"], r["policy"]): r["steps_per_second"] for r in rows}
    competitors = list(dict.fromkeys(r["competitors"] for r in rows))
    settings = list(dict.fromkeys((r["threads"], r["policy"]) for r in rows))
    header = ["other CPU-bound jobs"] + [
        f"{threads} thread{'s' * (threads > 1)}, {_policy(policy)}" for threads, policy in settings
    ]
    table = [
        [k] + [_rates(rates[k, t, p]) if (k, t, p) in rates else "-" for t, p in settings]
        for k in competitors
    ]
    repeats = data.get("repeats", 1)
    lines = [
        f"The demo's GAN (28 px), {data['steps']} timed steps after {data['warmup_steps']} untimed ones, "
        f"each setting in a fresh process, beside {_loops(competitors)} (pure Python, one core each). GAN "
        'steps/s; "spinning" is OpenMP\'s default wait policy'
        + (f"; each setting measured {repeats} times, shown as a range" if repeats > 1 else "")
        + ".",
        "",
        markdown_table(header, table),
        "",
        *_checks(rates, competitors),
    ]
    return "\n".join(lines)
