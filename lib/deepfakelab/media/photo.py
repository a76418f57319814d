"""Reading photos as the kit's models see them: upright, RGB, 8 bits per channel.

Phones store most photos sideways and say in the EXIF ``Orientation`` tag how to turn them; a
reader that ignores it hands the face detector a face lying on its side. Grayscale photos are
repeated to three channels and transparent ones composited on white (the models were trained on
colour frames); each conversion is said in a note naming the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from skimage import data as skimage_data

from ..errors import DataError
from .files import check_input_file

#: Photos with more pixels than this get a note: they are slow to process and searched shrunk.
LARGE_PHOTO_PIXELS = 4096 * 4096


def _to_uint8(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint8:
        return image
    if image.dtype == bool:
        return image.astype(np.uint8) * 255
    if np.issubdtype(image.dtype, np.floating):
        top = 1.0 if image.max(initial=0) <= 1.0 else 255.0
        return (np.clip(image / top, 0, 1) * 255 + 0.5).astype(np.uint8)
    if image.max(initial=0) > 255:  # 16-bit
        return (image / 257).astype(np.uint8)
    return image.astype(np.uint8)


def read_photo(path: str | Path) -> tuple[np.ndarray, list[str]]:
    """A photo as ``(H, W, 3)`` uint8 RGB, upright by its EXIF orientation, plus notes on conversions.

    A missing, empty or unreadable file is a :class:`~deepfakelab.errors.DataError` naming it.
    """
    path = check_input_file(path, "photo")
    notes = []
    try:
        with Image.open(path) as opened:
            orientation = opened.getexif().get(0x0112, 1)
            picture = ImageOps.exif_transpose(opened)
            if picture.mode in ("P", "PA"):
                picture = picture.convert(
                    "RGBA" if picture.mode == "PA" or "transparency" in picture.info else "RGB"
                )
            elif picture.mode in ("CMYK", "YCbCr", "LAB", "HSV", "1"):
                picture = picture.convert("L" if picture.mode == "1" else "RGB")
            image = np.asarray(picture)
    except UnidentifiedImageError:
        raise DataError(
            f"{path}: not a readable image (not a picture format the kit can open, or damaged)"
        ) from None
    except (OSError, ValueError, SyntaxError) as exc:  # truncated or corrupt data
        detail = (
            str(exc).replace(str(path), "").replace(repr(str(path)), "").strip(" :'") or type(exc).__name__
        )
        raise DataError(f"{path}: not a readable image ({detail})") from None
    if orientation not in (1, None):
        notes.append(f"{path}: turned upright as its EXIF orientation tag ({orientation}) says")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    image = _to_uint8(image)
    if image.ndim == 2:
        notes.append(f"{path}: grayscale photo; its gray values were copied to the three colour channels")
        image = np.repeat(image[..., None], 3, axis=2)
    elif image.ndim == 3 and image.shape[2] == 4:
        notes.append(f"{path}: photo with transparency (RGBA); composited on a white background")
        alpha = image[..., 3:4].astype(np.float32) / 255
        image = (image[..., :3] * alpha + 255 * (1 - alpha) + 0.5).astype(np.uint8)
    elif image.ndim == 3 and image.shape[2] == 2:
        notes.append(f"{path}: grayscale photo with transparency; composited on white")
        alpha = image[..., 1:2].astype(np.float32) / 255
        gray = image[..., :1] * alpha + 255 * (1 - alpha)
        image = np.repeat(gray + 0.5, 3, axis=2).astype(np.uint8)
    if image.ndim != 3 or image.shape[2] != 3 or 0 in image.shape:
        raise DataError(
            f"{path}: unsupported image layout {image.shape}; expected a colour or grayscale photo"
        )
    height, width = image.shape[:2]
    if height * width > LARGE_PHOTO_PIXELS:
        notes.append(
            f"{path}: large photo ({width}x{height}); faces are searched on a shrunk copy, "
            "and every step takes longer"
        )
    return np.ascontiguousarray(image), notes


def astronaut() -> np.ndarray:
    """scikit-image's astronaut (Eileen Collins, NASA, public domain): a real photo that ships with
    a dependency, ``(512, 512, 3)`` uint8 RGB, for demos and pictures of the methods."""
    return np.ascontiguousarray(skimage_data.astronaut())


def read_image(path: str | Path) -> np.ndarray:
    """:func:`read_photo` without the notes: ``(H, W, 3)`` uint8 RGB, for notebooks."""
    return read_photo(path)[0]
