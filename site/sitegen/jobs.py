"""The site's figure jobs, in the order the course teaches: heads, reenactment, detection, GAN."""

from __future__ import annotations

from .figures import FigureJob

ALL_JOBS: list[FigureJob] = []
