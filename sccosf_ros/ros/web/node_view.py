"""The node's side of the web view: built from ``web.*``, fed each pair's images and each
``/diagnostics`` array by ``sccosf_ros.ros.node`` (one call each, O(1), never blocking)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sccosf_ros.pipeline.outputs import OUTPUT_NAMES
from sccosf_ros.pipeline.params import NodeParams
from sccosf_ros.pipeline.processor import StartupError
from sccosf_ros.ros.web.server import WebConfig, WebError, WebView

# What the page shows: the picture outputs and the inputs as the model saw them (class ids in
# ~/segmentation are shown by segmentation_color).
NODE_STREAMS = (*(n for n in OUTPUT_NAMES if n != "segmentation"), "rgb", "thermal")


def web_config(params: NodeParams) -> WebConfig:
    return WebConfig(
        port=params.web_port,
        bind=params.web_bind,
        max_fps=params.web_max_fps,
        quality=params.web_quality,
        max_clients=params.web_max_clients,
    )


def start_node_view(
    params: NodeParams,
    *,
    title: str,
    legend: dict[str, Any],
    parameters: Callable[[], dict[str, Any]],
    log: Callable[[str], None],
) -> WebView:
    """The web view listening; StartupError (one line; a lifecycle activate fails with it) when
    it cannot."""
    view = WebView(web_config(params), title=title, log=log)
    for name in NODE_STREAMS:
        view.add_stream(name)
    view.board.set_legend(legend)
    view.board.set_parameters(parameters)
    try:
        return view.start()
    except WebError as e:
        raise StartupError(e.message) from None


def publish_pair(view: WebView, out: Any, stamp_ns: int) -> None:
    """A processed pair's images (``PairOutput``) as the streams' newest frames."""
    for name, array in out.images.items():
        view.put(name, array, stamp_ns)
    view.put("rgb", out.rgb, stamp_ns)
    view.put("thermal", out.thermal, stamp_ns)
