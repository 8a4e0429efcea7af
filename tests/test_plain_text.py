"""Descriptions in the terminal: plain text, not Markdown source (issue 15.4)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from builders import commit, write_model, write_version
from registry_gen.cli import main
from registry_gen.markup import plain_text

DESCRIPTION = (
    "# Churn\n\nPredicts **churn** for\nsubscribers; see the [model card](https://example.com/c)."
    "\n\n- weekly\n- `tenure` buckets\n\n```\ndef f():\n    return 1\n```\n"
)


@pytest.mark.parametrize(
    ("markdown", "plain"),
    [
        (
            DESCRIPTION,
            "Churn\n\nPredicts churn for subscribers; see the model card "
            "(https://example.com/c).\n\n- weekly\n- tenure buckets\n\ndef f():\n    return 1",
        ),
        ("", ""),
        ("<https://example.com>", "https://example.com"),
        ("> quoted\n> text", "quoted text"),
        ("| a | b |\n|---|---|\n| 1 | 2 |", "a | b\n1 | 2"),
        # What the sanitiser removes is gone, and so are terminal escape sequences.
        ("Hi <script>alert(1)</script> \x1b[31mred\x1b[0m {{ x }}", "Hi [31mred[0m {{ x }}"),
    ],
)
def test_plain_text(markdown: str, plain: str) -> None:
    assert plain_text(markdown) == plain


def test_list_and_show_print_plain_text(small_registry: Path) -> None:
    write_model(small_registry, "churn", description=DESCRIPTION, owners=["@ml-team"])
    write_version(small_registry, "churn", 3, stage="Production", description=DESCRIPTION)
    commit(small_registry, "Describe churn")
    runner = CliRunner()
    listed = runner.invoke(main, ["-C", str(small_registry), "list"], catch_exceptions=False)
    assert "churn" in listed.output and "# Churn" not in listed.output
    for args in (["show", "churn"], ["show", "models:/churn/3"]):
        shown = runner.invoke(main, ["-C", str(small_registry), *args], catch_exceptions=False)
        assert shown.exit_code == 0, shown.output
        assert "Predicts churn for subscribers; see the model card" in shown.output, args
        assert "**" not in shown.output and "](" not in shown.output and "```" not in shown.output
        assert "- tenure buckets" in shown.output
    versions = runner.invoke(main, ["-C", str(small_registry), "show", "churn"]).output
    row = next(line for line in versions.splitlines() if line.startswith("3 "))
    assert row.rstrip().endswith("Churn")  # the first paragraph, as text
