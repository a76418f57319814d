"""Command-line options of FOMM training, shared by ``deepfakelab reenact-train`` and ``python -m
deepfakelab.reenact.fomm.training`` (what ``torchrun`` starts); free of heavy imports so ``--help``
is fast."""

from __future__ import annotations

import argparse


def add_training_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument(
        "config", help="FOMM YAML with model_params and train_params, or a built-in name (fomm-small-64)"
    )
    parser.add_argument(
        "--out",
        required=True,
        help="run folder: checkpoints, log.jsonl, validation strips; resumes if present",
    )
    parser.add_argument("--steps", type=int, help="override train_params.steps")
    parser.add_argument("--batch-size", type=int, help="override train_params.batch_size (per process)")
    parser.add_argument(
        "--workers",
        type=int,
        help="override train_params.num_workers: data-rendering processes "
        "(1 suits 2 CPU cores; a GPU wants one per free core)",
    )
    parser.add_argument(
        "--vgg-weights",
        help="torchvision VGG-19 weights (.pth) for the paper's perceptual loss; "
        "without them the loss is pixel L1 over the image pyramid",
    )
    parser.add_argument(
        "--device", default="auto", help="auto, cpu or cuda (torchrun picks one GPU per process)"
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="torch CPU threads per process (0: torch's default)"
    )
    parser.add_argument(
        "--export",
        metavar="FILE",
        help="after training, also write the weights alone (no optimiser "
        "state, float16) to FILE: how the kit's shipped weights are made",
    )
    return parser
