"""`sccosf labels import / stats` from the command line: CVAT and labelme exports into a dataset's
labels/, matched by stem, all or nothing; bad input is one error line."""

from __future__ import annotations

import numpy as np
import pytest

from sccosf_ros.cli import main
from sccosf_ros.data.image_file import read_image

LABELMAP = [("background", (0, 0, 0)), ("forklift", (250, 220, 0)), ("person", (220, 20, 60))]
TO_CLASS = np.array(
    [0, 2, 3]
)  # labelmap index → classes.yaml id (background/pallet/forklift/person)


def _mask(h, w, y, x):
    m = np.zeros((h, w), np.uint8)
    m[y : y + 6, x : x + 8] = 1
    m[y + 8 : y + 12, x : x + 4] = 2
    return m


def _labels(dataset):
    return (
        sorted(p.name for p in (dataset / "labels").iterdir())
        if (dataset / "labels").exists()
        else []
    )


def _err_lines(capsys):
    return capsys.readouterr().err.strip().splitlines()


def test_cvat_zip_import_skip_overwrite_and_dry_run(
    tmp_path, label_dataset, write_cvat_export, capsys
):
    masks = {
        "frame_a": _mask(24, 32, 2, 3),
        "frame_c": _mask(20, 16, 1, 1),
        "gone": _mask(8, 8, 0, 0),
    }
    export = write_cvat_export(tmp_path / "task.zip", masks, LABELMAP)
    base = ["labels", "import", "--format", "cvat", str(export), "--dataset", str(label_dataset)]

    assert main([*base, "--dry-run", "--no-progress"]) == 0
    out = capsys.readouterr()
    assert "would convert 2 label(s)" in out.out and _labels(label_dataset) == []
    assert f"unmatched: {export}:SegmentationClass/gone.png" in out.err

    assert main([*base, "--no-progress"]) == 0
    assert "converted 2 label(s)" in capsys.readouterr().out
    assert _labels(label_dataset) == ["frame_a.png", "frame_c.png"]
    for name in ("frame_a", "frame_c"):
        label = read_image(label_dataset / "labels" / f"{name}.png")
        assert label.dtype == np.uint8 and label.ndim == 2
        np.testing.assert_array_equal(label, TO_CLASS[masks[name]])

    assert main([*base, "--no-progress"]) == 0  # again: labels/ has them
    out = capsys.readouterr()
    assert "converted 0 label(s)" in out.out and "skipped 2" in out.out
    assert "skipped: frame_a: labels/ has it already" in out.err
    assert main([*base, "--no-progress", "--overwrite"]) == 0
    assert "converted 2 label(s)" in capsys.readouterr().out


def test_labelme_import_is_all_or_nothing(tmp_path, label_dataset, write_labelme, capsys):
    src = tmp_path / "labelme"
    src.mkdir()
    write_labelme(src / "frame_a.json", [("pallet", "rectangle", [(1, 1), (6, 4)])], (24, 32))
    bad = write_labelme(src / "frame_b.json", [("crate", "rectangle", [(1, 1), (6, 4)])], (24, 32))
    argv = ["labels", "import", "--format", "labelme", str(src), "--dataset", str(label_dataset)]

    assert main([*argv, "--no-progress"]) == 2
    assert _err_lines(capsys) == [
        f"sccosf labels import: error: {bad}: label 'crate' (shape #0) is not in classes.yaml "
        "(background, pallet, forklift, person); add the class or rename the shape in labelme"
    ]
    assert _labels(label_dataset) == []  # frame_a was converted first, but nothing is left

    write_labelme(bad, [("Person", "rectangle", [(0, 0), (31, 23)])], (24, 32))
    assert main([*argv, "--no-progress"]) == 0
    a = read_image(label_dataset / "labels" / "frame_a.png")
    expected = np.full((24, 32), 255, np.uint8)
    expected[1:5, 1:7] = 1
    np.testing.assert_array_equal(a, expected)
    assert (read_image(label_dataset / "labels" / "frame_b.png") == 3).all()


def test_labelme_size_that_differs_from_the_rgb_image(
    tmp_path, label_dataset, write_labelme, capsys
):
    path = write_labelme(
        tmp_path / "frame_c.json", [("pallet", "rectangle", [(1, 1), (3, 3)])], (24, 32)
    )
    argv = ["labels", "import", "--format", "labelme", str(path), "--dataset", str(label_dataset)]
    assert main([*argv, "--no-progress"]) == 2
    err = _err_lines(capsys)
    assert (
        len(err) == 1
        and "imageHeight × imageWidth is 24×32 but the dataset's image is 20×16" in err[0]
    )


@pytest.mark.parametrize(
    ("content", "words"),
    [(b"PK\x03\x04 not really", "not a readable zip file"), (None, "no such file or folder")],
)
def test_bad_cvat_input_is_one_line(tmp_path, label_dataset, capsys, content, words):
    path = tmp_path / "task.zip"
    if content is not None:
        path.write_bytes(content)
    argv = ["labels", "import", "--format", "cvat", str(path), "--dataset", str(label_dataset)]
    assert main(argv) == 2
    err = _err_lines(capsys)
    assert len(err) == 1 and err[0].startswith("sccosf labels import: error: ") and words in err[0]


def test_nothing_matching_is_an_error(tmp_path, label_dataset, write_cvat_export, capsys):
    export = write_cvat_export(tmp_path / "t.zip", {"other": _mask(8, 8, 0, 0)}, LABELMAP)
    argv = ["labels", "import", "--format", "cvat", str(export), "--dataset", str(label_dataset)]
    assert main([*argv, "--no-progress"]) == 2
    assert "none of the 1 labelled images" in _err_lines(capsys)[-1]


def test_stats_counts_pixels_and_images(tmp_path, label_dataset, write_cvat_export, capsys):
    masks = {"frame_a": _mask(24, 32, 2, 3), "frame_b": _mask(24, 32, 0, 0)}
    export = write_cvat_export(tmp_path / "t.zip", masks, LABELMAP)
    main(
        [
            "labels",
            "import",
            "--format",
            "cvat",
            str(export),
            "--dataset",
            str(label_dataset),
            "--no-progress",
        ]
    )
    capsys.readouterr()
    report = tmp_path / "stats.md"
    rc = main(
        [
            *("labels", "stats", "--dataset", str(label_dataset), "--no-progress"),
            *("--out", str(report), "--sheet", str(tmp_path / "sheet.png")),
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0 and out.startswith("2 of 3 images labelled")
    forklift, person = 2 * 6 * 8, 2 * 4 * 4
    rows = {
        line.split("|")[1].strip(): line.split("|")[2:-1]
        for line in out.splitlines()[2:]
        if line.startswith("| ")
    }
    assert [c.strip() for c in rows["forklift"]] == [
        "2",
        str(forklift),
        f"{forklift / (2 * 24 * 32):.1%}",
        "2",
    ]
    assert [c.strip() for c in rows["person"]][:2] == ["3", str(person)]
    assert [c.strip() for c in rows["pallet"]][1] == "0"
    assert report.read_text().startswith(f"# Labels of {label_dataset}")
    sheet = read_image(tmp_path / "sheet.png")  # RGB | label | overlay, a row per labelled image
    assert sheet.ndim == 3 and sheet.shape[1] > 3 * 200 and sheet.shape[0] > 2 * 150


def test_stats_flags_values_of_another_class_set(label_dataset, capsys):
    import cv2

    (label_dataset / "labels").mkdir()
    cv2.imwrite(str(label_dataset / "labels" / "frame_a.png"), np.full((24, 32), 7, np.uint8))
    assert main(["labels", "stats", "--dataset", str(label_dataset), "--no-progress"]) == 2
    err = _err_lines(capsys)
    assert "label value 7 is no class of classes.yaml" in err[0]
    assert err[-1].startswith("sccosf labels stats: error: labels/ holds value(s) 7")


def test_a_cvat_mask_of_another_size_is_one_line(
    tmp_path, label_dataset, write_cvat_export, capsys
):
    export = write_cvat_export(tmp_path / "t.zip", {"frame_c": _mask(24, 32, 0, 0)}, LABELMAP)
    argv = ["labels", "import", "--format", "cvat", str(export), "--dataset", str(label_dataset)]
    assert main([*argv, "--no-progress"]) == 2
    assert _err_lines(capsys) == [
        f"sccosf labels import: error: {export}:SegmentationClass/frame_c.png: the label is "
        f"24×32 (h×w) but {label_dataset / 'rgb' / 'frame_c.png'} is 20×16"
    ]
    assert _labels(label_dataset) == []


def test_stats_names_a_label_of_another_size(label_dataset, capsys):
    import cv2

    (label_dataset / "labels").mkdir()
    cv2.imwrite(str(label_dataset / "labels" / "frame_c.png"), np.zeros((24, 32), np.uint8))
    assert main(["labels", "stats", "--dataset", str(label_dataset), "--no-progress"]) == 2
    assert _err_lines(capsys) == [
        f"sccosf labels stats: error: {label_dataset / 'labels' / 'frame_c.png'} is 24×32 (h×w) "
        f"but {label_dataset / 'rgb' / 'frame_c.png'} is 20×16"
    ]
