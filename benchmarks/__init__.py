"""registry-gen's benchmarks: synthetic registries of any size, timed against targets.

Run them with ``./dev bench`` (or ``.venv/bin/python -m benchmarks --help``);
see ``benchmarks/README.md`` for what each figure means.
"""
