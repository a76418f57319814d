"""``deepfakelab demo`` (issue #29): the deepfake first, the GAN in the time left, one page of results.

The fast tests stand each part in with a stub that writes tiny files, so the order, the budget
arithmetic and ``index.html`` are checked in a second; the slow one runs the real ``--quick`` demo.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest
import torch
from deepfakelab.cli import main
from deepfakelab.demos import gan as gan_demo, runner as demo


class _Links(HTMLParser):
    """Every ``src`` and ``href`` on a page."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.links += [value for name, value in attrs if name in ("src", "href")]


def _links(page: Path) -> list[str]:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.links


def _assert_page_links_exist(out: Path) -> list[str]:
    links = _links(out / "index.html")
    assert links, "the page links nothing"
    for link in links:
        assert "://" not in link and not link.startswith("/"), f"not a relative, offline link: {link}"
        assert (out / unquote(link)).is_file(), f"index.html links {link}, which does not exist"
    return links


def _stub_parts(monkeypatch, calls: list):
    """Replace each part's ``run`` with one that writes a tiny file of each kind the page shows."""
    from deepfakelab.demos import detect as detect_demo, reenact as reenact_demo

    def reenact(out_dir, quick=False):
        calls.append(("reenact", {}))
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "a <fake> & clip.mp4").write_bytes(b"\0")
        (out_dir / "strip.png").write_bytes(b"\0")
        return {
            "files": {
                "reenacted <script>": str(out_dir / "a <fake> & clip.mp4"),
                "strip": str(out_dir / "strip.png"),
            },
            "method": "mesh-warp <b>",
            "driving": "a head",
            "notes": [],
        }

    def detect(out_dir, quick=False):
        calls.append(("detect", {}))
        (out_dir / "inputs").mkdir(parents=True, exist_ok=True)
        (out_dir / "report.html").write_text("<html></html>")
        (out_dir / "inputs" / "real_0.mp4").write_bytes(b"\0")
        return {
            "files": {"report": str(out_dir / "report.html")},
            "p_fake": {"real_0.mp4": 0.1, "a <fake> & clip.mp4": 0.9},
        }

    def gan(out_dir, quick=False, **options):
        calls.append(("gan", options))
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in ("losses.png", "samples.png", "quality.md"):
            (out_dir / name).write_text("| images | FD |")
        return {
            "epochs": 1,
            "data": "bags",
            "epochs_chosen": "GAN: 1 epoch",
            "files": {
                "loss curves": out_dir / "losses.png",
                "samples": out_dir / "samples.png",
                "quality table": out_dir / "quality.md",
            },
        }

    monkeypatch.setattr(reenact_demo, "run", reenact)
    monkeypatch.setattr(detect_demo, "run", detect)
    monkeypatch.setattr(gan_demo, "run", gan)


def test_the_deepfake_comes_first_and_one_page_links_every_result(tmp_path, monkeypatch, capsys):
    calls: list = []
    _stub_parts(monkeypatch, calls)
    demo.run_demo(tmp_path, quick=True)
    printed = capsys.readouterr().out
    titles = re.findall(r"^=== (.*) ===$", printed, re.MULTILINE)
    assert titles == [
        "Lab 1: reenactment",
        "Lab 1: detection and explanation",
        "Lab 2: a DCGAN that makes bags",
    ]
    assert [name for name, _ in calls] == ["reenact", "detect", "gan"]
    assert f"results so far, updated after each part: {tmp_path / 'index.html'}" in printed

    links = _assert_page_links_exist(tmp_path)
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "reenact/a%20%3Cfake%3E%20%26%20clip.mp4" in links  # played, by a quoted relative path
    assert "<video controls" in page and "detect/report.html" in links and "gan/losses.png" in links
    assert "gan/samples.png" in links and "reenact/strip.png" in links
    assert "<script>" not in page and "<b>" not in page and "reenacted &lt;script&gt;" in page
    assert "REAL: fake 10 % / real 90 %" in page and "FAKE: fake 90 % / real 10 %" in page
    assert "detect/inputs/real_0.mp4" in links  # each verdict links its video
    assert "http" not in page  # offline: no CDN, no external fonts


def test_a_page_written_before_the_gan_ends_says_what_is_still_to_come(tmp_path, monkeypatch):
    _stub_parts(monkeypatch, [])
    demo.run_demo(tmp_path, quick=True, parts=["reenact", "gan"])
    from deepfakelab.demos.page import write_index

    summary = {"reenact": json.loads((tmp_path / "summary.json").read_text())["reenact"]}
    write_index(tmp_path, [("reenact", "Lab 1"), ("gan", "Lab 2")], summary)
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "Not finished yet" in page and "detection" not in page.lower()
    _assert_page_links_exist(tmp_path)


def test_the_gan_gets_what_the_budget_leaves_unless_told_its_epochs(tmp_path, monkeypatch):
    calls: list = []
    _stub_parts(monkeypatch, calls)
    monkeypatch.setattr(demo, "probe_speed", lambda: 4.0)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    threads = torch.get_num_threads()
    try:
        demo.run_demo(tmp_path / "budget")
        demo.run_demo(tmp_path / "told", gan_epochs=3)
    finally:
        torch.set_num_threads(threads)
    budgeted, told = [options for name, options in calls if name == "gan"]
    seconds, rate = budgeted["budget"]
    assert rate == 4.0 and demo.DEMO_SECONDS - 30 < seconds <= demo.DEMO_SECONDS  # stubs take no time
    assert told == {"epochs": 3}


def test_epochs_are_whole_epochs_that_fit_at_least_one_at_most_the_full_run():
    assert gan_demo.choose_epochs(90.0, 46 / 12.4, 46) == 7  # 1 epoch = 12.4 s
    assert gan_demo.choose_epochs(5.0, 1.0, 46) == 1  # a slow machine still trains one epoch
    assert gan_demo.choose_epochs(-20.0, 1.0, 46) == 1
    assert gan_demo.choose_epochs(1e6, 100.0, 46) == gan_demo.DEMO_EPOCHS
    assert gan_demo.budget_line(7, 90.0, 46 / 12.4, 46) == (
        "GAN: 7 epochs fit the 90 s budget on this machine (1 epoch = 46 steps = 12.4 s at the 3.71 steps/s "
        "a 1 s probe measured)"
    )
    assert "1 epoch (the least the demo trains), over the 5 s budget" in gan_demo.budget_line(1, 5.0, 1.0, 46)
    with pytest.raises(ValueError):
        gan_demo.choose_epochs(90.0, 0.0, 46)


@pytest.mark.parametrize("bad", ["0", "-3", "two", "1.5"])
def test_gan_epochs_must_be_a_whole_number_of_at_least_one(bad, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["demo", "--out", str(tmp_path / "out"), "--gan-epochs", bad])
    assert exit_.value.code == 2
    assert (
        f"argument --gan-epochs: expected a whole number of epochs, at least 1, not '{bad}'"
        in capsys.readouterr().err
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_the_quick_demo_writes_a_page_whose_every_link_exists(tmp_path, capsys):
    demo.run_demo(tmp_path, quick=True)
    titles = re.findall(r"^=== (.*) ===$", capsys.readouterr().out, re.MULTILINE)
    assert titles == [
        "Lab 1: reenactment",
        "Lab 1: detection and explanation",
        "Lab 2: a DCGAN that makes bags",
    ]
    links = _assert_page_links_exist(tmp_path)
    assert any(link.endswith(".mp4") for link in links) and "gan/run/losses.png" in links


def test_the_epoch_clock_stops_after_an_epoch_only_when_the_next_would_end_past_the_deadline():
    import time

    on_time = gan_demo.EpochClock(time.perf_counter() + 1000, last_epoch=5)
    on_time(1, {})  # plenty of time left: no stop
    late = gan_demo.EpochClock(time.perf_counter() - 1, last_epoch=5)
    with pytest.raises(gan_demo.OutOfTime) as stop:
        late(3, {})
    assert stop.value.epoch == 3 and stop.value.epoch_seconds >= 0
    gan_demo.EpochClock(time.perf_counter() - 1, last_epoch=5)(5, {})  # the last epoch ends the run anyway


def test_a_training_stopped_by_the_clock_ends_as_a_run_of_the_epochs_done(tmp_path):
    import time

    from deepfakelab.gan.config import default_config
    from deepfakelab.gan.training import read_history

    images = torch.rand(256, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    config = default_config(28, 1).replace(
        **{"train.device": "cpu", "train.epochs": 3, "train.max_steps_per_epoch": 1}
    )
    result, done, stop = gan_demo._train_within(
        config, images, tmp_path / "run", deadline=time.perf_counter() - 1
    )
    assert stop.epoch == 1 and done.train.epochs == 1
    assert result.epochs[-1]["epoch"] == 1 and {row["epoch"] for row in read_history(tmp_path / "run")} == {1}
    assert result.files["losses"].is_file() and result.files["samples"].is_file()
    assert "stopped after 1 of 3 epochs" in gan_demo.stopped_line(stop, 3, 12.4)
