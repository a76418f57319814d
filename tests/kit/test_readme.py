"""The README and the course website's commands work as pasted: every ``deepfakelab ...``
command parses with the CLI's own parser (sub-commands, flags, values), and every ``bench/``
script they name exists and takes the flags it is given. The README itself stays a newcomer's
page: at most 200 lines, its two commands, and links that reach the website's pages.

Commands are taken from the ``bash`` blocks of the README and of the website's hand-written pages
(``site/docs/``, where the README's depth lives), from inline code that starts with
``deepfakelab `` or ``python bench/``, and the commands printed under the Results page's generated
tables. Nothing is run: ``deepfakelab`` lines are only parsed,
bench scripts only asked for ``--help``.
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys

import pytest

from deepfakelab.cli import build_parser
from helpers import REPO, sitegen

README = (REPO / "README.md").read_text()
#: The README and every hand-written page of the website (generated pieces live outside docs/).
PAGES = {"README.md": README} | {
    str(p.relative_to(REPO)): p.read_text() for p in sorted((REPO / "site/docs").rglob("*.md"))
}
TEXT = "\n".join(PAGES.values())


def _block_lines() -> list[str]:
    """Lines of the pages' bash blocks, a command continued with a backslash as one line."""
    return [
        line
        for block in re.findall(r"^ *```bash\n(.*?)^ *```", TEXT, flags=re.S | re.M)
        for line in block.replace("\\\n", " ").splitlines()
    ]


def _names_a_command(text: str) -> bool:
    """``deepfakelab course grade``: sub-command names only, as prose names a command."""
    parser = build_parser()
    for word in text.split()[1:]:
        sub = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
        if sub is None or word not in sub.choices:
            return False
        parser = sub.choices[word]
    return True


def _results_tables():
    """The Results page's generated tables (``site/sitegen/results_jobs.py``): their commands are on
    the page too, under each table."""
    return sitegen("results_jobs").ALL_TABLES


def _commands() -> list[str]:
    lines = _block_lines()
    # Inline commands in the prose; a bare command name ("`deepfakelab course grade`") names it, it is no command.
    lines += [
        c
        for c in re.findall(r"`((?:deepfakelab|(?:\.venv/bin/)?python) [^`]+)`", TEXT)
        if not _names_a_command(c)
    ]
    lines += [table.command for table in _results_tables()]  # printed under the Results page's tables
    commands = []
    for line in lines:
        for part in re.split(r"\s*&&\s*", line):
            part = shlex.join(shlex.split(part, comments=True))  # no comment, one space between words
            part = re.sub(r"^(\w+=\S+\s+)+", "", part)  # leading VAR=value assignments
            if part.startswith(
                ("deepfakelab ", ".venv/bin/deepfakelab ", "python bench/", ".venv/bin/python bench/")
            ):
                commands.append(part)
    return sorted(set(commands))


COMMANDS = _commands()
CLI_COMMANDS = [c for c in COMMANDS if "deepfakelab " in c.split()[0] + " "]
BENCH_COMMANDS = [c for c in COMMANDS if " bench/" in c]


def test_the_pages_show_commands_of_both_kinds():
    assert len(CLI_COMMANDS) >= 25 and len(BENCH_COMMANDS) >= 5


def test_the_readme_is_a_newcomers_page():
    """At most 200 lines (issue 28), its two commands as the Makefile names them, Lab 1 before
    Lab 2, and every relative link reaching a file of the repository (the website's pages)."""
    assert len(README.splitlines()) <= 200
    blocks = re.findall(r"^```bash\n(.*?)^```", README, flags=re.S | re.M)
    commands = [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]
    assert "make demo" in commands and "make test" in commands
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert README.index("Lab 1") < README.index("Lab 2")
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README)
    local = [link for link in links if "://" not in link]
    assert any(link.startswith("site/docs/") for link in local)
    missing = sorted(link for link in local if not (REPO / link).exists())
    assert not missing, f"README links to missing files: {missing}"


@pytest.fixture(scope="module")
def parser():
    return build_parser()


@pytest.mark.parametrize("command", CLI_COMMANDS)
def test_every_deepfakelab_command_on_the_pages_parses(command, parser, capsys):
    argv = shlex.split(command)[1:]
    try:
        parser.parse_args(argv)
    except SystemExit as exc:
        if exc.code != 0:  # 0: a --help line
            pytest.fail(f"command on a page does not parse: {command}\n{capsys.readouterr().err}")


@pytest.mark.parametrize("script", sorted({re.search(r"bench/\S+\.py", c).group(0) for c in BENCH_COMMANDS}))
def test_every_bench_script_on_the_pages_takes_the_flags_shown(script):
    assert (REPO / script).is_file(), f"a page names {script}, which does not exist"
    shown = {flag for c in BENCH_COMMANDS if script in c for flag in re.findall(r"(?<!\S)(--[\w-]+)", c)}
    help_text = subprocess.run(
        [sys.executable, str(REPO / script), "--help"], capture_output=True, text=True, cwd=REPO, timeout=120
    ).stdout
    missing = sorted(flag for flag in shown if flag not in help_text)
    assert not missing, f"{script} has no {', '.join(missing)} (a page shows them)"


def test_every_file_of_the_kit_a_command_on_the_pages_names_exists():
    tracked = ("lib/", "tests/", "site/", "bench/", "scripts/", "autograder/", "solutions/", ".ci/")
    named = {
        token
        for c in COMMANDS + _block_lines()
        for token in shlex.split(c, comments=True)
        if token.startswith(tracked)
    }
    assert named, "no paths found: the test's patterns are out of date"
    missing = sorted(path for path in named if not (REPO / path).exists())
    assert not missing, f"commands on the pages name missing files: {missing}"
