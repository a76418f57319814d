"""A small Fashion-MNIST classifier that the kit trains itself: the eyes of the quality score.

Inception-based FID needs ImageNet weights from the network. This classifier (three conv blocks,
a 128-unit embedding, ten classes) is trained in about a minute on two CPU cores from
Debian's ``dataset-fashion-mnist`` and ships inside the package
(``deepfakelab/assets/fashion_classifier.pt``), together with its test accuracy and the command
that made it::

    deepfakelab gan classifier --epochs 3 --out lib/deepfakelab/assets/fashion_classifier.pt
"""

from __future__ import annotations

import time
from importlib import resources
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from ..errors import DataError
from ..runtime import seed_everything
from .data import find_fashion_mnist, load_fashion_mnist

SHIPPED = "fashion_classifier.pt"


class FashionClassifier(nn.Module):
    """(N, 1, 28, 28) grey images in [0, 1] -> 128-d embedding and 10 class logits."""

    def __init__(self, embedding: int = 128, classes: int = 10):
        super().__init__()

        def block(cin: int, cout: int) -> list[nn.Module]:
            return [
                nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            ]

        self.features = nn.Sequential(
            *block(1, 32), *block(32, 64), *block(64, 64), nn.Flatten()
        )  # 64 x 3 x 3
        self.embed = nn.Sequential(nn.Linear(64 * 3 * 3, embedding), nn.ReLU(inplace=True))
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(embedding, classes))

    def embed_and_classify(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        embedding = self.embed(self.features(x))
        return embedding, self.head(embedding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.embed_and_classify(x)[1]


def train_classifier(
    data_path: str | None = None, epochs: int = 3, batch_size: int = 128, seed: int = 0, progress: bool = True
) -> tuple[FashionClassifier, dict]:
    """Train on all ten Fashion-MNIST classes; return the model and {accuracy, epochs, seconds}."""
    folder = find_fashion_mnist(data_path)
    if folder is None:
        raise DataError(
            "training the classifier needs Fashion-MNIST: `sudo apt-get install dataset-fashion-mnist`"
        )
    x_train, y_train, x_test, y_test = load_fashion_mnist(folder, label=None)
    generator = seed_everything(seed)
    model = FashionClassifier()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    started = time.perf_counter()
    steps = len(x_train) // batch_size
    with tqdm(total=epochs * steps, disable=not progress, desc="classifier", unit="step") as bar:
        for _ in range(epochs):
            model.train()
            order = torch.randperm(len(x_train), generator=generator)
            for i in range(steps):
                idx = order[i * batch_size : (i + 1) * batch_size]
                x = x_train[idx]
                if torch.rand(1, generator=generator).item() < 0.5:  # horizontal flips: bags are symmetric
                    x = x.flip(-1)
                loss = nn.functional.cross_entropy(model(x), y_train[idx])
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                bar.update(1)
                bar.set_postfix(loss=f"{loss.item():.3f}")
    accuracy = evaluate_accuracy(model, x_test, y_test)
    return model, {
        "test_accuracy": accuracy,
        "epochs": epochs,
        "seconds": round(time.perf_counter() - started, 1),
        "data": str(folder),
    }


@torch.no_grad()
def evaluate_accuracy(model: FashionClassifier, images: torch.Tensor, labels: torch.Tensor) -> float:
    model.eval()
    correct = sum(
        int((model(images[i : i + 1000]).argmax(1) == labels[i : i + 1000]).sum())
        for i in range(0, len(images), 1000)
    )
    return correct / len(images)


def save_classifier(model: FashionClassifier, info: dict, path: str | Path) -> None:
    torch.save(
        {"format": "deepfakelab.fashion_classifier/1", "state_dict": model.state_dict(), "info": info}, path
    )


def load_classifier(path: str | Path | None = None) -> FashionClassifier:
    """The shipped classifier (or one at ``path``), in eval mode."""
    if path is None:
        with resources.as_file(resources.files("deepfakelab") / "assets" / SHIPPED) as shipped:
            if not shipped.exists():
                raise DataError(
                    "the shipped Fashion-MNIST classifier is missing from this installation; rebuild it with "
                    "`deepfakelab gan classifier --out lib/deepfakelab/assets/fashion_classifier.pt`"
                )
            state = torch.load(shipped, map_location="cpu", weights_only=True)
    else:
        state = torch.load(path, map_location="cpu", weights_only=True)
    model = FashionClassifier()
    model.load_state_dict(state["state_dict"])
    model.info = state.get("info", {})
    return model.eval()


def classifier_info() -> dict:
    """Accuracy and provenance of the shipped classifier."""
    return getattr(load_classifier(), "info", {})
