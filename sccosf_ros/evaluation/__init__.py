"""Offline evaluation of a checkpoint on a dataset split: the `sccosf eval` driver, its report.

Layer 7, beside ``training`` (neither imports the other): ``evaluate`` (run a ``Predictor`` over
a split, score it, write ``metrics.json``), ``report`` (Markdown tables in the layout of the
paper's Tables 1–2, example grid, violin plot) and ``paper_results`` (the paper's published
numbers the report sets beside ours). Training validation scores with the same
``metrics.segmentation.SegmentationEvaluator``.
"""
