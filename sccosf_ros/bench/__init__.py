"""Benchmarks behind ``sccosf bench``: each module has ``add_arguments`` and ``run``."""
