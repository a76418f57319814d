"""The site's figure jobs, in the order the course teaches: heads, reenactment, detection, GAN.

Each job names the kit modules it calls; the snippet names are what the pages include.
"""

from __future__ import annotations

from . import fig_detect, fig_gan, fig_heads, fig_reenact
from .figures import FigureJob

ALL_JOBS: list[FigureJob] = [
    FigureJob(
        name="heads",
        requires=["deepfakelab.heads.sheet"],
        snippets={
            "fig_heads_sheet": "A contact sheet of the kit's synthetic talking heads",
            "fig_heads_strip": "A strip of a synthetic talking video",
        },
        make=fig_heads.make,
    ),
    FigureJob(
        name="reenact",
        requires=[
            "deepfakelab.heads",
            "deepfakelab.reenact.fomm.animate",
            "deepfakelab.reenact.fomm.checkpoint",
            "deepfakelab.reenact.landmark_warp",
            "deepfakelab.reenact.methods",
            "deepfakelab.reenact.views",
        ],
        snippets={
            "fig_fomm_keypoints": "Keypoints on a face, as FOMM's keypoint detector places them",
            "fig_fomm_motion": "A motion field from FOMM's dense motion network",
            "fig_fomm_occlusion": "An occlusion map from FOMM's dense motion network",
            "fig_reenact_strip": "A reenacted strip (source, driving frames, result)",
        },
        make=fig_reenact.make,
    ),
    FigureJob(
        name="detect",
        requires=[
            "deepfakelab.detect.metrics",
            "deepfakelab.detect.explain",
            "deepfakelab.detect.inference",
            "deepfakelab.fakes.synthetic",
        ],
        snippets={
            "fig_detect_metrics": "An ROC curve with its AUC and EER",
            "fig_detect_cam": "A detector's explainability maps on a face",
        },
        make=fig_detect.make,
    ),
    FigureJob(
        name="gan",
        requires=[
            "deepfakelab.gan.config",
            "deepfakelab.gan.data",
            "deepfakelab.gan.training",
            "deepfakelab.gan.plots",
        ],
        snippets={
            "fig_gan_curves": "The loss curves of a DCGAN run",
            "fig_gan_samples": "Sample grids of a DCGAN run",
            "fig_gan_dwins": "The loss curves of a run in which the discriminator wins",
        },
        make=fig_gan.make,
    ),
]
