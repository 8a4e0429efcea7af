"""CODEOWNERS generated from model owners and registry.yaml approvers, and kept current."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from builders import DEFAULT_POLICY, init_repo, write_model, write_version
from registry_gen.cli import main
from registry_gen.codeowners import (
    GOVERNANCE_HEADER,
    HEADER,
    owner_problem,
    render_codeowners,
    write_codeowners,
)
from registry_gen.store import load_index
from registry_gen.validate._governance import GOVERNANCE_PATTERNS

POLICY = (
    DEFAULT_POLICY + "approvers:\n  Production: ['@org/ml-leads', '@carol']\n"
    "  Staging: ['@carol']\n"
)


def make(tmp_path: Path) -> Path:
    root = init_repo(tmp_path / "r", policy=POLICY)
    write_model(root, "churn", owners=["@ml-team", "dana@example.com", "not a handle"])
    write_version(root, "churn", 1)
    write_model(root, "fraud")
    write_model(root, "ads", owners=["@org/ads"])
    return root


def test_render(tmp_path: Path) -> None:
    text = render_codeowners(load_index(make(tmp_path)))
    # The governance section (every governance path, owned by the admins; here the
    # approvers, as registry.yaml names no admins) comes last so that it wins.
    assert text == HEADER + (
        "/models/ads/ @org/ads\n/models/churn/ @ml-team dana@example.com\n"
    ) + GOVERNANCE_HEADER + "".join(f"{p} @carol @org/ml-leads\n" for p in GOVERNANCE_PATTERNS)
    assert "/.github/ @carol @org/ml-leads\n/registry.yaml @carol @org/ml-leads\n" in text


def test_owner_problem() -> None:
    assert owner_problem("@octo-cat") is None
    assert owner_problem("@org/team.name") is None
    assert owner_problem("a.b@example.org") is None
    assert "'@bob'" in (owner_problem("bob") or "")
    assert owner_problem("@-bad") is not None
    assert owner_problem("two words") is not None


def test_write_and_check(tmp_path: Path) -> None:
    root = make(tmp_path)
    path, changed = write_codeowners(root, load_index(root))
    assert changed and path == root / ".github/CODEOWNERS"
    assert write_codeowners(root, load_index(root)) == (path, False)

    runner = CliRunner()
    assert runner.invoke(main, ["-C", str(root), "codeowners", "--check"]).exit_code == 0
    write_model(root, "fraud", owners=["@fraud-team"])
    stale = runner.invoke(main, ["-C", str(root), "codeowners", "--check"])
    assert stale.exit_code == 1 and "out of date" in stale.output
    wrote = runner.invoke(main, ["-C", str(root), "codeowners"])
    assert wrote.exit_code == 0 and "wrote" in wrote.output
    assert "/models/fraud/ @fraud-team\n" in path.read_text()
