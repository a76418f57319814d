"""The demos: ``deepfakelab demo`` shows every part of the kit on embedded defaults, offline.

- :mod:`.cli` -- the ``deepfakelab demo`` command: its options and what it prints when done.
- :mod:`.runner` -- the run: the parts in order, each one's torch threads and expected time,
  the GAN's share of the 3-minute budget, ``summary.json``.
- :mod:`.page` -- ``index.html``: every result on one page, rewritten after each part.
- :mod:`.reenact` -- Lab 1's first part: a real photo reenacted by the mesh warp, a synthetic
  head by the kit's small FOMM.
- :mod:`.detect` -- Lab 1's detection: real and fake videos scored side by side and explained.
- :mod:`.gan` -- Lab 2: the DCGAN trained on bags for as many epochs as the budget leaves.

The demos sit on top: they use the library parts and the labs (:mod:`deepfakelab.labs`), and
nothing of the library imports them.
"""
