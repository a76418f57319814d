"""Reenactment (Lab 1): animate a still face with the motion of a driving video.

The model is the First Order Motion Model (Siarohin et al., NeurIPS 2019), one file per idea:

- ``modules/``: the paper's networks (blocks, keypoint detector, dense motion, generator), as in
  the published code's ``modules/``
- ``keypoints``: the typed structure the networks pass between them
- ``motion_transfer``: relative / absolute motion (``kp_source``, ``kp_driving``)
- ``config``, ``model``, ``checkpoint``: FOMM-style YAML, building, safe loading
- ``animate``: the fast animation loop (source encoded once, driving frames in batches)

Beside it, with no trained network: ``mesh_warp`` (468-point mesh, the default for a photo without
a checkpoint) and ``landmark_warp`` (MTCNN's five points, the baseline); ``pipeline`` (files to a
labelled video, what ``deepfakelab reenact`` runs); ``evaluation`` (reconstruction on synthetic
heads) and ``real_evaluation`` (on real videos: L1, AKD, AED).
"""
