"""Issue 12.4 and 11.3: every registration route records a skops file's trusted types and
the registrant's git identity, and what it registers validates and loads, in a real
registry made by `registry-gen init` (real git, real DVC with its in-repo remote)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from builders import commit, git
from registry_gen import load_model
from registry_gen._trusted_types import check_trusted_types, trusted_type_problem
from registry_gen.cli import main
from registry_gen.client import RegistryClient, log_model, register_model
from registry_gen.errors import UntrustedFormat, UsageError
from registry_gen.formats import load_artifact
from registry_gen.scaffold import init_registry
from registry_gen.validate import validate_change, validate_tree

pytestmark = pytest.mark.usefixtures("cache_dir")

TREE_TYPE = "sklearn.tree._tree.Tree"
ROWS = np.array([[0.1, 0.9, 0.3], [0.8, 0.2, 0.5], [0.4, 0.4, 0.9]])


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return init_registry(tmp_path_factory.mktemp("template") / "reg")


@pytest.fixture
def registry(template: Path, tmp_path: Path) -> Path:
    clone = tmp_path / "reg"
    git(tmp_path, "clone", "-q", str(template), str(clone))
    return clone


@pytest.fixture(scope="module")
def forest() -> Any:
    from sklearn.ensemble import RandomForestClassifier

    x = np.random.default_rng(3).random((40, 3))
    return RandomForestClassifier(n_estimators=3, random_state=0).fit(x, (x[:, 0] > 0.5))


@pytest.fixture
def skops_file(forest: Any, tmp_path: Path) -> Path:
    import skops.io

    path = tmp_path / "out" / "model.skops"
    path.parent.mkdir()
    skops.io.dump(forest, path)
    return path


def _register_cli(registry: Path, path: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["-C", str(registry), "register", "churn", str(path), *args])


def _route(route: str, registry: Path, forest: Any, skops_file: Path) -> None:
    """Register ``forest`` as churn v1 the way ``route`` does."""
    if route == "cli":
        result = _register_cli(registry, skops_file)
        assert result.exit_code == 0, result.output
        assert f"Trusted types (reviewed in the pull request): {TREE_TYPE}" in result.output
    elif route == "register_model":
        register_model(skops_file, "churn", registry=registry)
    elif route == "create_model_version":
        client = RegistryClient(registry)
        client.create_registered_model("churn")
        client.create_model_version("churn", skops_file)
    else:
        log_model(forest, "churn", registry=registry)


@pytest.mark.slow
@pytest.mark.parametrize("route", ["cli", "register_model", "create_model_version", "log_model"])
def test_every_route_records_the_types_validates_and_loads(
    route: str, registry: Path, forest: Any, skops_file: Path
) -> None:
    git(registry, "checkout", "-q", "-b", "register")
    _route(route, registry, forest, skops_file)
    version = RegistryClient(registry).get_model_version("churn", 1)
    assert version.record.artifact.trusted_types == [TREE_TYPE]
    assert f"- {TREE_TYPE}" in (registry / "models/churn/1/version.yaml").read_text()
    assert version.record.created_by == "Registry Tests"  # the conftest's git user.name
    commit(registry, "Register churn v1")
    report = validate_change(registry, "main", "HEAD")
    assert not report.errors, [str(f) for f in report.errors]
    model = load_model("models:/churn/1", registry=registry)
    np.testing.assert_array_equal(model.predict(ROWS), forest.predict(ROWS))


@pytest.mark.slow
def test_the_cli_adds_trust_types_and_refuses_dangerous_or_unknown_ones(
    registry: Path, skops_file: Path
) -> None:
    for bad, why in [
        ("builtins.eval", "reaches the operating system or the interpreter"),
        ("os.system", "reaches the operating system"),
        ("posix.system", "reaches the operating system"),
        ("subprocess.Popen", "reaches the operating system"),
        ("sklearn.tree._tree.Tre", "sklearn.tree._tree has no attribute 'Tre'"),
        ("nosuchlib.Model", "no module named 'nosuchlib'"),
    ]:
        result = _register_cli(registry, skops_file, "--no-push", "--trust-type", bad)
        assert result.exit_code == 2, (bad, result.output)
        [line] = result.stderr.strip().splitlines()
        assert f"trusted type refused: {bad!r}" in line and why in line, line
    assert not (registry / "models/churn").exists()  # refused before anything was written

    result = _register_cli(
        registry, skops_file, "--no-push", "--trust-type", "numpy.random.RandomState"
    )
    assert result.exit_code == 0, result.output
    assert "numpy.random.RandomState, sklearn.tree._tree.Tree" in result.output
    record = RegistryClient(registry).get_model_version("churn", 1).record
    assert record.artifact.trusted_types == ["numpy.random.RandomState", TREE_TYPE]


@pytest.mark.slow
def test_trusted_types_only_for_skops_and_created_by_given(registry: Path, tmp_path: Path) -> None:
    onnx = tmp_path / "model.onnx"
    onnx.write_bytes(b"onnx bytes")
    with pytest.raises(UsageError, match="apply to skops artifacts only; this artifact is onnx"):
        register_model(onnx, "churn", registry=registry, push=False, trusted_types=[TREE_TYPE])
    with pytest.raises(UsageError, match="created_by is blank"):
        register_model(onnx, "churn", registry=registry, push=False, created_by="  ")
    version = register_model(onnx, "churn", registry=registry, push=False, created_by="Bob")
    assert version.record.created_by == "Bob"


@pytest.mark.slow
def test_created_by_falls_back_clearly_without_a_git_identity(
    registry: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    empty = tmp_path / "empty.gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.delenv("GIT_AUTHOR_NAME", raising=False)
    monkeypatch.setenv("USER", "carol")
    source = tmp_path / "model.onnx"
    source.write_bytes(b"onnx bytes")
    with caplog.at_level(logging.WARNING):
        version = register_model(source, "churn", registry=registry, push=False)
    assert version.record.created_by == "carol"
    assert "git has no user.name" in caplog.text and "git config user.name" in caplog.text

    git(registry, "config", "user.name", "Dana Local")  # the registry repository's own config
    version = register_model(source, "churn", registry=registry, push=False)
    assert version.record.created_by == "Dana Local"


def test_the_rule_refuses_what_reaches_the_system_and_names_that_do_not_resolve() -> None:
    allowed = [TREE_TYPE, "numpy.log1p", "builtins.int", "collections.OrderedDict"]
    for name in allowed:
        assert trusted_type_problem(name, require_installed=True) is None, name
    refused = [
        "builtins.eval", "builtins.exec", "builtins.getattr", "builtins.__import__", "os.system",
        "os.path.join", "posix.system", "nt.system", "subprocess.run", "subprocess.Popen",
        "importlib.import_module", "operator.methodcaller", "pickle.loads", "sys.modules",
        "shutil.rmtree", "socket.socket", "runpy.run_path", "numpy.ndarray.__reduce__",
        "__main__.MyTransformer", "sklearn", "not a name", "sklearn..tree",
        "sklearn.tree._tree.Nope", "antigravity.fly",
    ]  # fmt: skip
    for name in refused:
        assert trusted_type_problem(name) is not None, name
    # Without require_installed, a library this environment lacks cannot be judged.
    assert trusted_type_problem("xgboost_missing_here.core.Booster") is None
    assert trusted_type_problem("xgboost_missing_here.core.Booster", require_installed=True)
    with pytest.raises(UsageError, match=r"^trusted type refused: 'os\.system'"):
        check_trusted_types([TREE_TYPE, "os.system"])


def test_the_loader_refuses_a_record_that_trusts_a_refused_type(
    skops_file: Path,
) -> None:
    """A record from before the rule (or from a website) never hands such a type to skops."""
    with pytest.raises(UntrustedFormat, match=r"trusts a type it may not: 'posix\.system'"):
        load_artifact(skops_file, "skops", trusted_types=[TREE_TYPE, "posix.system"])
    native, _ = load_artifact(skops_file, "skops", trusted_types=[TREE_TYPE])
    assert native.n_estimators == 3


@pytest.mark.slow
def test_the_validator_refuses_a_pull_request_trusting_a_dangerous_type(
    registry: Path, skops_file: Path
) -> None:
    git(registry, "checkout", "-q", "-b", "pr")
    register_model(skops_file, "churn", registry=registry)  # pushed: RG905 content
    record = registry / "models/churn/1/version.yaml"
    text = record.read_text()
    record.write_text(text.replace(f"  - {TREE_TYPE}\n", f"  - {TREE_TYPE}\n  - posix.system\n"))
    commit(registry, "Register churn v1, trusting a bit much")
    report = validate_change(registry, "main", "pr")
    [finding] = [f for f in report.errors if f.code == "RG906"]
    assert finding.file == "models/churn/1/version.yaml"
    assert finding.line == text.splitlines().index(f"  - {TREE_TYPE}") + 2
    assert "'posix.system' reaches the operating system" in finding.message
    assert [f.code for f in validate_tree(registry).errors] == ["RG906"]


def test_a_skops_file_that_cannot_be_read_is_refused_at_registration(tmp_path: Path) -> None:
    """Its types cannot be recorded, and it could never load: refused before anything is written."""
    from registry_gen._registration import version_record
    from registry_gen.errors import ArtifactError

    broken = tmp_path / "model.skops"
    broken.write_bytes(b"PK\x03\x04")
    with pytest.raises(ArtifactError, match=r"model\.skops cannot be read"):
        version_record(1, "None", broken, "skops", created_by="me", fields={})
