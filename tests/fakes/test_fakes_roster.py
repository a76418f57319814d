"""Rosters: a course trains the real-face detector on its own people, split by person as it says.

The shared folder's people are named by the roster the kit ships (read as any other); any other folder names its people in
``persons.csv``. These tests build a face set from real shared files under other names (links in
a temporary folder, nothing copied) with a roster that puts a shared test person in training,
so a roster that were read but not obeyed would fail them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from deepfakelab.cli import main
from deepfakelab.fakes.roster import SHARED_ROSTER, Roster, person_splits
from deepfakelab.errors import DataError

ROSTER = """file,person,split
anna.mp4,Anna,train
anna-again.mp4,Anna,train
ben.mp4,Ben,train
ben.jpg,Ben,train
cleo.mp4,Cleo,val
dev.mp4,Dev,test
"""
#: Our names -> shared files: retalk_1 (shared test person M) becomes the training person Anna.
LINKS = {
    "anna.mp4": "retalk_1.mp4",
    "anna-again.mp4": "retalk_4.mp4",
    "ben.mp4": "d0.mp4",
    "ben.jpg": "s1.jpg",
    "cleo.mp4": "s32.mp4",
    "dev.mp4": "vox_dpe_s.mp4",
}


def write(tmp_path, text, name="persons.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture
def course_folder(real_data, tmp_path):
    folder = tmp_path / "people"
    folder.mkdir()
    for ours, shared in LINKS.items():
        (folder / ours).symlink_to(real_data / shared)
    write(folder, ROSTER)
    return folder


def test_a_roster_names_people_and_their_splits(tmp_path):
    roster = Roster.read(write(tmp_path, "# our course, 2026\n" + ROSTER + "\n"))
    assert roster.persons["anna-again.mp4"] == "Anna" and roster.split_of("Anna") == "train"
    assert roster.files_of("val") == ["cleo.mp4"] and roster.files_of("test") == ["dev.mp4"]
    shared = Roster.shared()
    assert shared.split_of("L") == "test" and shared.split_of("F") == "val"


def test_the_shared_roster_is_a_persons_csv_shipped_in_the_package():
    """The shared videos' people are a roster like any course's, read by the same code."""
    import deepfakelab

    assert SHARED_ROSTER.name.endswith(".csv") and SHARED_ROSTER.is_file()
    assert SHARED_ROSTER.resolve().parent.parent == Path(deepfakelab.__file__).resolve().parent
    shared = Roster.shared()
    assert shared == Roster.read(SHARED_ROSTER)
    assert shared.persons["hdtf_aoc.mp4"] == shared.persons["retalk_3.mp4"] == "K"  # one person, two clips
    assert shared.files_of("test") == [
        "hdtf_kh.mp4",
        "retalk_1.mp4",
        "retalk_4.mp4",
        "retalk_5.mp4",
        "vox_dpe_s.mp4",
    ]
    assert sorted({p for p, s in shared.splits.items() if s == "val"}) == ["F", "J", "N"]
    photos = [f for f in shared.persons if f.endswith(".jpg")]
    assert len(photos) == 6 and all(shared.split_of(shared.persons[f]) == "train" for f in photos)
    shared.persons.clear()  # a caller's copy: the next caller still gets the whole roster
    assert len(Roster.shared().persons) == 25


@pytest.mark.parametrize(
    "text, message",
    [
        ("file,name,split\na.mp4,A,train\n", "header 'file,person,split'"),
        ("", "an empty file"),
        (ROSTER + "e.mp4,Eve,holdout\n", r"row 8: split 'holdout' is not one of train, val, test"),
        (ROSTER + "e.mp4,Anna,test\n", r"row 8: person 'Anna' is in both train and test"),
        (ROSTER + "ben.mp4,Ben,train\n", r"row 8: ben.mp4 is listed twice"),
        (ROSTER + "e.mp4,Eve\n", r"row 8: expected 'file,person,split'"),
        (ROSTER.replace("Dev,test", "Dev,val"), "no person in test"),
    ],
)
def test_every_roster_mistake_is_one_line_naming_the_row(tmp_path, text, message):
    with pytest.raises(DataError, match=message) as info:
        Roster.read(write(tmp_path, text))
    assert "\n" not in str(info.value)


def test_a_folder_needs_a_roster_and_every_listed_file(tmp_path, real_data):
    with pytest.raises(DataError, match=r"no persons.csv and none of the shared real files"):
        Roster.for_folder(tmp_path)
    write(tmp_path, ROSTER)
    with pytest.raises(DataError, match=r"6 listed file\(s\) not in .*anna.mp4"):
        Roster.for_folder(tmp_path)
    assert Roster.for_folder(real_data) == Roster.shared()  # the shared folder needs none


def test_the_face_set_records_the_roster_and_training_splits_by_it(course_folder, tmp_path):
    from deepfakelab.detect.domain_stats import describe
    from deepfakelab.fakes.faceset import FaceSet
    from deepfakelab.fakes.real import build_real
    from deepfakelab.fakes.roster import real_rows

    out = build_real(
        course_folder,
        tmp_path / "faces.npz",
        size=64,
        frames={"train": 2, "val": 2, "test": 2},
        progress=False,
    )
    faces = FaceSet.load(out)
    assert set(faces.group.tolist()) == {"Anna", "Ben", "Cleo", "Dev"}
    expected = {"Anna": "train", "Ben": "train", "Cleo": "val", "Dev": "test"}
    assert all(split == expected[g] for g, split in zip(faces.group, faces.split))  # fakes too
    splits = person_splits(faces.group, split=faces.split)
    members = {name: set(faces.group[mask].tolist()) for name, mask in splits.items()}
    assert members == {"train": {"Anna", "Ben"}, "val": {"Cleo"}, "test": {"Dev"}}
    assert real_rows(faces).all()
    # Ben's photo is a photo: blended, never a swap donor or a reenactment driver
    photo = faces.video == "ben.jpg"
    assert photo.sum() == 1 and set(faces.kind[faces.source == "ben.jpg#0"].tolist()) >= {
        "real",
        "self_blend",
    }
    swaps = faces.kind == "face_swap"
    assert swaps.any() and not (faces.group[swaps] == "Cleo").any()  # Cleo is alone in val: no donor
    assert "real talking-head videos of 2 people" in describe(faces.subset(splits["train"]))


def test_old_face_sets_keep_the_shared_split():
    """A face set saved before rosters has no split field: the shared roster still splits it."""
    groups = np.array(["L", "F", "A", "photo-s1"] + [f"head{i:03d}" for i in range(10)])
    splits = person_splits(groups)
    assert splits["test"][0] and splits["val"][1] and splits["train"][2] and splits["train"][3]
    given = person_splits(groups, split=np.array(["train"] + [""] * 13))  # a roster overrides the shared one
    assert given["train"][0] and not given["test"][0]


def test_the_command_line_says_what_is_wrong_with_a_roster(tmp_path, capsys, real_data):
    bad = write(tmp_path, ROSTER.replace("Dev,test", "Dev,tst"), "bad.csv")
    code = main(
        ["detect-data", "--real", str(real_data), "--persons", str(bad), "--out", str(tmp_path / "f.npz")]
    )
    err = capsys.readouterr().err.strip()
    assert code != 0 and "split 'tst' is not one of train, val, test" in err and len(err.splitlines()) == 1
    code = main(["detect-data", "--persons", str(bad), "--out", str(tmp_path / "f.npz")])
    assert code != 0 and "give --real DIR too" in capsys.readouterr().err
    assert not (tmp_path / "f.npz").exists()


def test_two_folders_make_one_face_set_and_a_person_in_both_is_refused(course_folder, tmp_path):
    """A folder of photos beside a folder of videos (the shared faces beside the shared videos):
    one face set, the photos reenacted by the other folder's videos of their split; a person
    named in both rosters is refused before any work."""
    from deepfakelab.fakes.faceset import FaceSet
    from deepfakelab.fakes.real import build_real

    photos = tmp_path / "photos"
    (photos / "utkface").mkdir(parents=True)
    (photos / "utkface" / "eve.jpg").symlink_to(course_folder / "ben.jpg")
    write(
        photos,
        "file,person,split\nutkface/eve.jpg,Eve,train\nutkface/fay.jpg,Fay,val\nutkface/gil.jpg,Gil,test\n",
    )
    for name in ("fay", "gil"):
        (photos / "utkface" / f"{name}.jpg").symlink_to(course_folder / "ben.jpg")
    out = build_real(
        [photos, course_folder],
        tmp_path / "faces.npz",
        size=64,
        photo_repeats=1,
        frames={"train": 2, "val": 2, "test": 2},
        progress=False,
    )
    faces = FaceSet.load(out)
    assert {"Eve", "Anna", "Dev"} <= set(faces.group.tolist())
    eve = faces.group == "Eve"
    assert set(faces.kind[eve].tolist()) >= {"real", "self_blend", "mesh_warp"}  # driven by a video
    assert (faces.split[eve] == "train").all()
    from deepfakelab.detect.domain_stats import describe  # a research-only source says so on the card

    assert "1 of them from UTKFace, licensed for non-commercial research only" in describe(
        faces.subset(faces.split == "train")
    )

    write(
        photos,
        "file,person,split\nutkface/eve.jpg,Anna,train\nutkface/fay.jpg,Fay,val\nutkface/gil.jpg,Gil,test\n",
    )
    with pytest.raises(DataError, match="Anna.*also in another folder"):
        build_real([photos, course_folder], tmp_path / "again.npz", progress=False)
    assert not (tmp_path / "again.npz").exists()


def test_training_without_a_source_keeps_its_test_rows():
    """--without utkface/: a detector trained free of a research-only set, measured on the same
    test people as one trained with it."""
    from deepfakelab.detect.cli import without_sources
    from deepfakelab.fakes.faceset import FaceSet, no_points
    from deepfakelab.errors import ConfigError

    n = 6
    faces = FaceSet(
        images=np.zeros((n, 8, 8, 3), np.uint8),
        labels=np.array([0, 1, 0, 1, 0, 0]),
        masks=np.zeros((n, 8, 8), np.uint8),
        has_mask=np.ones(n, bool),
        kind=np.array(["real", "self_blend", "real", "self_blend", "real", "real"]),
        video=np.array(["a", "a/b", "c", "c/b", "d", "e"]),
        group=np.array(list("aaccde")),
        source=np.array(
            [
                "utkface/a.jpg#0",
                "utkface/a.jpg#0",
                "london/c.jpg#0",
                "london/c.jpg#0",
                "utkface/d.jpg#0",
                "utkface/e.jpg#0",
            ]
        ),
        points=no_points(n),
        split=np.array(["train", "train", "train", "train", "val", "test"], "<U5"),
    )
    kept = without_sources(faces, ["utkface/"])
    assert kept.source.tolist() == ["london/c.jpg#0", "london/c.jpg#0", "utkface/e.jpg#0"]
    with pytest.raises(ConfigError, match="no row"):
        without_sources(faces, ["nothing/"])
