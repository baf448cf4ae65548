"""CVAT "Segmentation mask 1.1" exports (written here as CVAT writes them) read as class ids."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from sccosf_ros.class_set import ClassSet, read_class_set
from sccosf_ros.data.cvat_masks import LabelmapEntry, open_cvat_export, parse_labelmap
from sccosf_ros.data.errors import DatasetError

# CVAT's label order differs from classes.yaml's (background, pallet, forklift, person)
LABELMAP = [
    ("background", (0, 0, 0)),
    ("Person", (220, 20, 60)),
    ("pallet", (230, 160, 40)),
    ("forklift", (250, 220, 0)),
]
TO_CLASS = np.array([0, 3, 1, 2])  # labelmap index → classes.yaml id, worked out by hand


def _index_mask(h, w, seed):
    """A labelmap-index mask with blocks of every label."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((h, w), np.uint8)
    for label in (1, 2, 3):
        y, x = rng.integers(0, h - 4), rng.integers(0, w - 4)
        mask[y : y + 5, x : x + 6] = label
    return mask


@pytest.fixture
def masks():
    return {"frame_a": _index_mask(24, 32, 1), "frame_b": _index_mask(24, 32, 2)}


@pytest.fixture
def classes(label_dataset):
    return read_class_set(label_dataset)


def _read_all(path, classes):
    with open_cvat_export(path) as export:
        return {m.names[0]: m.class_ids(classes) for m in export.items()}


def test_labelmap_as_cvat_writes_it():
    text = "# label:color_rgb:parts:actions\nbackground:0,0,0::\npallet:230,160,40::\n\n"
    assert parse_labelmap(text, "labelmap.txt") == [
        LabelmapEntry("background", (0, 0, 0)),
        LabelmapEntry("pallet", (230, 160, 40)),
    ]


@pytest.mark.parametrize(
    "line", ["pallet:230,160::", "pallet", ":1,2,3::", "pallet:1,2,300::", "pallet:a,b,c::"]
)
def test_a_labelmap_line_that_does_not_parse_names_file_and_line(line):
    with pytest.raises(DatasetError) as e:
        parse_labelmap(f"# label:color_rgb:parts:actions\nbackground:0,0,0::\n{line}\n", "lm.txt")
    assert str(e.value).startswith("lm.txt line 3: cannot parse")


@pytest.mark.parametrize("mode", ["P", "RGB", "L"])
def test_palette_rgb_and_index_masks_give_the_class_ids(
    tmp_path, masks, classes, write_cvat_export, mode
):
    path = write_cvat_export(tmp_path / "task.zip", masks, LABELMAP, mode=mode)
    got = _read_all(path, classes)
    assert sorted(got) == sorted(masks)
    for name, index in masks.items():
        np.testing.assert_array_equal(got[name], TO_CLASS[index])
        assert got[name].dtype == np.uint8


@pytest.mark.parametrize("top", ["", "task_7/"])
def test_an_extracted_folder_or_a_rezipped_one_reads_the_same(
    tmp_path, masks, classes, write_cvat_export, top
):
    folder = write_cvat_export(tmp_path / "export", masks, LABELMAP, folder=True, top=top)
    rezipped = write_cvat_export(tmp_path / "again.zip", masks, LABELMAP, top=top)
    for path in (folder, rezipped):
        got = _read_all(path, classes)
        np.testing.assert_array_equal(got["frame_a"], TO_CLASS[masks["frame_a"]])


def test_background_without_a_background_class_is_ignored(tmp_path, masks, write_cvat_export):
    classes = ClassSet(("pallet", "forklift", "person"), ((1, 1, 1), (2, 2, 2), (3, 3, 3)), 200)
    got = _read_all(write_cvat_export(tmp_path / "t.zip", masks, LABELMAP), classes)
    expected = np.array([200, 2, 0, 1])[masks["frame_b"]]
    np.testing.assert_array_equal(got["frame_b"], expected)


def test_an_unknown_colour_names_the_mask_and_the_colour(
    tmp_path, masks, classes, write_cvat_export
):
    masks["frame_a"][0, 0] = 4  # a palette entry the labelmap does not list
    labelmap = [*LABELMAP, ("crate", (9, 8, 7))]
    path = write_cvat_export(tmp_path / "t.zip", masks, labelmap)
    # the export's labelmap.txt without its last line: colour (9, 8, 7) is nobody's
    with zipfile.ZipFile(path) as z:
        files = {n: z.read(n) for n in z.namelist()}
    files["labelmap.txt"] = files["labelmap.txt"].replace(b"crate:9,8,7::\n", b"")
    with zipfile.ZipFile(path, "w") as z:
        for n, data in files.items():
            z.writestr(n, data)
    with pytest.raises(DatasetError) as e:
        _read_all(path, classes)
    assert str(e.value) == (
        f"{path}:SegmentationClass/frame_a.png: colour (9, 8, 7) (1 px) is no label of "
        "labelmap.txt; export the masks and labelmap.txt together"
    )


def test_a_label_classes_yaml_lacks_is_an_error_only_where_it_is_used(
    tmp_path, masks, classes, write_cvat_export
):
    labelmap = [*LABELMAP, ("crate", (9, 8, 7))]
    unused = write_cvat_export(tmp_path / "unused.zip", masks, labelmap)
    assert len(_read_all(unused, classes)) == 2
    masks["frame_b"][3, 3] = 4
    used = write_cvat_export(tmp_path / "used.zip", masks, labelmap)
    with pytest.raises(DatasetError, match=r"frame_b.png: colour \(9, 8, 7\) is label 'crate'"):
        _read_all(used, classes)


def test_corrupt_exports_are_one_error_naming_the_file(
    tmp_path, masks, classes, write_cvat_export
):
    not_zip = tmp_path / "task.zip"
    not_zip.write_bytes(b"this is not a zip")
    with pytest.raises(DatasetError, match=rf"^{not_zip}: not a readable zip file"):
        open_cvat_export(not_zip)

    damaged = write_cvat_export(tmp_path / "damaged.zip", masks, LABELMAP)
    with zipfile.ZipFile(damaged) as z:
        info = z.getinfo("SegmentationClass/frame_b.png")
    data = bytearray(damaged.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + 20 : start + 40] = bytes(20)  # zeros over the compressed mask
    damaged.write_bytes(bytes(data))
    with pytest.raises(DatasetError) as e:
        _read_all(damaged, classes)
    assert str(e.value).startswith(f"{damaged}:SegmentationClass/frame_b.png: damaged inside")

    folder = write_cvat_export(tmp_path / "export", masks, LABELMAP, folder=True)
    png = folder / "SegmentationClass" / "frame_a.png"
    png.write_bytes(png.read_bytes()[:60])  # truncated
    with pytest.raises(DatasetError, match=rf"^cannot read image {png}: the file is corrupt"):
        _read_all(folder, classes)

    (folder / "labelmap.txt").write_text("background:0,0,0::\npallet:12,34\n")
    with pytest.raises(DatasetError, match=r"labelmap.txt line 2: cannot parse 'pallet:12,34'"):
        open_cvat_export(folder)

    (folder / "labelmap.txt").unlink()
    with pytest.raises(DatasetError, match=r"no labelmap\.txt"):
        open_cvat_export(folder)


def test_two_labels_of_one_colour_must_be_one_class(tmp_path, masks, classes, write_cvat_export):
    labelmap = [*LABELMAP[:3], ("forklift", (220, 20, 60))]  # forklift painted like Person
    path = write_cvat_export(tmp_path / "t.zip", masks, labelmap, mode="RGB")
    with pytest.raises(DatasetError, match=r"labels 'Person' and 'forklift' share the colour"):
        _read_all(path, classes)
