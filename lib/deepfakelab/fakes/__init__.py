"""Fake-making: face sets of real crops and of fakes made from them, for training detectors.

Uses :mod:`deepfakelab.reenact`, :mod:`deepfakelab.faces`, :mod:`deepfakelab.heads` and
:mod:`deepfakelab.media`; never :mod:`deepfakelab.detect`, whose training half reads what is made
here (``deepfakelab detect-data`` writes it).

- ``faceset``: :class:`~.faceset.FaceSet`, the labelled crops, masks and splits in one ``.npz``
- ``manipulations``: fakes of a frame with the mask of what changed: self-blend, face swap, landmark warp
- ``mesh_fakes``: the same and the kit's mesh warp on real faces, placed by their 468-point mesh
- ``synthetic``: the kit's synthetic talking heads and their fakes (FOMM too) as a face set
- ``real``: real people's videos and photos, read with the detector's crop and the mesh, and their fakes
- ``folders``: a face set from a user's labelled ``real/`` and ``fake/`` videos (no fakes made)
- ``roster``: ``persons.csv`` rosters (who each file shows, each person's split) and person-disjoint splits
- ``shared_real_persons.csv``: the roster of the kit's shared real videos and photos
"""
