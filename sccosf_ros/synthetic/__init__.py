"""Synthetic RGB-thermal street scenes with pixel labels, in the MFNet or FMB class sets.

No real dataset ships with the package, yet tests, the demo, the ROS node checks and CPU
training all need registered RGB + thermal pairs with labels. ``render_scene`` draws one from a
seed with OpenCV shapes: a road in perspective under a sky, sidewalks with curbs, buildings and
trees, and the dataset's object classes placed on the ground plane (a pinhole camera ~1.5 m up).

The two modalities carry different information on purpose, so that a model has to use both:
- RGB carries colour and texture: cones (orange), car stops (yellow), bumps (striped), signs and
  traffic lights, sidewalk pavers versus asphalt, windows, clothing. Posters of people on walls
  look like people in RGB only.
- Thermal carries temperature: people (skin ~34 °C), engines, tyres and exhausts are warm at
  any hour; glass and metal reflect the cold sky; manhole covers over warm pipes are hot blobs
  that RGB shows as plain metal.
- At night the RGB image is dark and noisy (ambient light, street lamps, head/tail lights), so
  most objects are barely visible except in thermal, as in MFNet's night half.

Modules, one concept each: ``settings`` (constants, typed and validated settings), ``scene``
(what a seed's street holds), ``geometry``, ``materials``, ``painter`` and ``draw`` (putting it
into pixels), ``sensor`` (the two cameras), ``render`` (``render_scene``), ``dataset_writer``
(MFNet/FMB folders), ``preview`` and ``bag_writer`` (a rosbag2 recording); ``camera_models``
and ``thermal_camera`` (the real thermal cameras a bag can emulate: units, telemetry rows, FFC
bursts, one per preset in config/cameras); ``style`` (``SceneStyle``: palette, lighting, camera
mount, object mix and thermal look, with presets ``default``, ``industrial``, ``suburb-dusk``);
``class_map`` (labels in a custom class set); ``errors`` (what a user can get wrong, each a
``SccosfError``).

Importing this package never imports ``sccosf_ros.training`` nor rclpy.
"""

from sccosf_ros.data.synth_metadata import LAYOUTS, METADATA_FILE, read_metadata
from sccosf_ros.synthetic.bag_writer import (
    MALFORMED_KINDS,
    SyntheticBag,
    frame_times,
    write_synthetic_bag,
)
from sccosf_ros.synthetic.class_map import ClassMap, read_class_map
from sccosf_ros.synthetic.dataset_writer import write_dataset
from sccosf_ros.synthetic.errors import DatasetExistsError, SyntheticError, SyntheticWriteError
from sccosf_ros.synthetic.preview import preview_grid
from sccosf_ros.synthetic.render import Scene, render_scene
from sccosf_ros.synthetic.scene import scene_seed
from sccosf_ros.synthetic.sensor import counts_from_celsius, thermal8_from_counts
from sccosf_ros.synthetic.settings import (
    TEMPERATURE_RANGE_C,
    THERMAL_COUNTS,
    BagSettings,
    DatasetSettings,
    SceneSettings,
)
from sccosf_ros.synthetic.style import PRESETS, SceneStyle, StyleError, load_style

__all__ = [
    "LAYOUTS",
    "MALFORMED_KINDS",
    "METADATA_FILE",
    "PRESETS",
    "TEMPERATURE_RANGE_C",
    "THERMAL_COUNTS",
    "BagSettings",
    "ClassMap",
    "DatasetExistsError",
    "DatasetSettings",
    "Scene",
    "SceneSettings",
    "SceneStyle",
    "StyleError",
    "SyntheticBag",
    "SyntheticError",
    "SyntheticWriteError",
    "counts_from_celsius",
    "frame_times",
    "load_style",
    "preview_grid",
    "read_class_map",
    "read_metadata",
    "render_scene",
    "scene_seed",
    "thermal8_from_counts",
    "write_dataset",
    "write_synthetic_bag",
]
