"""The First Order Motion Model (Siarohin et al., NeurIPS 2019), one file per idea.

:class:`deepfakelab.reenact.methods.FOMM` is how the rest of the kit runs it; this package is the
model itself:

- ``modules/``: the paper's networks (blocks, keypoint detector, dense motion, generator), as in
  the published code's ``modules/``
- ``keypoints``: the typed structure the networks pass between them
- ``motion_transfer``: relative / absolute motion (``kp_source``, ``kp_driving``)
- ``config``, ``model``, ``checkpoint``: FOMM-style YAML, building, safe loading (and the kit's
  shipped small FOMM)
- ``animate``: the fast animation loop (source encoded once, driving frames in batches)
- inference engines: ``engine_base`` (the interface the loop drives), ``engines`` (choosing one),
  ``onnx_export`` (the graphs they run, cached), ``onnxruntime_engine``, ``openvino_engine``
- training: ``training`` (self-supervised, one GPU or torchrun), ``train_args`` (its flags),
  ``data`` (pairs of frames), ``transforms`` (random thin-plate splines), ``losses``
  (perceptual pyramid, equivariance)
"""
