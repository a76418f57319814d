"""Detection (Lab 1's second half): is a face real or fake, and where does the network look?

Inference, what ``deepfakelab detect`` runs on a video or photo (imports nothing of training or
of :mod:`deepfakelab.fakes`; ``tests/kit/test_imports.py`` checks):

- ``inference``: the shipped weights, faces cropped, P(fake) and maps per frame (:class:`~.inference.DeepfakeDetector`)
- ``model``: the networks (kitnet, MobileNetV2 and other torchvision backbones) and ``to_tensor``
- ``explain``: Grad-CAM and its kin for the "fake" logit, and checks that the maps mean something
- ``domain``: whether an input looks like the detector's training data (distance to prototypes)
- ``report``: the HTML page, figures and JSON of a ``detect`` run

Training (``detect-train``, ``detect-domain`` and the benches; the face sets come from
:mod:`deepfakelab.fakes`):

- ``dataset``: a face set as tensors: augmentations, fresh self-blends each epoch, paired batches
- ``train``: the resumable training loop
- ``evaluation``: training plus the person-disjoint evaluation table and map faithfulness
- ``domain_stats``: the prototypes and threshold :mod:`.domain` tests against, stored in the weights
- ``calibration``: temperature scaling fitted on the validation split
- ``metrics``: frame and video AUC, EER, AP, ECE
- ``backbone``: the ImageNet MobileNetV2 weights, found and checked offline
- ``probe``: the frozen-features linear-probe baseline

Entry points: ``cli`` (the sub-commands, importing the rest lazily) and ``demo`` (the detection
part of ``deepfakelab demo``). ``weights/`` holds the shipped detectors and their card.
"""
