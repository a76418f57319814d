"""Metric code against values computed by hand."""

from __future__ import annotations

import pytest

from deepfakelab.detect.metrics import auc, average_precision, eer, evaluate, video_scores

LABELS = [0, 0, 1, 1]
SCORES = [0.1, 0.4, 0.35, 0.8]


def test_auc_by_hand():
    # fake/real pairs: (0.35>0.1) (0.35<0.4) (0.8>0.1) (0.8>0.4): 3 of 4
    assert auc(LABELS, SCORES) == pytest.approx(0.75)
    assert auc([0, 1], [0.5, 0.5]) == pytest.approx(0.5)  # a tie counts one half


def test_average_precision_by_hand():
    # ranked: 0.8 fake (P=1, R=.5), 0.4 real, 0.35 fake (P=2/3, R=1): .5*1 + .5*2/3
    assert average_precision(LABELS, SCORES) == pytest.approx(0.5 + 1 / 3)


def test_eer_by_hand():
    # threshold 0.4: one of two reals above (FPR .5), one of two fakes below (FNR .5)
    assert eer(LABELS, SCORES) == pytest.approx(0.5)
    assert eer([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == pytest.approx(0.0)
    # 3 real, 1 fake: FNR falls 1 -> 0 while FPR goes 0 -> 1/3; interpolated crossing
    assert eer([0, 0, 0, 1], [0.1, 0.2, 0.7, 0.6]) == pytest.approx(1 / 3)


def test_video_scores_are_frame_means():
    ids, labels, scores = video_scores(["a", "a", "b", "b"], [0, 0, 1, 1], [0.2, 0.4, 0.9, 0.5])
    assert ids == ["a", "b"] and labels.tolist() == [0, 1]
    assert scores == pytest.approx([0.3, 0.7])


def test_evaluate_row():
    row = evaluate(["a", "a", "b", "b", "c", "c"], [0, 0, 1, 1, 1, 1], [0.2, 0.6, 0.5, 0.9, 0.1, 0.3])
    # frames: 8 pairs, wins: .5>.2, .9>.2, .9>.6, .3>.2 = 4 of 8
    assert row.frame_auc == pytest.approx(0.5)
    # videos: a .4 real, b .7 fake, c .2 fake -> 1 of 2
    assert row.video_auc == pytest.approx(0.5)
    assert (row.frames, row.videos) == (6, 3)


def test_one_class_is_an_error():
    with pytest.raises(ValueError, match="both real"):
        auc([1, 1], [0.2, 0.3])
    with pytest.raises(ValueError, match="both real and fake"):
        video_scores(["a", "a"], [0, 1], [0.1, 0.2])
