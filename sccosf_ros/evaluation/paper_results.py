"""The paper's own numbers, for reports that put our results beside them.

Source: SC-CoSF, Sensors 2025 (full text in the project's shared/paper/SC-CoSF.txt),
Table 1 "Quantitative segmentation on the MFNet dataset", Table 2 "Quantitative segmentation on
the FMB dataset" and Table 4 "Quantitative segmentation of ablation studies" (MFNet). Values are
IoU in percent, transcribed verbatim; "Ours" is SC-CoSF. The MFNet mIoU is over all 9 classes
(the 8 object columns alone average 55.0, not 59.8). Figure 9 (EN and SD violin plots) gives no
numeric values in the text, so there are no paper fusion-metric numbers to transcribe.
"""

from __future__ import annotations

from sccosf_ros.classes import MFNET_CLASSES

# Column headers as printed in the paper, and the dataset class each one reports.
MFNET_COLUMNS: tuple[str, ...] = (
    "Car",
    "Person",
    "Bike",
    "Curve",
    "Car Stop",
    "Guar.",
    "Cone",
    "Bump",
)
# Table 1's columns: MFNet's classes without ``unlabeled``.
MFNET_COLUMN_CLASSES: tuple[str, ...] = MFNET_CLASSES[1:]
FMB_COLUMNS: tuple[str, ...] = (
    "Car",
    "Person",
    "Truck",
    "T-Lamp",
    "T-Sign",
    "Buil.",
    "Vege.",
    "Pole",
)
FMB_COLUMN_CLASSES: tuple[str, ...] = (
    "Car",
    "Person",
    "Truck",
    "Lamp",
    "Sign",
    "Building",
    "Vegetation",
    "Pole",
)

# method → (per-column IoU %, mIoU %), rows in the paper's order (Table 1).
TABLE1_MFNET: dict[str, tuple[tuple[float, ...], float]] = {
    "SeAFusion": ((84.2, 71.1, 58.7, 33.1, 20.1, 0.0, 40.4, 33.9), 48.8),
    "LASNet": ((84.2, 67.1, 56.9, 41.1, 39.6, 18.9, 48.9, 40.1), 54.9),
    "SegMiF": ((87.8, 71.4, 63.2, 47.5, 31.1, 0.0, 48.9, 50.5), 56.1),
    "MDRNet+": ((87.1, 69.8, 60.9, 47.8, 37.8, 6.2, 57.1, 56.0), 56.8),
    "SGFNet": ((88.4, 77.6, 64.3, 45.8, 31.0, 0.6, 57.1, 55.0), 57.6),
    "ConvNeXt": ((89.1, 71.9, 62.3, 44.3, 43.0, 0.0, 51.7, 52.6), 57.0),
    "EAEFNet": ((87.6, 72.6, 63.8, 48.6, 35.0, 14.2, 52.4, 58.3), 58.9),
    "SC-CoSF": ((90.7, 74.1, 65.9, 47.1, 45.7, 1.8, 55.6, 59.2), 59.8),
}

# Table 2 (FMB); the mIoU is over the dataset's classes, not just these 8 columns.
TABLE2_FMB: dict[str, tuple[tuple[float, ...], float]] = {
    "SeAFusion": ((76.2, 59.6, 15.1, 34.4, 68.0, 80.1, 83.5, 38.4), 51.9),
    "MDRNet+": ((79.6, 61.3, 20.7, 19.4, 71.5, 82.2, 85.5, 44.0), 55.9),
    "SegMiF": ((79.0, 31.1, 25.9, 49.1, 74.7, 80.1, 84.6, 49.5), 56.0),
    "LASNet": ((79.4, 54.7, 32.2, 23.2, 70.6, 82.1, 86.1, 45.3), 56.1),
    "ConvNeXt": ((75.0, 63.0, 36.0, 30.1, 65.3, 82.4, 83.2, 44.8), 57.4),
    "EAEFNet": ((83.3, 65.4, 30.6, 23.8, 72.5, 83.9, 86.3, 48.6), 59.7),
    "SGFNet": ((78.1, 68.9, 45.0, 45.0, 72.1, 83.1, 85.8, 45.4), 60.4),
    "SC-CoSF": ((77.5, 67.4, 39.3, 46.7, 72.3, 83.4, 85.0, 52.9), 61.8),
}

# Table 4 (ablations on MFNet, same columns as Table 1). E has no segmentation head.
TABLE4_ABLATION_MFNET: dict[str, tuple[tuple[float, ...], float]] = {
    "A": ((88.0, 71.4, 65.5, 42.2, 40.3, 0.2, 50.4, 48.1), 56.0),
    "B": ((90.0, 73.7, 64.3, 45.5, 40.0, 0.7, 52.3, 62.4), 58.6),
    "C": ((88.8, 61.0, 64.6, 39.1, 42.4, 1.7, 51.9, 58.5), 56.2),
    "D": ((90.5, 73.7, 66.1, 46.0, 39.1, 5.3, 55.3, 61.0), 59.5),
    "F": ((90.5, 73.8, 66.0, 43.8, 40.6, 1.1, 54.8, 63.9), 59.2),
    "Full Model": ((90.7, 74.1, 65.9, 47.1, 45.7, 1.8, 55.6, 59.2), 59.8),
}

PAPER_METHOD = "SC-CoSF"

# Everything a report needs per dataset layout.
PAPER_TABLES: dict[str, dict] = {
    "mfnet": {
        "table": "Table 1",
        "columns": MFNET_COLUMNS,
        "classes": MFNET_COLUMN_CLASSES,
        "rows": TABLE1_MFNET,
    },
    "fmb": {
        "table": "Table 2",
        "columns": FMB_COLUMNS,
        "classes": FMB_COLUMN_CLASSES,
        "rows": TABLE2_FMB,
    },
}

# Fusion metrics with a number in the paper text: none (Figure 9 is a plot only).
PAPER_FUSION: dict[str, dict[str, float]] = {"mfnet": {}, "fmb": {}}
