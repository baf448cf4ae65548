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
