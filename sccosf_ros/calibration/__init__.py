"""Thermal ↔ RGB rig calibration: ``sccosf calibrate`` (see ``calibrate.py``).

``board`` finds a heated calibration board in an RGB or a thermal image (small thermal cores
upscaled), ``board_size`` measures it there (too small?), ``frames`` yields the
image pairs (matched folders or a rosbag2), ``homography`` fits the thermal → RGB homography
over all pairs, ``preview`` draws thermal edges over RGB before and after registration.
"""
