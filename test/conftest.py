"""Shared test set-up: an isolated ROS domain per run, the gpu marker, small checkpoints."""

from __future__ import annotations

import os
import random

import pytest

# Each pytest process gets its own DDS domain on loopback, so concurrent runs on one machine
# (developers, CI) never see each other's topics. Subprocess nodes inherit these.
os.environ.setdefault("ROS_DOMAIN_ID", str(random.Random(os.getpid()).randint(1, 100)))
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
os.environ.setdefault("RMW_IMPLEMENTATION", "rmw_fastrtps_cpp")
# OpenMP threads that spin while waiting starve everything else on a small, shared machine
# (10-100x slower CPU inference under load); passive waiting costs nothing when it is idle.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _no_cuda() -> bool:
    import torch  # does not import triton (timm does, through torch._dynamo)

    return not torch.cuda.is_available()


# Without a GPU the Triton selective-scan kernels run in Triton's interpreter on CPU tensors
# (test/model/ssm/test_triton_scan.py). Triton reads this when it is first imported, so it is set
# here, before any test module imports the model.
if _no_cuda():
    os.environ.setdefault("TRITON_INTERPRET", "1")


def pytest_collection_modifyitems(config, items):
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if item.get_closest_marker("gpu") is not None:  # not keywords: a folder may be gpu/
            item.add_marker(skip)


@pytest.fixture(scope="session")
def nano_checkpoint(tmp_path_factory):
    """An untrained ``nano`` checkpoint with MFNet classes (for plumbing tests, not accuracy)."""
    import torch

    from sccosf_ros.classes import MFNET_CLASSES, MFNET_PALETTE
    from sccosf_ros.inference import save_checkpoint
    from sccosf_ros.model import build_model

    torch.manual_seed(0)
    model = build_model("nano", num_classes=len(MFNET_CLASSES))
    path = tmp_path_factory.mktemp("ckpt") / "nano.pt"
    save_checkpoint(
        path, model, class_names=MFNET_CLASSES, palette=MFNET_PALETTE, dataset="synthetic"
    )
    return path


@pytest.fixture
def one_thread():
    """One torch thread: a busy shared CPU makes spinning OpenMP workers very slow."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def ros_context():
    """A private rclpy context (real DDS on loopback), shut down after the test."""
    import rclpy
    from rclpy.context import Context

    ctx = Context()
    rclpy.init(context=ctx)
    try:
        yield ctx
    finally:
        if ctx.ok():
            rclpy.shutdown(context=ctx)


@pytest.fixture(scope="session")
def backend_cache(tmp_path_factory):
    """One backends' cache folder (exported ONNX graphs) shared by a test session's tests, so
    each (checkpoint, size) is exported once."""
    return tmp_path_factory.mktemp("backend_cache")


# --- label exports, written the way CVAT and labelme write them (test/data/test_cvat_masks.py,
# test/data/test_labelme_json.py, test/commands/test_labels_paths.py) ---

LABEL_CLASSES = ("background", "pallet", "forklift", "person")  # a custom 4-class set
LABEL_IMAGES = {"frame_a": (24, 32), "frame_b": (24, 32), "frame_c": (20, 16)}  # NAME: (h, w)


@pytest.fixture
def label_dataset(tmp_path):
    """A hand-made generic dataset: rgb/ with three tiny PNGs and a 4-class classes.yaml."""
    import cv2
    import numpy as np

    root = tmp_path / "dataset"
    (root / "rgb").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name, (h, w) in LABEL_IMAGES.items():
        cv2.imwrite(str(root / "rgb" / f"{name}.png"), rng.integers(0, 255, (h, w, 3), np.uint8))
    lines = ["ignore_index: 255", "classes:"]
    lines += [f"  - {{id: {i}, name: {n}}}" for i, n in enumerate(LABEL_CLASSES)]
    (root / "classes.yaml").write_text("\n".join(lines) + "\n")
    return root


def _cvat_files(masks, labelmap, mode):
    """{member: bytes} of a "Segmentation mask 1.1" export: labelmap.txt as Datumaro writes it,
    class masks as palette ("P", CVAT's) or RGB PNGs, instance masks, the image list."""
    import io

    import numpy as np
    from PIL import Image

    text = "# label:color_rgb:parts:actions\n"
    text += "".join(f"{n}:{r},{g},{b}::\n" for n, (r, g, b) in labelmap)
    files = {"labelmap.txt": text.encode()}
    palette = [c for _, rgb in labelmap for c in rgb]
    for name, index in masks.items():
        if mode == "P":
            im = Image.fromarray(index.astype(np.uint8), mode="P")
            im.putpalette(palette)
        elif mode == "RGB":
            im = Image.fromarray(np.array([rgb for _, rgb in labelmap], np.uint8)[index], "RGB")
        else:  # "L": single-channel labelmap indices
            im = Image.fromarray(index.astype(np.uint8), mode="L")
        buf = io.BytesIO()
        im.save(buf, format="PNG")
        files[f"SegmentationClass/{name}.png"] = buf.getvalue()
        inst = Image.fromarray((index > 0).astype(np.uint8), mode="P")
        inst.putpalette([0, 0, 0, 128, 0, 0])
        buf = io.BytesIO()
        inst.save(buf, format="PNG")
        files[f"SegmentationObject/{name}.png"] = buf.getvalue()
    files["ImageSets/Segmentation/default.txt"] = "".join(f"{n}\n" for n in masks).encode()
    return files


@pytest.fixture
def write_cvat_export():
    """``write(path, masks, labelmap, mode="P", folder=False, top="")``: a CVAT export of
    ``masks`` (NAME → labelmap-index array) as a .zip (or an extracted folder) at ``path``."""
    import zipfile

    def write(path, masks, labelmap, mode="P", folder=False, top=""):
        files = _cvat_files(masks, labelmap, mode)
        if folder:
            for member, data in files.items():
                (path / top / member).parent.mkdir(parents=True, exist_ok=True)
                (path / top / member).write_bytes(data)
        else:
            with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
                for member, data in files.items():
                    z.writestr(f"{top}{member}", data)
        return path

    return write


@pytest.fixture
def write_labelme():
    """``write(path, shapes, size, image=None, image_path=None)``: a labelme JSON file as labelme
    5 saves it; ``shapes`` are (label, shape_type, points) and ``image`` (an array) becomes
    base64 imageData (None: ``--nodata``)."""
    import base64
    import json

    import cv2

    def write(path, shapes, size, image=None, image_path=None):
        data = None
        if image is not None:
            data = base64.b64encode(cv2.imencode(".jpg", image)[1].tobytes()).decode()
        doc = {
            "version": "5.5.0",
            "flags": {},
            "shapes": [
                {
                    "label": label,
                    "points": [list(map(float, p)) for p in points],
                    "group_id": None,
                    "description": "",
                    "shape_type": kind,
                    "flags": {},
                    "mask": None,
                }
                for label, kind, points in shapes
            ],
            "imagePath": image_path or f"{path.stem}.jpg",
            "imageData": data,
            "imageHeight": size[0],
            "imageWidth": size[1],
        }
        path.write_text(json.dumps(doc, indent=2))
        return path

    return write


@pytest.fixture(scope="session")
def roadscene_dev():
    """The folder of the 20 real RGB-thermal development pairs (``rgb/``, ``thermal/``):
    ``<repo>/../shared/data/roadscene_dev``, or ``$SCCOSF_ROADSCENE_DEV`` (a worktree elsewhere);
    the test is skipped where they are absent (they are not shipped with the package)."""
    from pathlib import Path

    default = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "roadscene_dev"
    root = Path(os.environ.get("SCCOSF_ROADSCENE_DEV") or default)
    if not (root / "rgb").is_dir() or not (root / "thermal").is_dir():
        pytest.skip(f"the real development pairs are not at {root} (set $SCCOSF_ROADSCENE_DEV)")
    return root


CUSTOM_CLASSES = ("background", "pallet", "person", "forklift")
CUSTOM_PALETTE = ((0, 0, 0), (230, 160, 40), (220, 20, 60), (250, 220, 0))


@pytest.fixture(scope="session")
def custom_folder_dataset(tmp_path_factory):
    """A hand-made ``--dataset folder`` dataset (layout.md) with its own 4-class set: synthetic
    MFNet frames, car → pallet, person, bike → forklift, the rest background; the first two
    training frames have no label file (unlabelled)."""
    import cv2
    import numpy as np

    from sccosf_ros.class_set import ClassSet, write_class_set
    from sccosf_ros.synthetic import write_dataset

    src = tmp_path_factory.mktemp("custom_src") / "mfnet"
    write_dataset(src, layout="mfnet", n=12, seed=11, height=48, width=64, progress=False)
    root = tmp_path_factory.mktemp("custom") / "ds"
    for d in ("rgb", "thermal", "labels", "splits"):
        (root / d).mkdir(parents=True)
    to_custom = np.zeros(256, np.uint8)
    to_custom[[1, 2, 3]] = [1, 2, 3]
    to_custom[255] = 255
    splits = {s: (src / f"{s}.txt").read_text().split() for s in ("train", "val", "test")}
    for name in (n for names in splits.values() for n in names):
        img = cv2.imread(str(src / "images" / f"{name}.png"), cv2.IMREAD_UNCHANGED)  # B,G,R,T
        cv2.imwrite(str(root / "rgb" / f"{name}.png"), img[..., :3])
        cv2.imwrite(str(root / "thermal" / f"{name}.png"), img[..., 3])
        if name not in splits["train"][:2]:
            label = cv2.imread(str(src / "labels" / f"{name}.png"), cv2.IMREAD_UNCHANGED)
            cv2.imwrite(str(root / "labels" / f"{name}.png"), to_custom[label])
    for s, names in splits.items():
        (root / "splits" / f"{s}.txt").write_text("\n".join(names) + "\n")
    write_class_set(ClassSet(CUSTOM_CLASSES, CUSTOM_PALETTE), root)
    return root


@pytest.fixture(scope="session")
def custom_class_checkpoint(custom_folder_dataset, nano_checkpoint, tmp_path_factory):
    """``nano_checkpoint`` fine-tuned 2 steps on ``custom_folder_dataset`` with the CLI:
    (best.pt, what ``sccosf train`` printed to stderr)."""
    import contextlib
    import io

    from sccosf_ros.cli import main

    out = tmp_path_factory.mktemp("custom_run")
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(
            ["train", "--recipe", "finetune", "--init-from", str(nano_checkpoint),
             "--dataset", "folder", "--root", str(custom_folder_dataset), "--out", str(out),
             "--crop", "32", "32", "--max-iters", "2", "--batch-size", "2", "--workers", "0",
             "--threads", "1", "--device", "cpu", "--no-progress", "--no-tensorboard"]
        )  # fmt: skip
    assert code == 0, err.getvalue()
    return out / "best.pt", err.getvalue()


@pytest.fixture(scope="session", autouse=True)
def auto_backend_is_torch():
    """``backend: auto`` picks torch in the suite (SCCOSF_AUTO_BACKEND; node processes inherit
    it): otherwise every checkpoint a test trains would be exported to ONNX and checked in bf16
    at 480×640 on first use. The tests of the choice itself use ``real_auto_backend``."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SCCOSF_AUTO_BACKEND", "torch")
        yield


@pytest.fixture
def real_auto_backend(monkeypatch):
    """The real ``auto`` choice of this machine (no SCCOSF_AUTO_BACKEND)."""
    monkeypatch.delenv("SCCOSF_AUTO_BACKEND", raising=False)
