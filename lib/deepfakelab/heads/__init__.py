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

import lazy_loader

# Loaded on first use (scientific Python's lazy_loader, as scikit-image does): the heads package is
# imported by ``deepfakelab --help`` for its sub-commands, and its datasets bring torch and scipy.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "dataset": [
            "FramePairs",
            "HeadsConfig",
            "TalkingHeads",
            "identity_for",
            "split_identities",
            "video_spec",
        ],
        "effects": ["CameraEffects"],
        "face_model": ["FaceModel", "Projection"],
        "identity": ["ACCESSORY_KINDS", "Identity"],
        "motion": ["SCRIPTS", "look_around", "nod", "random_trajectory", "shake", "surprise", "talk"],
        "render": ["RenderedFrame", "render_frame", "render_video"],
        "sheet": ["contact_sheet", "talking_strip"],
        "state": ["FaceState"],
        "writer": ["write_dataset"],
    },
)
