"""The linear-probe baseline: ImageNet MobileNetV2 features, frozen, and a logistic regression.

It answers "how much of the detector is the pretrained backbone, and how much the
fine-tuning?": the features are never trained on faces, only a linear read-out of their
pooled 1280 values is (scikit-learn's L2-regularised logistic regression on standardised
features). The result is an ordinary :class:`~.model.MobileNetDetector` whose head holds the
regression, so the same evaluation, calibration and Grad-CAM run on it.
"""

from __future__ import annotations

from pathlib import Path

import torch
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from ..fakes.faceset import FaceSet
from .domain_stats import embeddings
from .model import DetectorConfig, MobileNetDetector
from .train import save_weights


def linear_probe(
    train: FaceSet, backbone_state: dict, size: int, C: float = 0.1, device="cpu"
) -> MobileNetDetector:
    """A MobileNetV2 with ImageNet features and a logistic-regression head fitted on ``train``."""
    model = MobileNetDetector().load_imagenet(backbone_state).to(device).eval()
    features = embeddings(model, train, device=device)
    scaler = StandardScaler().fit(features)
    regression = LogisticRegression(C=C, max_iter=2000, class_weight="balanced")
    regression.fit(scaler.transform(features), train.labels)
    # logit_fake - logit_real = w . (x - mu) / sigma + b, folded into the linear layer
    w = regression.coef_[0] / scaler.scale_
    b = regression.intercept_[0] - float(w @ scaler.mean_)
    linear = model.head[-1]
    with torch.no_grad():
        linear.weight.zero_()
        linear.bias.zero_()
        linear.weight[1] = torch.from_numpy(w).float()
        linear.bias[1] = float(b)
    return model.cpu()


def save_probe(model: MobileNetDetector, size: int, path: str | Path) -> Path:
    return save_weights(
        model,
        DetectorConfig(arch="mobilenet_v2", size=size),
        Path(path),
        extra={"name": "linear probe on frozen ImageNet MobileNetV2"},
    )
