"""Large images out of the box: the package's Fast DDS profile for this process's participant.

Fast DDS's default shared-memory segment is 512 KiB. A 640x480 rgb8 frame (900 KiB) does not
fit, goes out as UDP fragments, and a best-effort subscriber (``ros2 topic hz``, RViz, camera
tools) loses most of them: measured here, 0 of 50 frames at 10 Hz reached a default-settings
subscriber in another process. In Fast DDS shared memory the *writer's* segment carries the
data, so giving our own participant a 16 MiB segment (``config/fastdds_large_images.xml``) is
enough: 50 of 50 640x480 frames and 30 of 30 1920x1080 frames (at 30 Hz) reached the same
default subscriber. (``FASTDDS_BUILTIN_TRANSPORTS=LARGE_DATA`` on the writer alone does not
help such a subscriber: 0 of 50, since its data path needs TCP on both sides.)

:func:`apply_large_image_profile` points ``FASTDDS_DEFAULT_PROFILES_FILE`` at that profile for
the current process (``sccosf_node``, ``sccosf_lifecycle_node`` and ``sccosf replay`` call it
before ``rclpy.init``), unless the user brought a DDS configuration of their own:

* ``SCCOSF_DDS_PROFILE=none`` (or ``off``/``0``/``false``): leave DDS alone;
  ``SCCOSF_DDS_PROFILE=/path/profile.xml``: use that file instead;
* ``FASTDDS_DEFAULT_PROFILES_FILE``, ``FASTRTPS_DEFAULT_PROFILES_FILE`` or
  ``FASTDDS_BUILTIN_TRANSPORTS`` set, or a ``DEFAULT_FASTDDS_PROFILES.xml`` in the working
  directory (Fast DDS loads it by itself): theirs is used;
* another RMW than Fast DDS (``RMW_IMPLEMENTATION``): nothing to do.

:func:`isolate_ros_domain` gives a run that starts its own nodes (``sccosf demo``, ``sccosf bench
node``) a private DDS domain on localhost unless the user chose one.
"""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterator, MutableMapping
from pathlib import Path

PROFILE_RELATIVE = "config/fastdds_large_images.xml"
OPT_ENV = "SCCOSF_DDS_PROFILE"
PROFILE_ENVS = ("FASTDDS_DEFAULT_PROFILES_FILE", "FASTRTPS_DEFAULT_PROFILES_FILE")
USER_DDS_ENVS = (*PROFILE_ENVS, "FASTDDS_BUILTIN_TRANSPORTS")
# Distributions on Fast DDS 2.x, which reads FASTRTPS_DEFAULT_PROFILES_FILE (3.x, from Kilted
# on, reads FASTDDS_DEFAULT_PROFILES_FILE and warns that the old name is deprecated).
FAST_DDS_2_DISTROS = ("foxy", "galactic", "humble", "iron", "jazzy")
CWD_PROFILE = "DEFAULT_FASTDDS_PROFILES.xml"
OFF_WORDS = ("none", "off", "0", "false", "no")


def package_profile() -> Path | None:
    """The installed (or source-tree) ``config/fastdds_large_images.xml``."""
    from sccosf_ros.paths import find_share_file

    return find_share_file(PROFILE_RELATIVE)


def apply_large_image_profile(environ: MutableMapping[str, str] | None = None) -> str:
    """Set this process's Fast DDS profile (module docstring); one line saying what was done.

    Call before the first rclpy context is initialised: Fast DDS reads the variable when it
    creates its participant factory.
    """
    env = os.environ if environ is None else environ
    rmw = env.get("RMW_IMPLEMENTATION", "")
    if rmw and not rmw.startswith("rmw_fastrtps"):
        return f"DDS: {rmw} in use, the Fast DDS large-image profile does not apply"
    choice = env.get(OPT_ENV, "").strip()
    if choice.lower() in OFF_WORDS:
        return f"DDS: {OPT_ENV}={choice}: DDS settings left as they are"
    for name in USER_DDS_ENVS:
        if env.get(name):
            return f"DDS: using your {name}={env[name]} (the package profile is not applied)"
    if not choice and Path(CWD_PROFILE).is_file():
        return f"DDS: using ./{CWD_PROFILE} (the package profile is not applied)"
    profile = Path(choice).expanduser() if choice else package_profile()
    if profile is None or not profile.is_file():
        where = f"{OPT_ENV}={choice}" if choice else PROFILE_RELATIVE
        return f"DDS: profile {where} not found; large best-effort images may be lost"
    env[PROFILE_ENVS[0]] = str(profile)
    if env.get("ROS_DISTRO", "").lower() in FAST_DDS_2_DISTROS:
        env[PROFILE_ENVS[1]] = str(profile)
    return (
        f"DDS: Fast DDS profile {profile} applied to this process (16 MiB shared memory, "
        f"camera-sized images); {OPT_ENV}=none or your own FASTDDS_DEFAULT_PROFILES_FILE "
        "turns it off"
    )


@contextlib.contextmanager
def large_image_profile() -> Iterator[str]:
    """:func:`apply_large_image_profile` for the participants created inside the block; the
    environment is restored after it, so a caller that goes on (a test, the demo) and the
    processes it starts later keep their own settings."""
    before = {name: os.environ.get(name) for name in PROFILE_ENVS}
    try:
        yield apply_large_image_profile()
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def isolate_ros_domain() -> str:
    """A private ``ROS_DOMAIN_ID`` (101-200) on localhost unless ``ROS_DOMAIN_ID`` is set, so
    the run never talks to (or disturbs) other ROS 2 processes; the nodes it starts inherit
    it. Returns a description for the run's report."""
    if "ROS_DOMAIN_ID" not in os.environ:
        os.environ["ROS_DOMAIN_ID"] = str(random.SystemRandom().randint(101, 200))
        os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
        return f"private ROS_DOMAIN_ID={os.environ['ROS_DOMAIN_ID']} on localhost"
    return f"ROS_DOMAIN_ID={os.environ['ROS_DOMAIN_ID']} (from the environment)"
