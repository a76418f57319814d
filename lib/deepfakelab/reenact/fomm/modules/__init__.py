"""The First Order Motion Model's networks, one file per idea of the paper (Siarohin et al., 2019).

- ``blocks``: hourglass, down/up/residual blocks, anti-aliased down-sampling, keypoint Gaussians
- ``keypoint_detector``: keypoints and their local affine maps (``jacobian``)
- ``dense_motion``: sparse motions -> mask -> dense deformation and ``occlusion_map``
- ``generator``: the occlusion-aware generator

The folder mirrors the published code's ``modules/``; everything around the networks (motion
transfer, animation, training, files) lives one level up in :mod:`deepfakelab.reenact.fomm`.
"""
