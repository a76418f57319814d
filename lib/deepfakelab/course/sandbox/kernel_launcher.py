"""Start an IPython kernel under a memory limit: the kernel a graded notebook runs in.

``python -m deepfakelab.course.sandbox.kernel_launcher --memory-mb 8192 -f CONNECTION_FILE``
sets ``RLIMIT_AS`` on its own process before the kernel starts, so a student's runaway
allocation raises ``MemoryError`` in that cell (scored 0, grading goes on) instead of taking
the grading machine down. Kept free of heavy imports: it runs once per graded notebook.
"""

from __future__ import annotations

import resource
import sys

from ipykernel import kernelapp


def apply_limits(memory_mb: int) -> None:
    """Limit this process's address space to ``memory_mb`` MiB (0 = no limit) and drop core dumps."""
    if memory_mb > 0:
        limit = int(memory_mb) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    memory_mb = 0
    if "--memory-mb" in argv:
        at = argv.index("--memory-mb")
        memory_mb = int(argv[at + 1])
        del argv[at : at + 2]
    apply_limits(memory_mb)
    sys.argv = [sys.argv[0], *argv]
    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
