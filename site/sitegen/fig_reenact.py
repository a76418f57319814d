"""Reenactment figures: FOMM's keypoints, motion field and occlusion map, and a reenacted strip.

Source and driving faces are the kit's synthetic heads (one still face, another identity
"surprised": the head pulls back, the brows rise, the mouth drops open), so the build needs no
photo and no download. The FOMM figures need *trained* weights: an untrained model puts its
keypoints and motion anywhere, and a picture of that would teach something false. With a
checkpoint (``site/build.py --fomm-checkpoint FILE``: a published ``vox-cpk.pth.tar`` or one the
kit trained) they are drawn from it, otherwise from the small FOMM the kit ships; a version
without either leaves them out with a note, and the strip shows the kit's training-free landmark
warp instead, labelled as such.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .snippets import Figure, NotDrawn

#: A FOMM checkpoint to draw from (``--fomm-checkpoint``); None: the shipped small FOMM, if any.
CHECKPOINT: Path | None = None

FOMM_SNIPPETS = ("fig_fomm_keypoints", "fig_fomm_motion", "fig_fomm_occlusion")


def synthetic_faces(size: int, frames: int = 24) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A still source face and a driving video of another identity, with MTCNN-style 5 points.

    Returns source ``(S, S, 3)`` uint8, driving ``(N, S, S, 3)`` uint8, and their five landmarks
    (eye centres, nose tip, mouth corners) in pixels: ``(5, 2)`` and ``(N, 5, 2)``.
    """
    from deepfakelab.heads import FaceState, Identity, render_frame, render_video, surprise

    def five(landmarks: np.ndarray) -> np.ndarray:  # iBUG-68 -> MTCNN's 5 points
        return np.stack(
            [landmarks[36:42].mean(0), landmarks[42:48].mean(0), landmarks[30], landmarks[48], landmarks[54]]
        )

    source = render_frame(Identity.sample(3, accessory_rate=0.0), FaceState(), size)
    video = render_video(Identity.sample(8, accessory_rate=0.0), surprise(frames, seed=1), size)
    driving = np.stack([frame.image for frame in video])
    return source.image, driving, five(source.landmarks), np.stack([five(frame.landmarks) for frame in video])


def landmark_strip(out_dir: Path, size: int) -> Figure:
    """The reenacted strip made by the training-free landmark warp."""
    from deepfakelab.reenact.methods import reenactor
    from deepfakelab.reenact.views import save_strip

    source, driving, source_points, driving_points = synthetic_faces(size)
    frames = reenactor("landmark-warp")(
        source, driving, source_points=source_points, driving_points=driving_points, initial=0
    ).frames
    path = save_strip(out_dir / "reenact_strip.png", source, driving, frames, columns=6)
    return Figure(
        "fig_reenact_strip",
        path,
        "A source face, driving frames, and the reenacted result of the landmark warp",
        "A reenacted strip drawn when this site was built: the source (left), driving frames of "
        "another synthetic person (top) and the results (bottom). **This is the kit's training-free "
        "landmark warp, not FOMM** (no trained FOMM weights were given to this build): it moves the "
        "five landmarks and bends the photo along, so the head moves but the mouth cannot open "
        "and no teeth appear. Compare with what the occlusion-aware generator adds.",
    )


def fomm_figures(
    model, out_dir: Path, weights: str, size: int | None = None, frames: int = 24
) -> list[Figure]:
    """Keypoints, motion field, occlusion map and a reenacted strip, from ``model``'s own outputs.

    ``size`` is the frame side the model expects (default: 256 for vox-256-like models, 64 for
    the kit's small config)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch

    from deepfakelab.reenact.fomm.animate import animate_with_keypoints, to_frames_tensor, to_image_tensor
    from deepfakelab.reenact.fomm.modules.blocks import make_coordinate_grid
    from deepfakelab.reenact.fomm.motion_transfer import transfer_motion
    from deepfakelab.reenact.views import draw_points, keypoints_to_pixels, save_strip

    size = size or _model_size(model)
    source, driving, _, _ = synthetic_faces(size, frames)
    anim = animate_with_keypoints(
        source, driving, model, relative=True, adapt_movement_scale=True, progress=False
    )
    result = (anim.frames.permute(0, 2, 3, 1).clamp(0, 1).numpy() * 255).round().astype(np.uint8)
    peak = int((anim.kp_driving - anim.kp_driving[0]).abs().sum(dim=(1, 2)).argmax())
    peak = max(peak, 1)
    shown = [0, peak // 2, peak]
    figures = []

    # Keypoints on the source and on driving frames.
    fig, axes = plt.subplots(1, 1 + len(shown), figsize=(2.6 * (1 + len(shown)), 2.9))
    axes[0].imshow(draw_points(source, keypoints_to_pixels(anim.kp_source.numpy(), size)))
    axes[0].set_title("source", fontsize=9)
    for ax, index in zip(axes[1:], shown):
        ax.imshow(draw_points(driving[index], keypoints_to_pixels(anim.kp_driving[index].numpy(), size)))
        ax.set_title(f"driving frame {index}", fontsize=9)
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    path = out_dir / "fomm_keypoints.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    figures.append(
        Figure(
            "fig_fomm_keypoints",
            path,
            "FOMM keypoints on a source face and on driving frames",
            f"The keypoints FOMM's keypoint detector finds ({anim.kp_source.shape[0]} here, one colour "
            f"each) on the source and on three driving frames. Model: {weights}. Nobody told the model "
            "where to put them; each colour follows the same part of the face from frame to frame.",
        )
    )

    # One frame through the model, keeping the dense motion and the occlusion map.
    with torch.inference_mode():
        src = to_image_tensor(source)
        frames = to_frames_tensor(driving)
        kp_source = model.kp_detector(src)
        kp_driving = model.kp_detector(frames[[0, peak]])
        kp_norm = transfer_motion(kp_source, kp_driving.take(1), kp_driving.take(0), True, True)
        out = model.generator(src, kp_driving=kp_norm, kp_source=kp_source)
    deformation = out.motion.deformation[0].numpy()  # (h, w, 2): source position of each output pixel
    h, w = deformation.shape[:2]
    grid = make_coordinate_grid(h, w).numpy()
    step = max(1, h // 16)
    ys, xs = np.mgrid[0:h:step, 0:w:step]
    to_px = (size - 1) / 2
    fig, axes = plt.subplots(1, 3, figsize=(9, 3.2))
    axes[0].imshow(driving[peak])
    axes[0].set_title(f"driving frame {peak}", fontsize=9)
    axes[1].imshow(source)
    src_xy = (deformation[ys, xs] + 1) * to_px
    out_xy = (grid[ys, xs] + 1) * to_px
    axes[1].quiver(
        src_xy[..., 0],
        src_xy[..., 1],
        out_xy[..., 0] - src_xy[..., 0],
        out_xy[..., 1] - src_xy[..., 1],
        color="yellow",
        angles="xy",
        scale_units="xy",
        scale=1,
        width=0.004,
    )
    axes[1].set_title("motion: where source pixels go", fontsize=9)
    axes[2].imshow((out.deformed[0].permute(1, 2, 0).clamp(0, 1).numpy() * 255).astype(np.uint8))
    axes[2].set_title("source warped by the motion", fontsize=9)
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    path = out_dir / "fomm_motion.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    figures.append(
        Figure(
            "fig_fomm_motion",
            path,
            "A dense motion field from FOMM",
            f"The dense motion field for driving frame {peak}: each arrow starts where a pixel's colour "
            "is taken from in the source and ends where it lands in the output. Right: the source "
            f"image warped by this field, before the generator repairs it. Model: {weights}.",
        )
    )

    occlusion = out.occlusion_map[0, 0].numpy()
    prediction = (out.prediction[0].permute(1, 2, 0).clamp(0, 1).numpy() * 255).astype(np.uint8)
    fig, axes = plt.subplots(1, 3, figsize=(9, 3.2))
    axes[0].imshow(source)
    axes[0].set_title("source", fontsize=9)
    shown_map = axes[1].imshow(occlusion, cmap="gray", vmin=0, vmax=1)
    axes[1].set_title("occlusion map (1 = visible in source)", fontsize=9)
    fig.colorbar(shown_map, ax=axes[1], fraction=0.046)
    axes[2].imshow(prediction)
    axes[2].set_title("generated frame (synthetic)", fontsize=9)
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    path = out_dir / "fomm_occlusion.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    figures.append(
        Figure(
            "fig_fomm_occlusion",
            path,
            "FOMM's occlusion map and the generated frame",
            f"The occlusion map for the same frame ({occlusion.shape[0]} × {occlusion.shape[1]}; mean "
            f"{occlusion.mean():.2f}): dark where the warped source cannot be trusted and the generator "
            f"must paint in. Model: {weights}.",
        )
    )

    path = save_strip(out_dir / "reenact_strip.png", source, driving, result, columns=6)
    figures.append(
        Figure(
            "fig_reenact_strip",
            path,
            "A source face, driving frames, and the FOMM result",
            f"A reenactment drawn when this site was built: the source (left), driving frames of another "
            f"synthetic person (top), and FOMM's output with relative motion (bottom). Model: {weights}.",
        )
    )
    return figures


def _model_size(model) -> int:
    """The frame side a model is meant for: 256 for vox-256, 64 for the kit's small config."""
    expansion = model.config.to_dict().get("kp_detector_params", {}).get("block_expansion", 32)
    return 256 if expansion >= 32 else 64


def make(out_dir: Path, quick: bool) -> list[Figure | NotDrawn]:
    from deepfakelab.reenact.fomm.checkpoint import load_model
    from deepfakelab.reenact.fomm.checkpoint import SHIPPED_WEIGHTS, shipped_model

    if CHECKPOINT is not None:
        return fomm_figures(load_model(CHECKPOINT), out_dir, f"`{Path(CHECKPOINT).name}`")
    model = shipped_model()
    if model is None:
        reason = (
            "no trained FOMM weights were given to this build, and an untrained model's keypoints "
            "and motion mean nothing. Build the site with `--fomm-checkpoint FILE` (a published "
            "`vox-cpk.pth.tar`, or weights the kit trained) to draw it."
        )
        return [NotDrawn(name, reason) for name in FOMM_SNIPPETS] + [
            landmark_strip(out_dir, 96 if quick else 128)
        ]
    return fomm_figures(
        model, out_dir, f"the kit's small FOMM (`deepfakelab/{SHIPPED_WEIGHTS}`, trained on synthetic heads)"
    )
