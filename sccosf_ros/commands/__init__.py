"""Subcommands of ``sccosf``: each has ``add_arguments(parser)`` and ``run(args) -> int``."""
