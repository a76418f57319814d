"""Bag images for Lab 2, from wherever they are -- never from the network.

Three sources, tried in this order by :func:`load_bags` with ``source="auto"``:

1. **Fashion-MNIST**, class 8 "Bag" (6,000 train and 1,000 test images, 28x28 grey; MIT licence,
   Zalando Research). Found at a path the user gives, at ``$DEEPFAKELAB_FASHION_MNIST``, in a
   torchvision-style root (``<root>/FashionMNIST/raw``), or where Debian's
   ``dataset-fashion-mnist`` package installs it (``/usr/share/datasets/fashion-mnist``).
2. **A folder of bag photos** (any size, colour), resized and centre-cropped to the model's size.
   Unreadable files are skipped with a warning that names them.
3. **Procedural bags** (:func:`procedural_bags`): drawn by the kit, deterministic by seed, so the
   demo and the tests work on a machine with neither of the above.

Every loader returns :class:`BagData`, whose ``description`` says plainly which data is in use.
Images are float tensors in [0, 1], shape (N, C, H, W).
"""

from __future__ import annotations

import gzip
import os
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from ..errors import DataError
from ..media.files import check_input_folder

BAG_LABEL = 8
FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".gif"}


class DataWarning(UserWarning):
    """Something in the data was skipped; the message names it."""


@dataclass
class BagData:
    """Training and held-out images, with a plain-words description of where they came from."""

    train: torch.Tensor  # (N, C, H, W) float in [0, 1]
    test: torch.Tensor  # (M, C, H, W) float in [0, 1], never used for training
    source: str  # "fashion-mnist", "folder" or "procedural"
    description: str

    @property
    def image_size(self) -> int:
        return int(self.train.shape[-1])

    @property
    def channels(self) -> int:
        return int(self.train.shape[1])


# --------------------------------------------------------------------------- Fashion-MNIST
def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzipped or not, into a uint8 array."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            data = fh.read()
        zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
        if zero != 0 or dtype_code != 0x08:
            raise ValueError("not an unsigned-byte IDX file")
        shape = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
        array = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
        return array.reshape(shape)
    except (OSError, ValueError, EOFError, struct.error) as exc:
        raise DataError(f"{path}: not a readable IDX file ({exc}); reinstall the data set") from None


def find_fashion_mnist(path: str | os.PathLike | None = None) -> Path | None:
    """The folder holding Fashion-MNIST's four IDX files, or None when none is found."""
    candidates: list[Path] = []
    if path is not None:
        candidates += [Path(path), Path(path) / "FashionMNIST" / "raw", Path(path) / "raw"]
    if os.environ.get("DEEPFAKELAB_FASHION_MNIST"):
        root = Path(os.environ["DEEPFAKELAB_FASHION_MNIST"])
        candidates += [root, root / "FashionMNIST" / "raw"]
    if path is None:
        candidates.append(DEBIAN_FASHION_MNIST)
    for folder in candidates:
        if _idx_file(folder, "train-images-idx3-ubyte") and _idx_file(folder, "t10k-labels-idx1-ubyte"):
            return folder
    if path is not None:
        raise DataError(
            f"{path}: no Fashion-MNIST IDX files (train-images-idx3-ubyte[.gz] ...) here "
            "or in its FashionMNIST/raw subfolder"
        )
    return None


def _idx_file(folder: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def load_fashion_mnist(
    folder: Path, label: int | None = BAG_LABEL
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(train images, train labels, test images, test labels); images (N, 1, 28, 28) in [0, 1].

    With ``label`` set, only that class is kept (8 is "Bag").
    """
    arrays = [
        read_idx(_idx_file(folder, stem))
        for stem in (
            "train-images-idx3-ubyte",
            "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte",
        )
    ]
    x_train, y_train, x_test, y_test = arrays
    if label is not None:
        x_train, y_train = x_train[y_train == label], y_train[y_train == label]
        x_test, y_test = x_test[y_test == label], y_test[y_test == label]

    def to_tensor(x: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(x.astype(np.float32) / 255.0).unsqueeze(1)

    return (
        to_tensor(x_train),
        torch.from_numpy(y_train.astype(np.int64)),
        to_tensor(x_test),
        torch.from_numpy(y_test.astype(np.int64)),
    )


# --------------------------------------------------------------------------- image folders
def load_image_folder(folder: str | os.PathLike, size: int = 64, channels: int = 3) -> torch.Tensor:
    """Every readable image under ``folder``, resized (shorter side) and centre-cropped to ``size``.

    Returns (N, channels, size, size) floats in [0, 1]. Files that cannot be decoded are skipped
    with one :class:`DataWarning` that names them; no readable image at all is a
    :class:`~deepfakelab.errors.DataError`.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder of images")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    images, skipped = [], []
    for file in files:
        flag = cv2.IMREAD_GRAYSCALE if channels == 1 else cv2.IMREAD_COLOR
        image = cv2.imread(str(file), flag)
        if image is None or image.size == 0:
            skipped.append(file.name)
            continue
        if channels == 3:
            image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        images.append(_resize_center_crop(image, size))
    if skipped:
        warnings.warn(
            f"skipped {len(skipped)} unreadable image(s) in {folder}: {', '.join(skipped[:10])}"
            + (" ..." if len(skipped) > 10 else ""),
            DataWarning,
            stacklevel=2,
        )
    if not images:
        raise DataError(
            f"{folder}: no readable images in this folder (looked for {', '.join(sorted(IMAGE_SUFFIXES))})"
        )
    array = np.stack(images).astype(np.float32) / 255.0
    if channels == 1:
        array = array[..., None]
    return torch.from_numpy(array).permute(0, 3, 1, 2).contiguous()


def _resize_center_crop(image: np.ndarray, size: int) -> np.ndarray:
    h, w = image.shape[:2]
    scale = size / min(h, w)
    new_w, new_h = max(size, round(w * scale)), max(size, round(h * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    image = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
    top, left = (new_h - size) // 2, (new_w - size) // 2
    return image[top : top + size, left : left + size]


# --------------------------------------------------------------------------- procedural bags
def procedural_bags(count: int, size: int = 28, channels: int = 1, seed: int = 0) -> torch.Tensor:
    """Draw ``count`` bags: bodies (tote, satchel, clutch, backpack), handles, straps, flaps,
    clasps, stitching and fabric textures, in varied colours; deterministic by ``seed``.

    Returns (count, channels, size, size) floats in [0, 1] on a black background, like
    Fashion-MNIST's product photos. They are drawn at 4x and area-downsampled, so edges are
    anti-aliased.
    """
    rng = np.random.default_rng(seed)
    return torch.from_numpy(np.stack([_draw_bag(rng, size, channels) for _ in range(count)]))


def _draw_bag(rng: np.random.Generator, size: int, channels: int) -> np.ndarray:
    """One bag: its outline drawn, then handles and straps behind it, its shaded and textured body,
    and its flap, clasp, pocket and stitching, on a 4x canvas that is area-downsampled to ``size``.
    The steps draw from ``rng`` in this order, so a seed keeps giving the same bags."""
    bag = _bag_outline(rng, size * 4, channels)
    canvas = np.zeros((bag.s, bag.s, 3), np.float32)
    _draw_handles(canvas, rng, bag)
    canvas = _draw_body(canvas, rng, bag)
    _draw_details(canvas, rng, bag, channels)
    image = cv2.resize(np.clip(canvas, 0, 1), (size, size), interpolation=cv2.INTER_AREA)
    if channels == 1:
        return image.mean(axis=2, keepdims=True).transpose(2, 0, 1).astype(np.float32)
    return image.transpose(2, 0, 1).astype(np.float32)


@dataclass
class _Bag:
    """A bag's kind, colour and outline on the supersampled canvas of side ``s``."""

    s: int
    base: np.ndarray  # the colour (RGB; grey for one channel)
    kind: str  # tote, satchel, clutch or backpack
    width: float
    height: float
    cx: float
    bottom: float
    top: float
    taper: float  # how much narrower the top is than the bottom, on each side
    body: np.ndarray  # the outline's four corners
    line: int  # the width of drawn lines


def _bag_outline(rng: np.random.Generator, s: int, channels: int) -> _Bag:
    """The bag's colour, kind and outline (a trapezoid for totes and satchels, else a rectangle)."""
    base = rng.uniform(0.25, 1.0, 3) if channels == 3 else np.full(3, rng.uniform(0.35, 0.95))
    kind = rng.choice(["tote", "satchel", "clutch", "backpack"])
    width = rng.uniform(0.65, 0.95) * s
    height = {"clutch": rng.uniform(0.3, 0.42), "backpack": rng.uniform(0.6, 0.72)}.get(
        kind, rng.uniform(0.42, 0.58)
    ) * s
    cx = s / 2 + rng.uniform(-0.04, 0.04) * s
    bottom = s * rng.uniform(0.9, 0.96)
    top = bottom - height
    taper = rng.uniform(0.0, 0.14) * width if kind in ("tote", "satchel") else 0.0
    body = np.array(
        [
            [cx - width / 2, bottom],
            [cx + width / 2, bottom],
            [cx + width / 2 - taper, top],
            [cx - width / 2 + taper, top],
        ],
        np.int32,
    )
    return _Bag(s, base, kind, width, height, cx, bottom, top, taper, body, max(2, s // 40))


def _draw_handles(canvas: np.ndarray, rng: np.random.Generator, bag: _Bag) -> None:
    """Handles and straps, drawn first: the body covers their ends."""
    s, base, kind, width, top, taper, cx, line = (
        bag.s,
        bag.base,
        bag.kind,
        bag.width,
        bag.top,
        bag.taper,
        bag.cx,
        bag.line,
    )
    if kind in ("tote", "satchel", "backpack"):
        handle_w = (width - 2 * taper) * rng.uniform(0.35, 0.7)
        handle_h = rng.uniform(0.18, 0.34) * s if kind != "backpack" else rng.uniform(0.08, 0.14) * s
        handle_h = min(handle_h, top - 2)
        cv2.ellipse(
            canvas,
            (int(cx), int(top)),
            (int(handle_w / 2), max(2, int(handle_h))),
            0,
            180,
            360,
            (base * rng.uniform(0.5, 0.9)).tolist(),
            thickness=line * rng.integers(2, 4),
            lineType=cv2.LINE_AA,
        )
    if kind == "satchel" and rng.random() < 0.6:  # long shoulder strap
        cv2.line(
            canvas,
            (int(cx - width / 2 + taper), int(top)),
            (int(cx + width / 4), 2),
            (base * 0.6).tolist(),
            line * 2,
            cv2.LINE_AA,
        )


def _draw_body(canvas: np.ndarray, rng: np.random.Generator, bag: _Bag) -> np.ndarray:
    """The body, with vertical shading (lighter at the top, as lit from above) and a texture:
    plain, stripes, quilted or grain. Returns the new canvas."""
    s = bag.s
    mask = np.zeros((s, s), np.uint8)
    cv2.fillPoly(mask, [bag.body], 255, lineType=cv2.LINE_AA)
    ys = np.linspace(1.1, 0.75, s, dtype=np.float32)[:, None, None]
    fill = np.broadcast_to(bag.base, (s, s, 3)) * ys
    texture = rng.choice(["plain", "stripes", "quilted", "grain"], p=[0.4, 0.2, 0.2, 0.2])
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32)
    if texture == "stripes":
        period = rng.uniform(0.06, 0.12) * s
        fill = fill * (0.8 + 0.2 * (np.sin(xx * 2 * np.pi / period) > 0))[..., None]
    elif texture == "quilted":
        period = rng.uniform(0.08, 0.14) * s
        fill = (
            fill
            * (0.85 + 0.15 * np.abs(np.sin((xx + yy) * np.pi / period) * np.sin((xx - yy) * np.pi / period)))[
                ..., None
            ]
        )
    elif texture == "grain":
        fill = fill * rng.uniform(0.85, 1.0, (s, s, 1)).astype(np.float32)
    alpha = (mask.astype(np.float32) / 255.0)[..., None]
    return canvas * (1 - alpha) + fill * alpha


def _draw_details(canvas: np.ndarray, rng: np.random.Generator, bag: _Bag, channels: int) -> None:
    """Flap and clasp, a backpack's pocket, stitching: each drawn or not by chance, over the body."""
    s, base, kind, width, height, top, bottom, taper, cx = (
        bag.s,
        bag.base,
        bag.kind,
        bag.width,
        bag.height,
        bag.top,
        bag.bottom,
        bag.taper,
        bag.cx,
    )
    if kind in ("satchel", "clutch", "backpack") and rng.random() < 0.8:
        flap_depth = height * rng.uniform(0.3, 0.6)
        tip = rng.uniform(0.0, 0.25) * width
        flap = np.array(
            [
                [cx - width / 2 + taper, top],
                [cx + width / 2 - taper, top],
                [cx + width / 2 - taper * 0.5, top + flap_depth * 0.7],
                [cx + tip / 2, top + flap_depth],
                [cx - tip / 2, top + flap_depth],
                [cx - width / 2 + taper * 0.5, top + flap_depth * 0.7],
            ],
            np.int32,
        )
        cv2.fillPoly(canvas, [flap], (base * rng.uniform(0.6, 0.8)).tolist(), lineType=cv2.LINE_AA)
        if rng.random() < 0.7:
            cv2.circle(
                canvas,
                (int(cx), int(top + flap_depth)),
                max(2, s // 28),
                (0.95, 0.85, 0.4) if channels == 3 else (0.95,) * 3,
                -1,
                cv2.LINE_AA,
            )
    if kind == "backpack" and rng.random() < 0.8:
        pocket = (
            int(cx - width * 0.3),
            int(bottom - height * 0.45),
            int(cx + width * 0.3),
            int(bottom - height * 0.08),
        )
        cv2.rectangle(canvas, pocket[:2], pocket[2:], (base * 0.7).tolist(), -1, cv2.LINE_AA)
    if rng.random() < 0.5:
        stitch = bag.body.copy()
        stitch[:, 0] = cx + (stitch[:, 0] - cx) * 0.9
        stitch[:, 1] = (top + bottom) / 2 + (stitch[:, 1] - (top + bottom) / 2) * 0.9
        cv2.polylines(
            canvas, [stitch], True, (base * 1.2).clip(0, 1).tolist(), max(1, bag.line // 2), cv2.LINE_AA
        )


# --------------------------------------------------------------------------- one entry point
def check_data_path(path: str | os.PathLike | None) -> None:
    """Refuse a ``--data`` that is missing or a file, before anything is loaded or any output made."""
    if path is not None:
        check_input_folder(path, "folder of bag photos or of Fashion-MNIST's IDX files")


def load_bags(
    source: str = "auto",
    path: str | os.PathLike | None = None,
    image_size: int | None = None,
    channels: int | None = None,
    procedural_count: int = 6000,
    seed: int = 0,
) -> BagData:
    """Load bag images for training and evaluation.

    ``source``: ``"auto"`` (Fashion-MNIST if installed, else procedural; a ``path`` that is a
    folder of images means ``"folder"``), ``"fashion-mnist"``, ``"folder"`` or ``"procedural"``.
    Folder images default to 64 px colour, Fashion-MNIST and procedural bags to 28 px grey.
    """
    check_data_path(path)
    if source == "auto":
        if path is not None:
            source = "fashion-mnist" if _looks_like_fashion_mnist(Path(path)) else "folder"
        else:
            source = "fashion-mnist" if find_fashion_mnist() else "procedural"
    if source == "fashion-mnist":
        return _fashion_mnist_bags(path, image_size, channels)
    if source == "folder":
        return _folder_bags(path, image_size, channels, seed)
    if source == "procedural":
        return _procedural_bags(image_size, channels, procedural_count, seed)
    raise DataError(f"unknown data source {source!r}: use auto, fashion-mnist, folder or procedural")


def _fashion_mnist_bags(
    path: str | os.PathLike | None, image_size: int | None, channels: int | None
) -> BagData:
    """Fashion-MNIST's bags (the installed Debian package's, or the IDX files in ``path``), its own
    split, resized only when asked."""
    folder = find_fashion_mnist(path)
    if folder is None:
        raise DataError(
            "Fashion-MNIST is not installed: on Debian/Ubuntu run `sudo apt-get install "
            "dataset-fashion-mnist`, give --data PATH to the IDX files, or use --source procedural"
        )
    train, _, test, _ = load_fashion_mnist(folder)
    train, test = _maybe_resize(train, image_size, channels), _maybe_resize(test, image_size, channels)
    return BagData(
        train,
        test,
        "fashion-mnist",
        f"Fashion-MNIST 'Bag' class from {folder}: {len(train)} train / {len(test)} held-out images",
    )


def _folder_bags(
    path: str | os.PathLike | None, image_size: int | None, channels: int | None, seed: int
) -> BagData:
    """The images in the folder ``path`` (64 px colour unless asked otherwise), a tenth of them held
    out at random (``seed``); a single image is trained on and none held out."""
    if path is None:
        raise DataError("source 'folder' needs a path to a folder of images")
    images = load_image_folder(path, size=image_size or 64, channels=channels or 3)
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(images), generator=generator)
    n_test = max(1, len(images) // 10) if len(images) > 1 else 0
    test, train = images[order[:n_test]], images[order[n_test:]]
    if len(train) == 0:
        train = images
    return BagData(
        train,
        test,
        "folder",
        f"images from {path}: {len(train)} train / {len(test)} held-out, {train.shape[-1]} px",
    )


def _procedural_bags(image_size: int | None, channels: int | None, count: int, seed: int) -> BagData:
    """``count`` bags drawn by the kit (28 px grey unless asked otherwise) and a sixth as many, at
    least 100, held out, drawn from another seed."""
    size, ch = image_size or 28, channels or 1
    train = procedural_bags(count, size, ch, seed=seed)
    test = procedural_bags(max(100, count // 6), size, ch, seed=seed + 1_000_003)
    return BagData(
        train,
        test,
        "procedural",
        f"procedural bags drawn by the kit (seed {seed}): {len(train)} train / {len(test)} held-out, "
        f"{size} px -- no Fashion-MNIST installed (`apt-get install dataset-fashion-mnist` for real bags)",
    )


def _looks_like_fashion_mnist(path: Path) -> bool:
    try:
        return find_fashion_mnist(path) is not None
    except DataError:
        return False


def _maybe_resize(images: torch.Tensor, size: int | None, channels: int | None) -> torch.Tensor:
    if channels == 3 and images.shape[1] == 1:
        images = images.repeat(1, 3, 1, 1)
    if size and size != images.shape[-1]:
        images = torch.nn.functional.interpolate(
            images, size=(size, size), mode="bilinear", align_corners=False, antialias=True
        )
    return images.clamp(0, 1)
