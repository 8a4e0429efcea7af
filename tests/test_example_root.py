"""The example registry in this repository's root tells a consistent story (fast).

Its history is this repository's own merge commits, made by scripts/build_example.py
and corrected since by new pull requests in the same style (never rewritten); the
checks are build_example's own (:func:`consistency_problems`).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_the_root_example_is_consistent() -> None:
    if "build_example" in sys.modules:
        script = sys.modules["build_example"]
    else:
        spec = importlib.util.spec_from_file_location(
            "build_example", ROOT / "scripts/build_example.py"
        )
        assert spec is not None and spec.loader is not None
        script = importlib.util.module_from_spec(spec)
        sys.modules["build_example"] = script  # dataclasses look their module up there
        spec.loader.exec_module(script)
    assert script.consistency_problems(ROOT) == []
