"""The README's "Using it" walk runs as written, in order, in a fresh registry.

Every ```sh and ```python block of that section becomes one step of one bash
script (Python blocks run through this interpreter), started in an empty
folder with this checkout's ``registry-gen`` first on ``PATH``. A block right
after ``<!-- readme-test: skip -->``, or a shell line ending in
``# readme-test: skip``, is left out: only what needs the network or GitHub.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
SKIP_BLOCK = "<!-- readme-test: skip -->"
SKIP_LINE = "# readme-test: skip"
_FENCE = re.compile(
    r"(?P<skip><!-- readme-test: skip -->\s*\n)?```(?P<lang>sh|python)\n"
    r"(?P<body>.*?)```",
    re.DOTALL,
)


def walk_blocks(text: str) -> list[tuple[str, str]]:
    """``(language, code)`` of each block of the "Using it" section not marked to skip."""
    section = text.split("\n## Using it\n", 1)[1].split("\n## ", 1)[0]
    blocks = []
    for match in _FENCE.finditer(section):
        if match["skip"]:
            continue
        body = match["body"]
        if match["lang"] == "sh":
            body = "".join(
                line
                for line in body.splitlines(keepends=True)
                if not line.rstrip().endswith(SKIP_LINE)
            )
        blocks.append((match["lang"], body))
    return blocks


def script(blocks: list[tuple[str, str]]) -> str:
    """One bash script running the blocks in order (a failing command stops it)."""
    parts = ["set -euo pipefail\nset -x\n"]
    for number, (lang, body) in enumerate(blocks, 1):
        parts.append(f": README block {number}\n")
        if lang == "sh":
            parts.append(body)
        else:
            parts.append(f"\"$README_PYTHON\" - <<'README_PY_{number}'\n{body}README_PY_{number}\n")
    return "".join(parts)


def test_the_walk_has_its_blocks() -> None:
    blocks = walk_blocks(README.read_text(encoding="utf-8"))
    assert [lang for lang, _ in blocks].count("python") >= 2
    assert any("registry-gen init" in body for _, body in blocks)
    skipped = README.read_text(encoding="utf-8").count("readme-test: skip")
    assert skipped <= 4  # only what needs the network or GitHub


@pytest.mark.slow
def test_the_readme_walk_runs_as_written(tmp_path: Path) -> None:
    text = script(walk_blocks(README.read_text(encoding="utf-8")))
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": bin_dir + os.pathsep + os.environ["PATH"],
        "README_PYTHON": sys.executable,
        "GITHUB_STEP_SUMMARY": "",
    }
    env.pop("REGISTRY_GEN_REGISTRY", None)
    result = subprocess.run(
        ["bash", "-c", text],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr[-6000:]}"
