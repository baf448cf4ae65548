"""labelme JSON files (written here as labelme 5 saves them) drawn as class ids."""

from __future__ import annotations

import base64
import json

import cv2
import numpy as np
import pytest

from sccosf_ros.class_set import ClassSet, read_class_set
from sccosf_ros.data.errors import DatasetError
from sccosf_ros.data.labelme_json import find_labelme_files, read_labelme

H, W = 24, 32
IGNORE = 255
# an L-shaped polygon with integer vertices: the outline is included, as labelme's PIL draws it
L_SHAPE = [(2, 2), (12, 2), (12, 6), (6, 6), (6, 14), (2, 14)]


def _l_shape_pixels():
    """The L's pixels as two boxes (x 2-12, y 2-6) and (x 2-6, y 2-14), both ends included."""
    inside = np.zeros((H, W), bool)
    inside[2:7, 2:13] = True
    inside[2:15, 2:7] = True
    return inside


@pytest.fixture
def classes(label_dataset):
    return read_class_set(label_dataset)  # background, pallet, forklift, person


def test_polygons_and_rectangles_in_file_order(tmp_path, classes, write_labelme):
    shapes = [
        ("pallet", "polygon", L_SHAPE),
        ("forklift", "rectangle", [(30, 20), (20, 10)]),  # corners in any order
        ("person", "rectangle", [(4.4, 4.4), (8.2, 11.6)]),  # on top of the L: rounded corners
    ]
    path = write_labelme(tmp_path / "frame_a.json", shapes, (H, W))
    ids = read_labelme(path).class_ids(classes, (H, W))
    expected = np.full((H, W), IGNORE, np.uint8)
    expected[_l_shape_pixels()] = 1
    expected[10:21, 20:31] = 2
    expected[4:13, 4:9] = 3
    np.testing.assert_array_equal(ids, expected)


def test_a_circle_covers_the_disc_of_its_rim_point(tmp_path, classes, write_labelme):
    path = write_labelme(tmp_path / "c.json", [("person", "circle", [(15, 11), (15, 18)])], (H, W))
    ids = read_labelme(path).class_ids(classes, (H, W))
    yy, xx = np.mgrid[:H, :W]
    dist = np.hypot(xx - 15, yy - 11)
    assert (ids[dist <= 6.5] == 3).all()  # radius 7: every pixel clearly inside
    assert (ids[dist >= 7.5] == IGNORE).all()  # and none clearly outside
    assert set(np.unique(ids)) == {3, IGNORE}


def test_image_data_embedded_or_null_and_the_stems_to_match(tmp_path, classes, write_labelme):
    image = np.full((H, W, 3), 128, np.uint8)
    shapes = [("pallet", "rectangle", [(1, 1), (5, 5)])]
    embedded = read_labelme(
        write_labelme(tmp_path / "one.json", shapes, (H, W), image, image_path="..\\img\\a.jpg")
    )
    nodata = read_labelme(write_labelme(tmp_path / "two.json", shapes, (H, W)))
    assert embedded.size == nodata.size == (H, W)
    assert embedded.names == ["a", "one"]  # imagePath's stem first (Windows separators too)
    assert nodata.names == ["two"]
    np.testing.assert_array_equal(embedded.class_ids(classes), nodata.class_ids(classes))


def test_image_data_of_another_size_is_an_error(tmp_path, write_labelme):
    path = write_labelme(tmp_path / "a.json", [], (H, W), np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(DatasetError, match=r"imageHeight × imageWidth is 24×32 but imageData"):
        read_labelme(path)


def test_a_size_that_is_not_the_dataset_image_is_an_error(tmp_path, classes, write_labelme):
    path = write_labelme(tmp_path / "a.json", [], (H, W))
    with pytest.raises(DatasetError) as e:
        read_labelme(path).class_ids(classes, (H, W + 1))
    assert str(e.value).startswith(f"{path}: imageHeight × imageWidth is 24×32 but the dataset")


def test_background_labels_paint_background_or_erase(tmp_path, classes, write_labelme):
    shapes = [
        ("pallet", "rectangle", [(0, 0), (9, 9)]),
        ("_background_", "rectangle", [(5, 5), (9, 9)]),
    ]
    f = read_labelme(write_labelme(tmp_path / "a.json", shapes, (H, W)))
    ids = f.class_ids(classes)
    assert ids[2, 2] == 1 and ids[7, 7] == 0 and ids[15, 15] == IGNORE
    no_background = ClassSet(("pallet", "person"), ((1, 1, 1), (2, 2, 2)))
    ids = f.class_ids(no_background)
    assert ids[2, 2] == 0 and ids[7, 7] == IGNORE  # erased: unlabelled


def test_lines_and_points_are_counted_not_drawn(tmp_path, classes, write_labelme):
    shapes = [
        ("person", "line", [(0, 0), (20, 20)]),
        ("person", "point", [(3, 3)]),
        ("person", "linestrip", [(0, 0), (5, 1), (9, 9)]),
        ("pallet", "rectangle", [(0, 0), (1, 1)]),
    ]
    f = read_labelme(write_labelme(tmp_path / "a.json", shapes, (H, W)))
    assert f.not_areas == 3 and len(f.shapes) == 1
    assert set(np.unique(f.class_ids(classes))) == {1, IGNORE}


def test_a_mask_shape_is_pasted_at_its_box(tmp_path, classes, write_labelme):
    path = write_labelme(tmp_path / "a.json", [], (H, W))
    doc = json.loads(path.read_text())
    bitmap = np.zeros((4, 6), np.uint8)
    bitmap[1:3, 2:5] = 1
    png = base64.b64encode(cv2.imencode(".png", bitmap)[1].tobytes()).decode()
    doc["shapes"] = [
        {"label": "forklift", "points": [[10, 5], [15, 8]], "shape_type": "mask", "mask": png}
    ]
    path.write_text(json.dumps(doc))
    ids = read_labelme(path).class_ids(classes)
    expected = np.full((H, W), IGNORE, np.uint8)
    expected[6:8, 12:15] = 2
    np.testing.assert_array_equal(ids, expected)


def test_an_unknown_label_names_the_file_and_the_label(tmp_path, classes, write_labelme):
    path = write_labelme(tmp_path / "a.json", [("crate", "polygon", L_SHAPE)], (H, W))
    with pytest.raises(DatasetError) as e:
        read_labelme(path).class_ids(classes)
    assert str(e.value) == (
        f"{path}: label 'crate' (shape #0) is not in classes.yaml (background, pallet, forklift, "
        "person); add the class or rename the shape in labelme"
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"shapes": [', "not valid JSON"),
        ('{"version": "5.5.0"}', "not a labelme file (no 'shapes' list)"),
        ('{"shapes": [{"label": "pallet", "points": [[1, 2], [3, 4]]}]}', "needs at least 3"),
        ('{"shapes": [{"label": "a", "points": [[1, 2]], "shape_type": "circle"}]}', "2 points"),
        ('{"shapes": [{"label": "a", "points": "xy", "shape_type": "polygon"}]}', "[x, y]"),
        ('{"shapes": [{"label": "a", "points": [], "shape_type": "blob"}]}', "unknown shape_type"),
        ('{"shapes": [], "imageData": "%%%"}', "imageData is not base64"),
        ('{"shapes": [], "imageData": "aGVsbG8="}', "(imageData): the file is corrupt"),
        ('{"shapes": [], "imageHeight": -3, "imageWidth": 4}', "imageHeight must be a positive"),
    ],
)
def test_damaged_files_are_one_error_naming_them(tmp_path, text, words):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(DatasetError) as e:
        read_labelme(path)
    assert str(path) in str(e.value) and words in str(e.value)
    assert "\n" not in str(e.value)


def test_find_files(tmp_path, write_labelme):
    (tmp_path / "sub").mkdir()
    a = write_labelme(tmp_path / "a.json", [], (H, W))
    b = write_labelme(tmp_path / "sub" / "b.json", [], (H, W))
    (tmp_path / "a.jpg").write_bytes(b"")
    assert find_labelme_files(tmp_path) == [a, b]
    assert find_labelme_files(a) == [a]
