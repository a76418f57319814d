"""Lab 2's tables of the Results page, from ``site/data/gan.json`` and ``site/data/gan_quality.json``.

``bench/gan.py`` times the kit's DCGAN trainer against the two classic recipes and
``bench/gan_quality.py`` trains the default config within a CPU budget and scores it; each
renderer shows one file and says whether the bench's target is met, computed from the same
numbers (a ratio on the page is the ratio of the numbers beside it, never a typed one).
"""

from __future__ import annotations

from .results import markdown_table, number


def _ratio(recipe: dict) -> float:
    """Kit images/s over the recipe's."""
    return recipe["kit_images_per_second"] / recipe["recipe_images_per_second"]


def _short(recipe: dict) -> str:
    """A recipe's name without its settings: ``C1W2 DCGAN`` of ``C1W2 DCGAN, 28 px, batch 128``."""
    return recipe["recipe"].split(",")[0]


def gan_throughput(data: dict) -> str:
    """``bench/gan.py --json``: images/s of the kit's trainer and of each recipe, same architecture."""
    recipes, target = data["recipes"], data["target_ratio"]
    rows = [
        [
            recipe["recipe"],
            number(recipe["recipe_images_per_second"], 0),
            number(recipe["kit_images_per_second"], 0),
            number(_ratio(recipe), 2),
        ]
        for recipe in recipes
    ]
    steps = ", ".join(f"{recipe['timed_steps']} for {_short(recipe)}" for recipe in recipes)
    lines = [
        f"Training steps only (data order, noise, both updates), timed after {data['warmup_steps']} untimed "
        f"ones; timed steps: {steps}. Data at 28 px: {data['data_28px']}; at 64 px: {data['data_64px']}.",
        "",
        markdown_table(
            ["recipe (same architecture)", "recipe images/s", "kit images/s", "ratio kit/recipe"], rows
        ),
        "",
    ]
    short = [recipe["recipe"] for recipe in recipes if _ratio(recipe) < target]
    verdict = (
        ("met for both" if len(recipes) == 2 else f"met for all {len(recipes)}")
        if not short
        else f"**not met** for {', '.join(short)} ({len(recipes) - len(short)} of {len(recipes)} met)"
    )
    lines.append(f"- **Target** (ratio kit/recipe >= {target:.1f} for each recipe): {verdict}.")
    default = data.get("kit_default_28px")
    baseline = next((r for r in recipes if r["key"] == (default or {}).get("compared_with")), None)
    if default and baseline:
        lines.append(
            f"- The kit's default 28 px config (discriminator hidden {default['discriminator_hidden']}) "
            f"trains at {default['images_per_second']:.0f} images/s, "
            f"{default['images_per_second'] / baseline['recipe_images_per_second']:.2f}x the "
            f"{_short(baseline)} recipe's speed."
        )
    return "\n".join(lines)


def _percent(value: float | None) -> str:
    """A share in [0, 1] as the quality table prints it; ``n/a`` where it is undefined."""
    return "n/a" if value is None else f"{100 * value:.1f} %"


def gan_quality(data: dict) -> str:
    """``bench/gan_quality.py --json``: the calibrated quality table after a CPU-budgeted training run."""
    rows = data["rows"]
    by_role = {row["role"]: row for row in rows}
    table = [
        [
            row["name"],
            number(row["fd"], 2),
            number(row["kid"], 2),
            _percent(row["coverage"]),
            _percent(row["copy_share"]),
            row["n"],
        ]
        for row in rows
    ]
    resumed = (
        f" The run folder already held {data['resumed_after_epoch']} epochs of an earlier run: the budget "
        f"counted only the {data['epochs_this_run']} trained in this one."
        if data.get("resumed_after_epoch")
        else ""
    )
    lines = [
        f"The default 28 px config ({data['config']}) trained on {data['data']} for as many whole epochs as "
        f"fit a {data['budget_minutes']:g}-minute budget: {data['epochs']} epochs "
        f"({data['steps_this_run']:,} steps in this run) in {data['training_minutes']:.1f} min, then scored "
        f"against held-out real bags.{resumed}",
        "",
        markdown_table(["images", "domain FD", "KID x1000", "coverage", "near-copies", "n"], table),
        "",
    ]
    ceiling, generated = by_role.get("ceiling"), by_role.get("generated")
    if ceiling and generated:
        met = generated["fd"] < ceiling["fd"]
        lines.append(
            f"- **Target** (generated bags' domain FD below the blurred-real ceiling's): "
            f"{'met' if met else '**not met**'}, FD {generated['fd']:.2f} against {ceiling['fd']:.2f} "
            f"(ratio {generated['fd'] / ceiling['fd']:.2f})."
        )
    return "\n".join(lines)
