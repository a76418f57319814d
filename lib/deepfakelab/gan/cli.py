"""``deepfakelab gan ...``: train, resume, sample, evaluate and compare DCGANs on bags."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import yaml

from ..datafiles import read_yaml_file
from ..errors import ConfigError
from ..media.files import check_output_file, check_output_folder


def _parse_value(text: str) -> Any:
    return yaml.safe_load(text)


def _read_yaml(path: str, what: str) -> Any:
    """A YAML (or JSON) file's content, or one error line that names the file and the problem."""
    return read_yaml_file(path, what)


def _config_file(args: argparse.Namespace) -> dict | None:
    """The --config file's mapping (None without --config), read before any data or training."""
    if not getattr(args, "config", None):
        return None
    data = _read_yaml(args.config, "config")
    if not isinstance(data, dict):
        raise ConfigError(
            f"{args.config}: must hold a mapping of config fields (as a run's config.json does), "
            f"found {type(data).__name__}"
        )
    return data


def _parse_assignment(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise ConfigError(f"--set expects KEY=VALUE (e.g. train.lr=0.001), got {text!r}")
    key, value = text.split("=", 1)
    return key.strip(), _parse_value(value)


def add_data_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("data")
    group.add_argument(
        "--data",
        metavar="PATH",
        help="Fashion-MNIST IDX folder (or torchvision root), or a folder of bag photos",
    )
    group.add_argument(
        "--source",
        default="auto",
        choices=["auto", "fashion-mnist", "folder", "procedural"],
        help="where bags come from; auto: Fashion-MNIST if installed, else procedural (default: %(default)s)",
    )
    group.add_argument("--image-size", type=int, help="resize the data to this size (28 and 64 have presets)")
    group.add_argument("--channels", type=int, choices=[1, 3], help="1 for grey, 3 for colour")


def add_config_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "model and recipe (defaults: the classic DCGAN recipe for the data's size)"
    )
    group.add_argument(
        "--config", metavar="FILE", help="a JSON or YAML config (as written to a run's config.json)"
    )
    group.add_argument("--epochs", type=int, help="passes over the training data (default 20)")
    group.add_argument("--batch-size", type=int, help="images per step (default 128)")
    group.add_argument("--lr", type=float, help="Adam learning rate for both networks (default 0.0002)")
    group.add_argument("--beta1", type=float, help="Adam beta1 (default 0.5)")
    group.add_argument("--z-dim", type=int, help="length of the noise vector (default 64)")
    group.add_argument(
        "--output-activation", choices=["tanh", "sigmoid"], help="generator output (default tanh)"
    )
    group.add_argument("--g-extra-blocks", type=int, help="size-preserving blocks added to the generator")
    group.add_argument("--d-extra-blocks", type=int, help="size-preserving blocks added to the discriminator")
    group.add_argument("--dropout", type=float, help="dropout probability in every discriminator block")
    group.add_argument(
        "--no-batch-norm", action="store_true", help="remove batch norm from every block of both networks"
    )
    group.add_argument("--max-steps-per-epoch", type=int, help="cut epochs short (quick runs)")
    group.add_argument("--seed", type=int, help="random seed (default 0): same seed, same run on the CPU")
    group.add_argument("--device", help="auto (default), cpu or cuda")
    group.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any scalar config field by dotted name, e.g. --set train.keep_checkpoints=5; repeatable",
    )


def build_config(args: argparse.Namespace, image_size: int, channels: int, loaded: dict | None = None):
    """The config from the preset for the data, a --config file (``loaded``: already read by
    :func:`_config_file`), then the command-line changes."""
    from .config import GANConfig, default_config

    loaded = loaded if loaded is not None else _config_file(args)
    if loaded is not None:
        try:
            config = GANConfig.from_dict(loaded)
        except ConfigError as exc:
            raise ConfigError(f"{args.config}: {exc}") from None
    else:
        config = default_config(image_size, channels)
    changes: dict[str, Any] = {}
    for flag, key in (
        ("epochs", "train.epochs"),
        ("batch_size", "train.batch_size"),
        ("lr", "train.lr"),
        ("beta1", "train.beta1"),
        ("z_dim", "generator.z_dim"),
        ("output_activation", "generator.output_activation"),
        ("g_extra_blocks", "generator.extra_blocks"),
        ("d_extra_blocks", "discriminator.extra_blocks"),
        ("max_steps_per_epoch", "train.max_steps_per_epoch"),
        ("seed", "train.seed"),
        ("device", "train.device"),
    ):
        value = getattr(args, flag, None)
        if value is not None:
            changes[key] = value
    changes.update(dict(_parse_assignment(s) for s in args.set))
    config = config.replace(**changes)
    if args.dropout is not None:
        for block in config.discriminator.blocks:
            block.dropout = args.dropout
    if args.no_batch_norm:
        for block in config.generator.blocks + config.discriminator.blocks:
            block.batch_norm = False
    return config.validate()


def _load_data(args: argparse.Namespace):
    from .data import load_bags

    data = load_bags(args.source, args.data, args.image_size, args.channels)
    print(f"data: {data.description}")
    return data


#: Picture files the sample and preview grids are written as (torchvision's save_image, via PIL).
PICTURE_SUFFIXES = {".png", ".jpg", ".jpeg"}


def _check_picture(path: str) -> Path:
    return check_output_file(path, PICTURE_SUFFIXES, "picture")


def _train(args: argparse.Namespace) -> int:
    from .training import check_run_folder, train

    from .data import check_data_path

    loaded = _config_file(args)  # every input and the run folder are checked before the data is loaded
    check_data_path(args.data)
    check_run_folder(args.out, resume=not args.fresh)
    data = _load_data(args)
    config = build_config(args, data.image_size, data.channels, loaded)
    result = train(config, data.train, args.out, resume=not args.fresh)
    last = result.epochs[-1]
    print(
        f"\nfinished {last['epoch']} epochs in {result.seconds:.0f} s ({result.images_per_second:.0f} images/s); "
        f"last epoch: D loss {last['d_loss']:.3f}, G loss {last['g_loss']:.3f}, D(x) {last['d_real']:.2f}, D(G(z)) {last['d_fake']:.2f}"
    )
    for label, path in result.files.items():
        print(f"  {label}: {path}")
    if args.evaluate:
        _print_quality(result.run_dir, data)
    return 0


def _quality_file(run: Path) -> Path:
    """Where ``evaluate`` writes its table: quality.md in a run folder, NAME.quality.md beside a checkpoint."""
    return run / "quality.md" if run.is_dir() else run.with_name(f"{run.stem}.quality.md")


def _print_quality(run: Path, data) -> None:
    from .quality import BagQuality, quality_table
    from .sweep import generate_for_scoring
    from .training import TrainResult, load_run

    _, config = load_run(run)
    quality = BagQuality(data.train, data.test)
    generated = generate_for_scoring(TrainResult(Path(run), [], []), config)
    table = quality_table(quality.calibration() + [quality.score(f"generated ({Path(run).name})", generated)])
    _quality_file(Path(run)).write_text(table + "\n")
    print(table)
    print(f"  written to {_quality_file(Path(run))}")


def _evaluate(args: argparse.Namespace) -> int:
    from .training import load_run

    from .data import check_data_path

    run = Path(args.run)
    load_run(run)  # a missing or corrupt checkpoint is named before the data and the scoring
    check_data_path(args.data)
    check_output_file(_quality_file(run), {".md"}, "quality table")
    _print_quality(run, _load_data(args))
    return 0


def _sample(args: argparse.Namespace) -> int:
    import torch
    from torchvision.utils import make_grid

    from ..provenance.marking import save_marked_image
    from .training import generate, load_run

    out = _check_picture(args.output)
    generator, config = load_run(args.run, device=args.device)
    noise = torch.randn(args.n, config.generator.z_dim, generator=torch.Generator().manual_seed(args.seed))
    images = generate(generator, noise.to(next(generator.parameters()).device), config)
    grid = make_grid(images, nrow=args.nrow or max(1, int(args.n**0.5)), padding=2, pad_value=1.0)
    # torchvision's save_image conversion, then the kit's marks: generated pictures say so (issue 30);
    # the label band below the grid carries the watermark, which tiny samples leave no room for
    pixels = grid.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to("cpu", torch.uint8).numpy()
    save_marked_image(out, pixels, band=True)
    print(f"{args.n} samples written to {out} (watermarked, C2PA-signed)")
    return 0


def _variants(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The sweep's variants from --runs, --vary or the default set (read before any data)."""
    from .sweep import DEFAULT_VARIANTS, grid

    if args.runs:
        variants = _read_yaml(args.runs, "list of runs")
        if not isinstance(variants, list) or not all(isinstance(v, dict) for v in variants):
            raise ConfigError(
                f"{args.runs}: must hold a list of mappings of dotted config names to values, "
                "e.g. [{train.lr: 0.001}, {generator.z_dim: 16}]"
            )
        return variants
    if args.vary:
        axes: dict[str, list[Any]] = {}
        for text in args.vary:
            key, values = _parse_assignment(text)
            axes[key] = values if isinstance(values, list) else [values]
        return grid(axes)
    return DEFAULT_VARIANTS


def _sweep(args: argparse.Namespace) -> int:
    from .sweep import run_folder, run_sweep
    from .training import check_run_folder

    from .data import check_data_path

    loaded = _config_file(args)
    variants = _variants(args)
    check_data_path(args.data)
    check_output_folder(args.out)
    for number in range(1, len(variants) + 1):  # a run to resume must be resumable before any training
        check_run_folder(run_folder(args.out, number))
    data = _load_data(args)
    base = build_config(args, data.image_size, data.channels, loaded)
    for changes in variants:  # fail on a bad variant before training anything
        base.replace(**changes).validate()
    records = run_sweep(base, variants, data, args.out)
    print((Path(args.out) / "runs.md").read_text())
    print(f"table: {Path(args.out) / 'runs.md'} (and runs.csv); figure: {Path(args.out) / 'runs.png'}")
    return 0 if records else 1


def _classifier(args: argparse.Namespace) -> int:
    from .classifier import save_classifier, train_classifier

    out = check_output_file(args.out, {".pt"}, "classifier")  # before the minutes of training
    model, info = train_classifier(args.data, epochs=args.epochs, seed=args.seed)
    info["command"] = f"deepfakelab gan classifier --epochs {args.epochs} --seed {args.seed} --out {args.out}"
    out.parent.mkdir(parents=True, exist_ok=True)
    save_classifier(model, info, out)
    print(json.dumps(info, indent=2))
    print(f"classifier written to {out}")
    return 0


def _data(args: argparse.Namespace) -> int:
    from torchvision.utils import save_image

    from .data import check_data_path

    check_data_path(args.data)
    out = _check_picture(args.output)
    data = _load_data(args)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_image(data.train[:64], out, nrow=8, padding=2, pad_value=1.0)
    print(f"{len(data.train)} training images of shape {tuple(data.train.shape[1:])}; preview: {out}")
    return 0


def register(subparsers) -> None:
    """The ``gan`` command and its subcommands.

    Long because it is one flat list of the subcommands and their options, in the order
    ``deepfakelab gan --help`` lists them."""
    gan = subparsers.add_parser(
        "gan",
        help="Lab 2: DCGANs that make bags",
        description="Train, sample, evaluate and compare DCGANs on bag images.",
    )
    commands = gan.add_subparsers(dest="gan_command", metavar="COMMAND")

    p = commands.add_parser(
        "train",
        help="train a DCGAN (resumes a half-finished run in --out)",
        description="Train a DCGAN on bags. A run folder holds config.json, history.csv, "
        "losses.png, samples/ and checkpoints/; running again with the same --out resumes.",
    )
    add_data_options(p)
    add_config_options(p)
    p.add_argument("--out", default="runs/gan", help="run folder (default: %(default)s)")
    p.add_argument("--fresh", action="store_true", help="ignore (and delete) checkpoints already in --out")
    p.add_argument("--evaluate", action="store_true", help="score the result with the offline quality metric")
    p.set_defaults(func=_train)

    p = commands.add_parser(
        "sweep",
        help="train several configs and compare them in one table and figure",
        description="Train a base config plus variants and write runs.md / runs.csv / runs.png. "
        "Without --runs or --vary, a default set of one-change-at-a-time experiments.",
    )
    add_data_options(p)
    add_config_options(p)
    p.add_argument(
        "--runs",
        metavar="FILE",
        help="YAML/JSON list of variants, e.g. [{train.lr: 0.001}, {generator.z_dim: 16}]",
    )
    p.add_argument(
        "--vary",
        action="append",
        metavar="KEY=[V1,V2]",
        help="a grid axis, e.g. --vary train.lr=[0.001,0.0002]; repeatable",
    )
    p.add_argument("--out", default="runs/sweep", help="sweep folder (default: %(default)s)")
    p.set_defaults(func=_sweep)

    p = commands.add_parser(
        "sample",
        help="draw images from a trained generator",
        description="Draw a grid of samples from a run folder or checkpoint file.",
    )
    p.add_argument("run", help="run folder or checkpoint file")
    p.add_argument("-o", "--output", default="samples.png", help="PNG file to write (default: %(default)s)")
    p.add_argument("-n", type=int, default=64, help="number of samples (default: %(default)s)")
    p.add_argument("--nrow", type=int, help="images per row of the grid")
    p.add_argument("--seed", type=int, default=0, help="noise seed (default: %(default)s)")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    p.set_defaults(func=_sample)

    p = commands.add_parser(
        "evaluate",
        help="score a trained generator with the offline quality metric",
        description="Domain FD, KID, coverage of the real bags and near-copies, calibrated against "
        "real bags (floor), blurred real bags (ceiling) and noise.",
    )
    p.add_argument("run", help="run folder or checkpoint file")
    add_data_options(p)
    p.set_defaults(func=_evaluate)

    p = commands.add_parser(
        "classifier", help="retrain the Fashion-MNIST classifier behind the quality metric"
    )
    p.add_argument("--data", help="Fashion-MNIST folder (default: the Debian package's)")
    p.add_argument("--epochs", type=int, default=3, help="training epochs (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    p.add_argument("--out", default="fashion_classifier.pt", help="file to write (default: %(default)s)")
    p.set_defaults(func=_classifier)

    p = commands.add_parser("data", help="say which bag data would be used, and save a preview grid")
    add_data_options(p)
    p.add_argument(
        "-o", "--output", default="outputs/bags-preview.png", help="preview PNG (default: %(default)s)"
    )
    p.set_defaults(func=_data)

    gan.set_defaults(func=lambda args: gan.print_help() or 1)
