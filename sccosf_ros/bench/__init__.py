"""Benchmarks behind ``sccosf bench`` (layer 8: above everything they measure, below commands).

Targets: ``model``, ``scan``, ``train``, ``node``, ``runtime``, ``gpu`` — each module has
``add_arguments`` and ``run``. What they share, used through public functions only:
``frames`` (the test frames), ``timing`` (synchronised timing, warm-up, percentiles),
``tables`` (Markdown / fixed-width tables, ``--json`` / ``--markdown``), ``errors``
(``BenchError``, a ``SccosfError``, and the input checks) and ``scan_cases`` (scan inputs).
The GPU check's parts are ``gpu_<group>.py`` modules run by ``gpu_parts``.
"""
