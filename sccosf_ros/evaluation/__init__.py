"""Offline evaluation of a checkpoint on a dataset split: the `sccosf eval` driver, its report.

Layer 7, beside ``training`` (neither imports the other): ``evaluate`` (run a ``Predictor`` over
a split, score it, write ``metrics.json``), ``report`` (Markdown tables in the layout of the
paper's Tables 1–2, example grid, violin plot), ``paper_results`` (the paper's published
numbers the report sets beside ours), and ``image_pairs`` / ``pairs_report`` (fusion quality on
folders of unlabelled pairs against baselines: ``sccosf eval --rgb --thermal``). Training
validation scores with the same ``metrics.segmentation.SegmentationEvaluator``.
"""
