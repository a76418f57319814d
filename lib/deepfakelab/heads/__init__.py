"""Synthetic talking heads: an offline source of face videos that knows every pixel's truth.

Lab 1 needs face videos to train a reenactment model and a deepfake detector, and the kit
downloads nothing. This package draws people from a seed (head and jaw shape, skin, hair, eyes,
brows, nose, mouth, ears, background, and the course's hard cases: glasses, goggles or a diving
mask, a scarf or mask, a hat or hood, facial hair), moves them smoothly (pose, talking, smiles,
blinks, brows, gaze), and renders shaded, anti-aliased frames from 64 to 256 px with their
ground truth: 68 landmarks and their visibility, pose, expression and semantic masks.

Public API (everything a lab needs; units and shapes are in each docstring):

- :class:`Identity` -- who: ``Identity.sample(seed, accessory_rate)``, ``.wearing(kind)``,
  ``.without_accessories()``; :data:`ACCESSORY_KINDS` lists the accessories.
- :class:`FaceState` -- what a head does in one frame (yaw, pitch, roll in degrees, tx, ty,
  scale, mouth_open, smile, blink, brow_raise, gaze_x, gaze_y).
- Motion: :func:`talk`, :func:`nod`, :func:`shake`, :func:`look_around`, :func:`surprise`,
  :func:`random_trajectory` (lists of states); :data:`SCRIPTS` by name.
- :func:`render_frame` / :func:`render_video` -> :class:`RenderedFrame` (``image``,
  ``landmarks``, ``visible``, ``masks``, ``pose``, ``expression``); :class:`CameraEffects`
  for lighting drift, noise and JPEG.
- Datasets: :class:`HeadsConfig`, :class:`TalkingHeads` (videos), :class:`FramePairs`
  (source/driving pairs for FOMM), :func:`split_identities` (exact splits by identity).
- Files: :func:`write_dataset` (FOMM layout, PNG frames or mp4, ground truth in ``.npz``);
  pictures: :func:`contact_sheet`, :func:`talking_strip`.
- CLI: ``deepfakelab heads make OUT ...`` and ``deepfakelab heads sheet OUT``.
"""

from .dataset import FramePairs, HeadsConfig, TalkingHeads, identity_for, split_identities, video_spec
from .effects import CameraEffects
from .face_model import FaceModel, Projection
from .identity import ACCESSORY_KINDS, Identity
from .motion import SCRIPTS, look_around, nod, random_trajectory, shake, surprise, talk
from .render import RenderedFrame, render_frame, render_video
from .sheet import contact_sheet, talking_strip
from .state import FaceState
from .writer import write_dataset

__all__ = [
    "ACCESSORY_KINDS",
    "CameraEffects",
    "FaceModel",
    "FaceState",
    "FramePairs",
    "HeadsConfig",
    "Identity",
    "Projection",
    "RenderedFrame",
    "SCRIPTS",
    "TalkingHeads",
    "contact_sheet",
    "identity_for",
    "look_around",
    "nod",
    "random_trajectory",
    "render_frame",
    "render_video",
    "shake",
    "split_identities",
    "surprise",
    "talk",
    "talking_strip",
    "video_spec",
    "write_dataset",
]
