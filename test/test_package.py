"""The ament_python package: colcon builds and installs what `ros2 run`/`ros2 launch` need."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SKIP = {
    ".venv",
    ".git",
    "build",
    "install",
    "log",
    "outputs",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    "sccosf_ros.egg-info",
}


def _copy_source(dst: Path) -> None:
    shutil.copytree(REPO, dst, ignore=lambda d, names: [n for n in names if n in SKIP])


def test_package_xml_is_format3_ament_python():
    from catkin_pkg.package import parse_package

    pkg = parse_package(str(REPO / "package.xml"))
    assert pkg.package_format == 3
    assert pkg.name == "sccosf_ros"
    assert pkg.get_build_type() == "ament_python"
    deps = {d.name for d in pkg.exec_depends}
    assert {"rclpy", "sensor_msgs", "message_filters", "cv_bridge", "diagnostic_msgs"} <= deps


def test_setup_installs_the_camera_presets(tmp_path):
    """setup.py's data files put every config/cameras/*.yaml under share/sccosf_ros/config/cameras
    (what `ros2 launch ... params_file:=$(ros2 pkg prefix ...)/share/...` finds)."""
    src = tmp_path / "src"
    _copy_source(src)
    proc = subprocess.run(
        [sys.executable, "setup.py", "-q", "install_data", "-d", str(tmp_path / "inst")],
        cwd=src,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    presets = sorted(p.name for p in (REPO / "config" / "cameras").glob("*.yaml"))
    installed = tmp_path / "inst" / "share" / "sccosf_ros" / "config" / "cameras"
    assert len(presets) >= 4
    assert sorted(p.name for p in installed.glob("*.yaml")) == presets


@pytest.mark.slow
def test_colcon_build_installs_executables_and_share_files(tmp_path):
    src = tmp_path / "ws" / "src" / "sccosf_ros"
    _copy_source(src)
    ws = tmp_path / "ws"
    colcon = Path(sys.executable).with_name("colcon")
    proc = subprocess.run(
        [str(colcon), "build", "--base-paths", "src", "--event-handlers", "console_direct-"],
        cwd=ws,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    prefix = ws / "install" / "sccosf_ros"
    for rel in (
        "lib/sccosf_ros/sccosf_node",
        "lib/sccosf_ros/sccosf_lifecycle_node",
        "lib/sccosf_ros/sccosf",
        "share/sccosf_ros/launch/sccosf.launch.py",
        "share/sccosf_ros/config/sccosf.yaml",
        "share/sccosf_ros/config/sccosf.rviz",
        "share/sccosf_ros/config/fastdds_large_images.xml",
        "share/sccosf_ros/config/cameras/lepton35_radiometric.yaml",
        "share/sccosf_ros/package.xml",
        "share/ament_index/resource_index/packages/sccosf_ros",
    ):
        assert (prefix / rel).is_file(), f"colcon did not install {rel}"
    assert os.access(prefix / "lib/sccosf_ros/sccosf_node", os.X_OK)

    # The installed console script runs from the install space (what `ros2 run` executes).
    site = next((prefix / "lib").glob("python3*/site-packages"))
    for page in ("index.html", "app.js", "style.css"):  # the web view's page (package data)
        assert (site / "sccosf_ros/ros/web/static" / page).is_file(), page
    env = dict(os.environ, PYTHONPATH=f"{site}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    out = subprocess.run(
        [sys.executable, str(prefix / "lib/sccosf_ros/sccosf"), "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert "bag-eval" in out.stdout


def test_fastdds_profile_gives_shared_memory_room_for_camera_images():
    import xml.etree.ElementTree as ET

    ns = {"f": "http://www.eprosima.com/XMLSchemas/fastRTPS_Profiles"}
    root = ET.parse(REPO / "config" / "fastdds_large_images.xml").getroot()
    shm = [
        t
        for t in root.iterfind(".//f:transport_descriptor", ns)
        if t.findtext("f:type", namespaces=ns) == "SHM"
    ]
    assert shm and int(shm[0].findtext("f:segment_size", namespaces=ns)) >= 4 * 640 * 480 * 3
    participant = root.find("f:participant", ns)
    assert participant.get("is_default_profile") == "true"


@pytest.mark.filterwarnings("ignore:nodes.Node.traverse:DeprecationWarning")  # catkin_pkg's
def test_one_version_everywhere():
    """sccosf_ros.__version__ is the source: package.xml, setup.py, the changelog's newest
    release and `sccosf --version` agree with it."""
    from catkin_pkg.changelog import get_changelog_from_path
    from catkin_pkg.package import parse_package

    from sccosf_ros import __version__

    assert parse_package(str(REPO / "package.xml")).version == __version__
    setup_py = subprocess.run(
        [sys.executable, "setup.py", "--version"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert setup_py.returncode == 0, setup_py.stderr
    assert setup_py.stdout.strip().splitlines()[-1] == __version__
    released = [
        v
        for v, _date, _content in get_changelog_from_path(
            str(REPO / "CHANGELOG.rst")
        ).foreach_version()
    ]
    assert released and released[0] == __version__
    cli = subprocess.run(
        [sys.executable, "-m", "sccosf_ros.cli", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cli.returncode == 0 and cli.stdout.strip() == f"sccosf {__version__}"


def test_license_is_the_apache_2_text_package_xml_names():
    from catkin_pkg.package import parse_package

    assert parse_package(str(REPO / "package.xml")).licenses == ["Apache-2.0"]
    text = (REPO / "LICENSE").read_text()
    assert "Apache License\n                           Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text and len(text.splitlines()) == 202
