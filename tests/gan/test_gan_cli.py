"""The ``deepfakelab gan`` command: help texts, a tiny train/sample/sweep cycle, clear errors."""

import subprocess
import sys

import pytest

from deepfakelab.cli import build_parser, main


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "deepfakelab", *args], capture_output=True, text=True, timeout=300
    )


def test_every_train_option_has_help(capsys):
    parser = build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["gan", "train", "--help"])
    text = capsys.readouterr().out
    for option in (
        "--epochs",
        "--batch-size",
        "--lr",
        "--z-dim",
        "--device",
        "--output-activation",
        "--g-extra-blocks",
        "--dropout",
        "--no-batch-norm",
        "--data",
        "--source",
        "--out",
        "--fresh",
    ):
        assert option in text
    gan = next(
        a for a in parser._subparsers._group_actions[0].choices["gan"]._actions if a.dest == "gan_command"
    )
    for name, sub in gan.choices.items():
        for action in sub._actions:
            if action.dest != "help":
                assert action.help, f"gan {name} {action.option_strings or action.dest} has no help"


TINY = ["--source", "procedural", "--epochs", "1", "--max-steps-per-epoch", "2", "--batch-size", "16"]


def test_train_then_sample(tmp_path):
    run = tmp_path / "run"
    assert main(["gan", "train", *TINY, "--out", str(run), "--set", "train.num_samples=4"]) == 0
    assert (run / "losses.png").is_file() and (run / "history.csv").is_file()
    assert main(["gan", "sample", str(run), "-n", "9", "-o", str(tmp_path / "s.png")]) == 0
    from PIL import Image

    # a 3 x 3 grid, then the kit's label band that carries the watermark (deepfakelab.provenance.marking)
    width, height = Image.open(tmp_path / "s.png").size
    assert width == 3 * 30 + 2 and height > 3 * 30 + 2 + 64


def test_bad_config_is_one_clear_line_without_traceback(tmp_path):
    result = run_cli("gan", "train", *TINY, "--out", str(tmp_path), "--set", "generator.z_dim=0")
    assert result.returncode == 2
    assert "deepfakelab: error: generator.z_dim must be positive" in result.stderr
    assert "Traceback" not in result.stderr


def test_sample_from_a_folder_without_checkpoints_is_explained(tmp_path):
    result = run_cli("gan", "sample", str(tmp_path))
    assert result.returncode == 2 and "no checkpoint found in" in result.stderr


def test_sweep_writes_a_run_table(tmp_path):
    assert main(["gan", "sweep", *TINY, "--out", str(tmp_path), "--vary", "train.lr=[0.001,0.0002]"]) == 0
    table = (tmp_path / "runs.md").read_text()
    assert "| 1 | train.lr=0.001 |" in table and "| 2 | train.lr=0.0002 |" in table
    assert "(floor)" in table
    assert (tmp_path / "runs.png").is_file()
    rows = (tmp_path / "runs.csv").read_text().splitlines()
    assert len(rows) == 3 and rows[0].startswith("run,changes,epochs,final_d_loss,final_g_loss")


@pytest.mark.parametrize("flag", ["--config", "--runs"])
def test_missing_or_malformed_files_are_named(tmp_path, flag):
    command = "sweep" if flag == "--runs" else "train"
    result = run_cli(
        "gan", command, *TINY, "--out", str(tmp_path / "o"), flag, str(tmp_path / "missing.yaml")
    )
    assert result.returncode == 2 and "missing.yaml" in result.stderr and "Traceback" not in result.stderr
    (tmp_path / "bad.yaml").write_text("train: [unclosed")
    result = run_cli("gan", command, *TINY, "--out", str(tmp_path / "o"), flag, str(tmp_path / "bad.yaml"))
    assert result.returncode == 2 and "bad.yaml: not valid YAML" in result.stderr
