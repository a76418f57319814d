"""Reenactment (Lab 1): animate a still face with the motion of a driving video.

- ``fomm/``: the First Order Motion Model (Siarohin et al., NeurIPS 2019), its networks, files,
  animation loop, inference engines and training (map in its own docstring)

Beside it, with no trained network: ``mesh_warp`` (468-point mesh, the default for a photo without
a checkpoint) and ``landmark_warp`` (MTCNN's five points, the baseline); ``pipeline`` (files to a
labelled video, what ``deepfakelab reenact`` runs); ``evaluation`` (reconstruction on synthetic
heads) and ``real_evaluation`` (on real videos: L1, AKD, AED).
"""
