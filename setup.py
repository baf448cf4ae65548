"""ament_python package sccosf_ros: colcon builds it, pip installs it."""

import re
from glob import glob
from pathlib import Path

from setuptools import find_packages, setup

PACKAGE = "sccosf_ros"


def read_version() -> str:
    """``__version__`` from sccosf_ros/__init__.py, read as text: building the package must not
    import it (nor torch and the rest it needs)."""
    text = (Path(__file__).resolve().parent / PACKAGE / "__init__.py").read_text()
    match = re.search(r'^__version__ = "([^"]+)"$', text, re.MULTILINE)
    if match is None:
        raise RuntimeError(f'no __version__ = "..." line in {PACKAGE}/__init__.py')
    return match.group(1)


# PyPI wheels of ROS 2 Kilted: a real rclpy on machines without a ROS install.
ROS_WHEELS = [
    "ros-kilted-rclpy",
    "ros-kilted-sensor-msgs",
    "ros-kilted-std-msgs",
    "ros-kilted-diagnostic-msgs",
    "ros-kilted-rosgraph-msgs",
    "ros-kilted-rmw-fastrtps-cpp",
    "ros-kilted-lifecycle-msgs",
]

# What torch.onnx's dynamo exporter needs (sccosf export and every non-torch backend).
ONNX_EXPORT = ["onnx>=1.16", "onnxscript>=0.5"]

setup(
    name=PACKAGE,
    version=read_version(),
    packages=find_packages(exclude=["test", "test.*"]),
    # the web view's page (sccosf_ros/ros/web/static): served from the installed package
    package_data={"sccosf_ros.ros.web": ["static/*.html", "static/*.js", "static/*.css"]},
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/launch", glob("launch/*.launch.py")),
        (
            f"share/{PACKAGE}/config",
            glob("config/*.yaml") + glob("config/*.rviz") + glob("config/*.xml"),
        ),
        (f"share/{PACKAGE}/config/cameras", glob("config/cameras/*.yaml")),
        (f"share/{PACKAGE}/models", glob("models/*.pt") + glob("models/*.md")),
        (
            f"share/{PACKAGE}/config/recipes",
            glob("config/recipes/*.yaml") + glob("config/recipes/*.json"),
        ),
    ],
    python_requires=">=3.10",
    install_requires=[
        "setuptools",
        "numpy>=1.24",
        "opencv-python-headless>=4.8",
        "torch>=2.1",
        "torchvision",
        "timm>=1.0",
        "rosbags>=0.10",
        "mcap>=1.1",  # forward scan of truncated MCAP recordings (bag/mcap_salvage.py)
        "pyyaml",
        "tqdm",
        "matplotlib",
        "pillow",
    ],
    extras_require={
        "ros": ROS_WHEELS,
        "dev": [
            "pytest>=7",
            "pytest-timeout",
            "ruff>=0.5",
            "import-linter>=2.1",  # the layer contracts in .importlinter (make lint)
            "colcon-common-extensions",
            "tensorboard",
            "mambapy",
        ],
        "gpu": ["mamba-ssm>=2.2", "causal-conv1d>=1.4"],
        # inference backends (sccosf_ros/backends); each brings the ONNX exporter's needs
        "onnx": [*ONNX_EXPORT, "onnxruntime>=1.20"],
        "openvino": [*ONNX_EXPORT, "openvino>=2024.4"],
        # onnxruntime-gpu replaces the CPU onnxruntime (same module): install one of the two
        "tensorrt": [*ONNX_EXPORT, "tensorrt>=10.0", "onnxruntime-gpu>=1.20"],
    },
    zip_safe=True,
    maintainer="sccosf_ros maintainers",
    maintainer_email="sccosf@example.com",
    description="SC-CoSF RGB-thermal fusion and segmentation for ROS 2",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "sccosf_node = sccosf_ros.ros.node:main",
            "sccosf_lifecycle_node = sccosf_ros.ros.lifecycle_node:main",
            "sccosf = sccosf_ros.cli:main",
        ],
    },
)
