"""The built-in live web view: the page, MJPEG streams, snapshots and ``/api/status`` served
from the node's own process (``web.enable``) or by ``sccosf web --topics ...``."""
