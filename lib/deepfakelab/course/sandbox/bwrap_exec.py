"""Starts ``bwrap`` with an empty environment and its options on a pipe, not on its command line.

Inside a sandbox, PID 1 is bubblewrap's own reaper: a fork of ``bwrap`` that keeps the
environment and the command line bwrap was started with, readable by the student's code as
``/proc/1/environ`` and ``/proc/1/cmdline``. Started directly, those hold the grader's whole
environment (an instructor's tokens) and every host path bwrap mounts. This launcher, run as
``python -I -S bwrap_exec.py BWRAP OPTION... -- COMMAND...`` (a plain script: it imports nothing
of the kit, so it starts in milliseconds), writes the options to a pipe on fd 3 and replaces
itself with ``bwrap --args 3 -- COMMAND...`` under an empty environment; bwrap's ``--setenv``
options set the sandbox's own. The launcher's own command line is in the grader's PID
namespace, which the sandbox cannot see.
"""

import os
import sys

ARGS_FD = 3


def main(argv: list[str]) -> None:
    if len(argv) < 3 or "--" not in argv[1:]:
        sys.exit("usage: bwrap_exec.py BWRAP OPTION... -- COMMAND...")
    bwrap, rest = argv[0], argv[1:]
    cut = rest.index("--")
    options, command = rest[:cut], rest[cut + 1 :]
    payload = b"".join(os.fsencode(option) + b"\0" for option in options)
    read, write = os.pipe()
    if len(payload) > 60_000:  # a pipe holds 64 KiB before a write blocks: no sandbox needs that many options
        sys.exit(f"bwrap_exec: {len(payload)} bytes of bubblewrap options are too many")
    os.write(write, payload)
    os.close(write)
    if read != ARGS_FD:
        os.dup2(read, ARGS_FD)
        os.close(read)
    os.set_inheritable(ARGS_FD, True)
    os.execve(bwrap, [os.path.basename(bwrap), "--args", str(ARGS_FD), "--", *command], {})


if __name__ == "__main__":
    main(sys.argv[1:])
