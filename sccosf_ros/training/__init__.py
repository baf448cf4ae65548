"""Training SC-CoSF (paper §4.1): ``sccosf train``, on one CPU or many GPUs under torchrun.

Layer 7, beside ``evaluation`` (neither imports the other); the dataset readers are below, in
``sccosf_ros.data``. Modules, one concept each: ``config`` (``TrainConfig``), ``errors``,
``recipes`` (the paper's settings as YAML), ``plan`` (the run resolved against the data),
``time_estimate``, ``trainer`` (set-up and the loop), ``validation``, ``checkpointing``
(latest.pt / best.pt, resume, export), ``rng_state``, ``sampling`` (which samples each step
sees), ``losses``, ``param_groups``, ``schedule``, ``run_log``, ``stop_signals``,
``distributed`` and ``sync_batchnorm``.
"""
