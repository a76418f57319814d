"""The command-line reference page, taken from the parser the ``deepfakelab`` command builds.

Writing the help by hand would drift from the code; this walks
:func:`deepfakelab.cli.build_parser` and its sub-commands (and theirs) and writes each one's
``--help`` text, exactly as a user would see it in a terminal 80 columns wide (the width of the page).
"""

from __future__ import annotations

import argparse
import html
import os
import re

from .snippets import write_snippet

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    """(name, parser) of each sub-command of ``parser``, in the order they were added."""
    found = []
    for action in parser._actions:  # argparse keeps sub-parsers only here
        if isinstance(action, argparse._SubParsersAction):
            found.extend(action.choices.items())
    return found


def _walk(parser: argparse.ArgumentParser, words: list[str]):
    yield words, parser
    for name, sub in _subcommands(parser):
        yield from _walk(sub, [*words, name])


def help_text(parser: argparse.ArgumentParser) -> str:
    """``parser``'s help as plain text (no colour codes), 80 columns wide."""
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "80"
    try:
        text = parser.format_help()
    finally:
        if previous is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = previous
    return _ANSI.sub("", text).rstrip()


def write_cli_reference() -> list[str]:
    """Write ``generated/cli_reference.md``; return the commands it documents."""
    from deepfakelab.cli import build_parser

    parser = build_parser()
    sections = []
    commands = []
    for words, sub in _walk(parser, ["deepfakelab"]):
        command = " ".join(words)
        commands.append(command)
        level = "#" * min(len(words) + 1, 4)
        # The help goes in raw HTML so that nothing in it is read as Markdown.
        sections.append(
            f'{level} `{command}`\n\n<pre class="cli-help"><code>{html.escape(help_text(sub))}</code></pre>\n'
        )
    write_snippet("cli_reference", "\n".join(sections))
    return commands
