"""Reenactment (Lab 1): animate a still face with the motion of a driving video.

One interface, :mod:`.methods`: ``reenactor(name)(source, driving) -> frames`` for every method
(:class:`~.methods.Reenactor`; its variants :class:`~.methods.MeshWarp`,
:class:`~.methods.LandmarkWarp`, :class:`~.methods.FOMM`). The methods:

- ``mesh_warp``: the 468-point face mesh moved by the driver's pose and expression, the photo
  warped along it; no trained network, the default for a photo without a checkpoint
- ``landmark_warp``: MTCNN's five points and a thin-plate spline; the baseline
- ``fomm/``: the First Order Motion Model (Siarohin et al., NeurIPS 2019), its networks, files,
  animation loop, inference engines and training (map in its own docstring)

Around them: ``pipeline`` (files to a labelled video, what ``deepfakelab reenact`` runs: faces
found and cropped, a method, paste-back or side by side), ``views`` (keypoints drawn, side-by-side
videos, the PNG strip), ``cli`` (``reenact``, ``reenact-train``, ``reenact-eval``), ``demo``; and
the evaluations: ``evaluation`` (reconstruction on synthetic heads, head turns) and
``real_evaluation`` (on real videos: L1, AKD, AED, mouth and seam L1).
"""
