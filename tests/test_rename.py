"""Renaming a registered model: the moved folder, its redirect, and every route following it."""

from __future__ import annotations

import json
import logging
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from loader_fixtures import ROWS, Registry, copy_registry
from site_builders import write_api

from builders import commit, git
from registry_gen import load_model
from registry_gen.cli import main
from registry_gen.client import RegistryClient
from registry_gen.errors import AlreadyExists, InvalidRegistry, ModelNotFound
from registry_gen.history import read_history
from registry_gen.store import load_index
from registry_gen.validate import validate_change, validate_tree


def rule_codes(report: Any) -> list[str]:
    return sorted(f.code for f in report.errors)


@pytest.fixture
def copy(reg: Registry, tmp_path: Path, cache_dir: Path) -> Registry:
    """A private copy of the loader registry (churn v1-v3 with @champion v3, real DVC)."""
    return copy_registry(reg, tmp_path)


def test_rename_moves_the_folder_and_leaves_a_redirect(
    copy: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    assert load_model("models:/churn@champion", registry=copy.root).version == 3  # saved
    client = RegistryClient(copy.root)
    renamed = client.rename_registered_model("churn", "churn-classifier")

    assert renamed.name == "churn-classifier"
    assert [v.version for v in renamed.versions] == [1, 2, 3]
    models = copy.root / "models"
    assert sorted(p.name for p in (models / "churn").iterdir()) == ["moved.yaml"]
    assert "to: churn-classifier" in (models / "churn" / "moved.yaml").read_text()
    assert "name: churn-classifier" in (models / "churn-classifier" / "model.yaml").read_text()
    assert not validate_tree(copy.root).errors

    # The client answers to the new name only (as MLflow), and says where the old went.
    with pytest.raises(ModelNotFound, match="renamed to 'churn-classifier'"):
        client.get_registered_model("churn")

    # The loader follows the redirect, with a note, from the working tree.
    caplog.set_level(logging.WARNING, logger="registry_gen")
    model = load_model("models:/churn@champion", registry=copy.root)
    assert (model.name, model.version) == ("churn-classifier", 3)
    np.testing.assert_array_equal(model.predict(ROWS), copy.models["churn/3"].predict(ROWS))
    assert "'churn' was renamed to 'churn-classifier'" in caplog.text
    assert load_model("models:/churn-classifier/1", registry=copy.root).version == 1


def test_rename_on_a_branch_is_one_reviewable_commit(copy: Registry) -> None:
    git(copy.root, "status", "--porcelain")
    RegistryClient(copy.root).rename_registered_model("churn", "churn-v2", branch=True)

    branch = git(copy.root, "rev-parse", "--abbrev-ref", "HEAD").strip()
    assert branch.startswith("rename/churn-to-churn-v2")
    assert git(copy.root, "status", "--porcelain").strip() == ""
    changed = git(copy.root, "show", "--name-status", "--format=%s", "HEAD").splitlines()
    assert changed[0] == "Rename registered model churn to churn-v2"
    assert any(line.startswith("A\tmodels/churn/moved.yaml") for line in changed)
    assert any(line.startswith("R") and "models/churn-v2/3/" in line for line in changed)

    report = validate_change(copy.root, "main", "HEAD")
    assert not report.errors, [str(f) for f in report.errors]
    assert "RG304" not in {f.code for f in report.findings}
    assert report.change is not None
    assert [m.name for m in report.change.models] == ["churn-v2"]

    # History follows the model across the rename: its registrations are the new name's.
    history = read_history(copy.root)
    kinds = [(e.kind, e.version) for e in history.for_model("churn-v2")]
    assert ("registered", 1) in kinds
    assert history.for_model("churn") == ()


def test_the_redirect_on_a_git_url_and_on_the_published_site(
    copy: Registry, tmp_path: Path
) -> None:
    RegistryClient(copy.root).rename_registered_model("churn", "churn-v2")
    commit(copy.root, "Rename churn")

    bare = tmp_path / "registry.git"
    git(tmp_path, "clone", "-q", "--bare", str(copy.root), str(bare))
    model = load_model("models:/churn/production", registry=f"{bare}#main")
    assert (model.name, model.version) == ("churn-v2", 3)

    site = tmp_path / "site"
    write_api(copy.root, site)
    assert json.loads((site / "api/index.json").read_text())["moved"] == {"churn": "churn-v2"}
    with _serve(site) as url:
        model = load_model("models:/churn/2", registry=url)
        assert (model.name, model.version) == ("churn-v2", 2)
        np.testing.assert_array_equal(model.predict(ROWS), copy.models["churn/2"].predict(ROWS))


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *_args: Any) -> None:
        pass


class _serve:
    def __init__(self, root: Path) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))

    def __enter__(self) -> str:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_renaming_again_repoints_old_redirects_and_back_replaces_one(small_registry: Path) -> None:
    client = RegistryClient(small_registry)
    client.rename_registered_model("churn", "churn-b")
    client.rename_registered_model("churn-b", "churn-c")
    index = load_index(small_registry)
    assert dict(index.moved) == {"churn": "churn-c", "churn-b": "churn-c"}  # no chain
    assert index.resolve("models:/churn/3").name == "churn-c"
    assert not validate_tree(small_registry).errors

    client.rename_registered_model("churn-c", "churn")  # back onto its first name
    index = load_index(small_registry)
    assert dict(index.moved) == {"churn-b": "churn", "churn-c": "churn"}
    assert index.resolve("models:/churn-b@champion").version == 3
    assert not validate_tree(small_registry).errors


def test_rename_refuses_taken_and_unknown_names(small_registry: Path) -> None:
    client = RegistryClient(small_registry)
    with pytest.raises(AlreadyExists, match="'fraud' already exists"):
        client.rename_registered_model("churn", "fraud")
    with pytest.raises(ModelNotFound, match="'ghost'"):
        client.rename_registered_model("ghost", "spirit")
    with pytest.raises(Exception, match="lowercase"):
        client.rename_registered_model("churn", "Churn2")
    client.rename_registered_model("fraud", "fraud-v2")
    with pytest.raises(AlreadyExists, match="old name of 'fraud-v2'"):
        client.rename_registered_model("churn", "fraud")
    assert git(small_registry, "status", "--porcelain", "--", "models/churn").strip() == ""


@pytest.mark.parametrize(
    ("text", "extra", "message"),
    [
        ("to: ghost\n", None, "which is not a registered model"),
        ("to: fraud-old\n", ("fraud-old", "to: fraud\n"), "redirects again"),
        ("to: churn\n", ("churn", None), "holds both a registered model and a redirect"),
        ("to: Fraud\n", None, "moved.yaml"),
        ("goes: fraud\n", None, "moved.yaml"),
    ],
)
def test_rg209_keeps_redirects_simple(
    small_registry: Path, text: str, extra: tuple[str, str | None] | None, message: str
) -> None:
    folder = small_registry / "models" / "old-name"
    folder.mkdir()
    (folder / "moved.yaml").write_text(text)
    if extra is not None and extra[1] is not None:
        (small_registry / "models" / extra[0]).mkdir()
        (small_registry / "models" / extra[0] / "moved.yaml").write_text(extra[1])
    if extra is not None and extra[1] is None:
        (small_registry / "models" / "churn" / "moved.yaml").write_text("to: fraud\n")
    report = validate_tree(small_registry)
    found = [f for f in report.errors if f.code == "RG209"]
    assert found, [str(f) for f in report.errors]
    assert any(message in f"{f.file} {f.message}" for f in found), [str(f) for f in found]


def test_a_broken_redirect_is_an_error_for_the_loader(small_registry: Path) -> None:
    (small_registry / "models" / "old").mkdir()
    (small_registry / "models" / "old" / "moved.yaml").write_text("to: [1]\n")
    with pytest.raises(InvalidRegistry, match=r"moved\.yaml"):
        load_index(small_registry).resolve("models:/old/1")
    (small_registry / "models" / "old" / "moved.yaml").write_text("to: ghost\n")
    with pytest.raises(ModelNotFound, match="'old' was renamed to 'ghost', which does not exist"):
        load_index(small_registry).resolve("models:/old/1")


def test_cli_rename(small_registry: Path) -> None:
    result = CliRunner().invoke(
        main, ["-C", str(small_registry), "rename", "fraud", "fraud-detector", "--branch"]
    )
    assert result.exit_code == 0, result.output
    assert "Renamed fraud → fraud-detector" in result.output
    assert "Committed on branch rename/fraud-to-fraud-detector" in result.output
    bad = CliRunner().invoke(main, ["-C", str(small_registry), "rename", "ghost", "x"])
    assert bad.exit_code == 1
    assert "error: no registered model named 'ghost'" in bad.output


def test_rename_writes_codeowners_again_when_the_registry_keeps_one(copy: Registry) -> None:
    from registry_gen.codeowners import write_codeowners

    model_file = copy.root / "models" / "churn" / "model.yaml"
    model_file.write_text(model_file.read_text() + "owners:\n- '@acme/churn-team'\n")
    write_codeowners(copy.root, load_index(copy.root))
    commit(copy.root, "churn has owners")

    RegistryClient(copy.root).rename_registered_model("churn", "churn-v2", branch=True)

    owners = (copy.root / ".github" / "CODEOWNERS").read_text()
    assert "/models/churn-v2/ @acme/churn-team" in owners
    # The old name's redirect stays with the target's owners (who review a repoint).
    assert "/models/churn/ @acme/churn-team" in owners
    changed = git(copy.root, "show", "--name-only", "--format=", "HEAD").split()
    assert ".github/CODEOWNERS" in changed
    assert git(copy.root, "status", "--porcelain").strip() == ""
    assert "RG802" not in rule_codes(validate_change(copy.root, "main", "HEAD"))


def test_the_website_keeps_a_page_at_the_old_address(copy: Registry) -> None:
    from registry_gen.site.render import render_site

    RegistryClient(copy.root).rename_registered_model("churn", "churn-classifier")
    pages = render_site(load_index(copy.root), read_history(copy.root))

    old = pages["models/churn/index.md"]
    assert "search:\n  exclude: true" in old
    assert "was renamed to" in old and "href='../churn-classifier/'" in old
    assert "href='../../churn-classifier/3/'" in pages["models/churn/3/index.md"]
    assert "models/churn-classifier/3/index.md" in pages
