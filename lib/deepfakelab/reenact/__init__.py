"""Reenactment (Lab 1): animate a still face with the motion of a driving video.

The model is the First Order Motion Model (Siarohin et al., NeurIPS 2019), one file per idea:

- ``blocks``: hourglass, down/up/residual blocks, anti-aliased down-sampling, keypoint Gaussians
- ``keypoint_detector``: keypoints and their local affine maps (``jacobian``)
- ``dense_motion``: sparse motions -> mask -> dense deformation and ``occlusion_map``
- ``generator``: the occlusion-aware generator
- ``motion_transfer``: relative / absolute motion (``kp_source``, ``kp_driving``)
- ``config``, ``model``, ``checkpoint``: FOMM-style YAML, building, safe loading
- ``animate``: the fast animation loop (source encoded once, driving frames in batches)
"""
