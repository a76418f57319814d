"""The README's commands work as pasted: every ``deepfakelab ...`` command parses with the CLI's
own parser (sub-commands, flags, values), and every ``bench/`` script it names exists and takes
the flags it is given.

Commands are taken from the README's ``bash`` blocks and from inline code that starts with
``deepfakelab `` or ``python bench/``. Nothing is run: ``deepfakelab`` lines are only parsed,
bench scripts only asked for ``--help``.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from deepfakelab.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _block_lines() -> list[str]:
    """Lines of the README's bash blocks, a command continued with a backslash as one line."""
    return [line for block in re.findall(r"^ *```bash\n(.*?)^ *```", README, flags=re.S | re.M)
            for line in block.replace("\\\n", " ").splitlines()]


def _commands() -> list[str]:
    lines = _block_lines()
    # Inline commands in the prose; a bare command name ("`deepfakelab reenact`") names it, it is no command.
    lines += [c for c in re.findall(r"`((?:deepfakelab|(?:\.venv/bin/)?python) [^`]+)`", README)
              if not re.fullmatch(r"deepfakelab [a-z-]+", c)]
    commands = []
    for line in lines:
        for part in re.split(r"\s*&&\s*", line):
            part = shlex.join(shlex.split(part, comments=True))  # no comment, one space between words
            part = re.sub(r"^(\w+=\S+\s+)+", "", part)  # leading VAR=value assignments
            if part.startswith(("deepfakelab ", ".venv/bin/deepfakelab ", "python bench/", ".venv/bin/python bench/")):
                commands.append(part)
    return sorted(set(commands))


COMMANDS = _commands()
CLI_COMMANDS = [c for c in COMMANDS if "deepfakelab " in c.split()[0] + " "]
BENCH_COMMANDS = [c for c in COMMANDS if " bench/" in c]


def test_the_readme_shows_commands_of_both_kinds():
    assert len(CLI_COMMANDS) >= 25 and len(BENCH_COMMANDS) >= 5


@pytest.fixture(scope="module")
def parser():
    return build_parser()


@pytest.mark.parametrize("command", CLI_COMMANDS)
def test_every_deepfakelab_command_in_the_readme_parses(command, parser, capsys):
    argv = shlex.split(command)[1:]
    try:
        parser.parse_args(argv)
    except SystemExit as exc:
        if exc.code != 0:  # 0: a --help line
            pytest.fail(f"README command does not parse: {command}\n{capsys.readouterr().err}")


@pytest.mark.parametrize("script", sorted({re.search(r"bench/\S+\.py", c).group(0) for c in BENCH_COMMANDS}))
def test_every_bench_script_in_the_readme_takes_the_flags_shown(script):
    assert (ROOT / script).is_file(), f"README names {script}, which does not exist"
    shown = {flag for c in BENCH_COMMANDS if script in c for flag in re.findall(r"(?<!\S)(--[\w-]+)", c)}
    help_text = subprocess.run([sys.executable, str(ROOT / script), "--help"], capture_output=True,
                               text=True, cwd=ROOT, timeout=120).stdout
    missing = sorted(flag for flag in shown if flag not in help_text)
    assert not missing, f"{script} has no {', '.join(missing)} (README shows them)"


def test_every_file_of_the_kit_a_readme_command_names_exists():
    tracked = ("lib/", "tests/", "site/", "bench/", "scripts/", "autograder/", "solutions/", ".ci/")
    named = {token for c in COMMANDS + _block_lines()
             for token in shlex.split(c, comments=True) if token.startswith(tracked)}
    assert named, "no paths found: the test's patterns are out of date"
    missing = sorted(path for path in named if not (ROOT / path).exists())
    assert not missing, f"README commands name missing files: {missing}"
