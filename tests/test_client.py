"""RegistryClient, register_model and log_model on real git repositories (and real DVC)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from builders import commit, git, init_repo, write_model, write_version
from registry_gen import gitops
from registry_gen.client import RegistryClient, infer_format, log_model, register_model
from registry_gen.errors import (
    AlreadyExists,
    ArtifactError,
    InvalidName,
    InvalidRegistry,
    ModelNotFound,
    RecordError,
    RuleViolation,
    UsageError,
    VersionNotFound,
)
from registry_gen.scaffold import init_registry


def diff_lines(root: Path, rev: str = "HEAD") -> list[str]:
    """The +/- lines of a commit's diff (file headers left out)."""
    out = git(root, "show", "--format=", rev)
    return [
        line
        for line in out.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


# ---------------------------------------------------------------------------
# Reading and searching


def test_get_and_resolve(small_registry: Path) -> None:
    client = RegistryClient(small_registry)
    assert client.get_registered_model("churn").latest.version == 3  # type: ignore[union-attr]
    assert client.get_model_version("churn", "2").stage == "Staging"
    assert client.get_model_version_by_alias("churn", "champion").version == 3
    assert client.resolve("models:/churn/production").version == 3
    with pytest.raises(ModelNotFound, match="registered models: churn, fraud"):
        client.get_registered_model("nope")
    with pytest.raises(VersionNotFound, match="churn has no version 9; it has versions 1-3"):
        client.get_model_version("churn", 9)
    with pytest.raises(InvalidName):
        client.get_registered_model("../etc")


def _no_whole_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make reading the whole registry fail, to prove a call reads one model's folder."""
    from registry_gen import _client_core

    def refuse(*_args: object) -> None:
        raise AssertionError("read the whole registry")

    # The client's reads live in its core module (registry_gen/_client_core.py).
    monkeypatch.setattr(_client_core, "load_index", refuse)


def test_one_model_is_read_without_the_rest_of_the_registry(
    small_registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from registry_gen.store import load_index

    whole = load_index(small_registry)
    write_model(small_registry, "other").write_text("name: [broken\n")  # never read
    _no_whole_registry(monkeypatch)
    client = RegistryClient(small_registry)
    for uri in (
        "models:/churn/2",
        "models:/churn/production",
        "models:/churn@champion",
        "models:/churn/latest",
        "models:/fraud/None",
    ):
        assert client.resolve(uri) == whole.resolve(uri)
    assert client.get_registered_model("churn") == whole.model("churn")
    assert client.get_model_version_by_alias("churn", "champion").version == 3
    assert [v.version for v in client.get_latest_versions("churn", ["staging"])] == [2]
    with pytest.raises(VersionNotFound, match="churn has no version 9; it has versions 1-3"):
        client.get_model_version("churn", 9)
    with pytest.raises(VersionNotFound, match="churn has versions 1-3; none in None"):
        client.resolve("models:/churn/None")
    # Changes read one model too, and what they change is read again afterwards.
    moved = client.transition_model_version_stage("fraud", 1, "Staging")
    assert moved.stage == "Staging" and client.resolve("models:/fraud/staging").version == 1
    assert client.set_registered_model_alias("fraud", "best", 1).version == 1
    assert client.get_model_version_by_alias("fraud", "best").version == 1


def test_what_one_model_cannot_answer_comes_from_the_whole_registry(small_registry: Path) -> None:
    # The same errors and messages as the whole index: what exists, the broken records.
    with pytest.raises(ModelNotFound, match="registered models: churn, fraud"):
        RegistryClient(small_registry).resolve("models:/nope/1")
    (small_registry / "models/linked").symlink_to(small_registry / "models/churn")
    with pytest.raises(ModelNotFound, match="no registered model named 'linked'"):
        RegistryClient(small_registry).get_registered_model("linked")
    path = small_registry / "models/fraud/1/version.yaml"
    path.write_text(path.read_text().replace("version: 1", "version: 2"))
    with pytest.raises(InvalidRegistry, match=r"models/fraud/1/version\.yaml:1 \(version\)"):
        RegistryClient(small_registry).resolve("models:/fraud/1")
    (small_registry / "registry.yaml").write_text("stages: [None, None]\n")
    with pytest.raises(InvalidRegistry, match=r"registry\.yaml:1"):
        RegistryClient(small_registry).get_latest_versions("churn")
    assert RegistryClient(small_registry).resolve("models:/churn/3").version == 3


def test_get_latest_versions(small_registry: Path) -> None:
    client = RegistryClient(small_registry)
    assert [(v.stage, v.version) for v in client.get_latest_versions("churn")] == [
        ("Staging", 2),
        ("Production", 3),
        ("Archived", 1),
    ]
    assert [v.version for v in client.get_latest_versions("churn", ["production"])] == [3]
    with pytest.raises(UsageError, match="'Prod' is not a stage"):
        client.get_latest_versions("churn", ["Prod"])


def test_search_model_versions(small_registry: Path) -> None:
    write_version(small_registry, "fraud", 2, tags={"team": "risk"}, lineage={"run_id": "run-7"})
    client = RegistryClient(small_registry)
    found = client.search_model_versions("name = 'churn'")
    assert [v.version for v in found] == [3, 2, 1]
    found = client.search_model_versions("name LIKE 'ch%'", order_by=["version_number ASC"])
    assert [v.version for v in found] == [1, 2, 3]
    assert [str(v.uri) for v in client.search_model_versions("tags.team = 'risk'")] == [
        "models:/fraud/2"
    ]
    assert [str(v.uri) for v in client.search_model_versions("run_id = 'run-7'")] == [
        "models:/fraud/2"
    ]
    found = client.search_model_versions("metrics.auc > 0.8", order_by=["metrics.auc DESC"])
    assert [v.version for v in found] == [3, 2, 1]
    assert len(client.search_model_versions(max_results=2)) == 2
    with pytest.raises(UsageError, match="'colour'"):
        client.search_model_versions("colour = 'red'")


def test_search_pages_with_opaque_tokens_and_minus_one_returns_all(small_registry: Path) -> None:
    client = RegistryClient(small_registry)
    everything = [str(v.uri) for v in client.search_model_versions()]
    assert len(everything) == 4
    assert [str(v.uri) for v in client.search_model_versions(max_results=-1)] == everything
    first = client.search_model_versions(max_results=3)
    assert first.token is not None
    second = client.search_model_versions(max_results=3, page_token=first.token)
    assert [str(v.uri) for v in [*first, *second]] == everything
    assert second.token is None
    with pytest.raises(UsageError, match="page_token"):
        client.search_model_versions(page_token="not-ours")
    models = client.search_registered_models(max_results=1)
    assert [m.name for m in models] == ["churn"]
    assert [
        m.name for m in client.search_registered_models(max_results=1, page_token=models.token)
    ] == ["fraud"]


def test_entities_carry_mlflow_properties(small_registry: Path) -> None:
    client = RegistryClient(small_registry)
    client.set_registered_model_alias("churn", "champion", 3)
    version = client.get_model_version("churn", 3)
    assert (version.name, version.version, version.current_stage, version.status) == (
        "churn",
        3,
        "Production",
        "READY",
    )
    assert isinstance(version.creation_timestamp, int)
    assert version.creation_timestamp == int(version.record.created_at.timestamp() * 1000)
    assert version.aliases == ["champion"]
    assert version.tags == version.record.tags
    assert version.source == "models/churn/3/model.skops"
    model = client.get_registered_model("churn")
    assert model.aliases == {"champion": 3}
    assert model.last_updated_timestamp == max(v.creation_timestamp for v in model.versions)
    assert sorted((v.current_stage, v.version) for v in model.latest_versions) == [
        ("Archived", 1),
        ("Production", 3),
        ("Staging", 2),
    ]


def test_errors_carry_mlflow_error_codes(small_registry: Path) -> None:
    client = RegistryClient(small_registry)
    with pytest.raises(ModelNotFound) as missing:
        client.get_registered_model("nope")
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(AlreadyExists) as taken:
        client.create_registered_model("churn")
    assert taken.value.error_code == "RESOURCE_ALREADY_EXISTS"
    with pytest.raises(UsageError) as bad:
        client.search_model_versions("colour = 'red'")
    assert bad.value.error_code == "INVALID_PARAMETER_VALUE"


def test_search_registered_models(small_registry: Path) -> None:
    client = RegistryClient(small_registry)
    assert [m.name for m in client.search_registered_models()] == ["churn", "fraud"]
    assert [m.name for m in client.search_registered_models("name ILIKE 'FR%'")] == ["fraud"]
    assert [
        m.name for m in client.search_registered_models(order_by=["last_updated_timestamp DESC"])
    ] == ["churn", "fraud"]


# ---------------------------------------------------------------------------
# Stages


def test_promote_matches_stage_case_insensitively_and_is_a_one_line_diff(
    small_registry: Path,
) -> None:
    client = RegistryClient(small_registry)
    before = (small_registry / "models/fraud/1/version.yaml").read_text()
    moved = client.transition_model_version_stage("fraud", 1, "staging", branch=True)
    assert moved.stage == "Staging"
    assert gitops.current_branch(small_registry) == "promote/fraud-v1-staging"
    assert git(small_registry, "log", "-1", "--format=%s").strip() == (
        "Promote fraud v1: None → Staging"
    )
    assert diff_lines(small_registry) == ["-stage: None", "+stage: Staging"]
    after = (small_registry / "models/fraud/1/version.yaml").read_text()
    assert after == before.replace("stage: None", "stage: Staging")


def test_disallowed_transition_is_a_rule_violation(small_registry: Path) -> None:
    client = RegistryClient(small_registry)
    with pytest.raises(RuleViolation, match=r"Production → None is not allowed.*Staging, Archived"):
        client.transition_model_version_stage("churn", 3, "None")


def test_single_holder_stage_needs_archive_existing(small_registry: Path) -> None:
    client = RegistryClient(small_registry)
    client.update_model_version("churn", 2, "Second.")
    with pytest.raises(RuleViolation, match="v3 is there; pass --archive-existing"):
        client.transition_model_version_stage("churn", 2, "Production")


def test_archiving_a_version_with_an_alias_is_refused(small_registry: Path) -> None:
    client = RegistryClient(small_registry)
    client.update_model_version("churn", 2, "Second.")
    with pytest.raises(RuleViolation, match="has @champion"):
        client.transition_model_version_stage(
            "churn", 2, "Production", archive_existing_versions=True
        )
    assert client.refresh().model("churn").version(3).stage == "Production"


def test_archive_existing_moves_the_holder_in_the_same_commit(small_registry: Path) -> None:
    client = RegistryClient(small_registry)
    client.set_registered_model_alias("churn", "champion", 2)
    commit(small_registry, "Move champion")
    client.update_model_version("churn", 2, "Second, now better.")
    commit(small_registry, "Describe v2")
    moved = client.transition_model_version_stage(
        "churn", 2, "Production", archive_existing_versions=True, branch=True
    )
    assert moved.stage == "Production"
    assert client.get_model_version("churn", 3).stage == "Archived"
    assert sorted(diff_lines(small_registry)) == sorted(
        ["-stage: Production", "+stage: Archived", "-stage: Staging", "+stage: Production"]
    )
    assert "(archive v3)" in git(small_registry, "log", "-1", "--format=%s")


def test_stage_requirements_are_checked_before_writing(small_registry: Path) -> None:
    client = RegistryClient(small_registry)
    with pytest.raises(RuleViolation, match="requires a description and metrics"):
        client.transition_model_version_stage("fraud", 1, "Production")
    assert client.get_model_version("fraud", 1).stage == "None"


def test_promote_to_the_same_stage(small_registry: Path) -> None:
    client = RegistryClient(small_registry)
    assert client.transition_model_version_stage("churn", 2, "STAGING").stage == "Staging"
    with pytest.raises(RuleViolation, match="already in Staging"):
        client.transition_model_version_stage("churn", 2, "Staging", branch=True)


def test_branch_refused_when_the_record_has_uncommitted_edits(small_registry: Path) -> None:
    path = small_registry / "models/fraud/1/version.yaml"
    path.write_text(path.read_text() + "description: edited\n")
    client = RegistryClient(small_registry)
    with pytest.raises(Exception, match=r"uncommitted changes in models/fraud/1/version\.yaml"):
        client.transition_model_version_stage("fraud", 1, "Staging", branch=True)
    assert gitops.current_branch(small_registry) == "main"


# ---------------------------------------------------------------------------
# Aliases, descriptions, tags


def test_aliases(small_registry: Path) -> None:
    client = RegistryClient(small_registry)
    client.set_registered_model_alias("churn", "challenger", 2, branch=True)
    assert gitops.current_branch(small_registry) == "alias/churn-challenger-v2"
    assert git(small_registry, "log", "-1", "--format=%s").strip() == (
        "Point churn@challenger at v2"
    )
    assert client.get_model_version_by_alias("churn", "challenger").version == 2
    client.set_registered_model_alias("churn", "champion", 2, branch="team/move-champion")
    assert diff_lines(small_registry) == ["-  champion: 3", "+  champion: 2"]
    assert "Move churn@champion: v3 → v2" in git(small_registry, "log", "-1", "--format=%s")
    client.delete_registered_model_alias("churn", "challenger")
    assert "challenger" not in client.get_registered_model("churn").aliases
    with pytest.raises(VersionNotFound, match="its aliases: @champion"):
        client.delete_registered_model_alias("churn", "challenger")
    with pytest.raises(RuleViolation, match="forbids aliases"):
        client.set_registered_model_alias("churn", "old", 1)
    with pytest.raises(InvalidName, match="name of a stage"):
        client.set_registered_model_alias("churn", "staging", 2)
    with pytest.raises(InvalidName, match="reads as a version"):
        client.set_registered_model_alias("churn", "v2", 2)


def test_descriptions_keep_the_rest_of_the_file(small_registry: Path) -> None:
    client = RegistryClient(small_registry)
    path = small_registry / "models/churn/model.yaml"
    path.write_text("# owned by the ML team\n" + path.read_text())
    commit(small_registry, "comment")
    model = client.update_registered_model("churn", "Predicts churn.\n\n| a | b |\n|---|---|\n")
    assert model.record.description.startswith("Predicts churn.")
    assert path.read_text().startswith("# owned by the ML team\n")
    version = client.update_model_version("churn", 1, "First *draft*")
    assert version.record.description == "First *draft*"
    assert client.update_model_version("churn", 1, None).record.description == "First *draft*"


def test_tags(small_registry: Path) -> None:
    client = RegistryClient(small_registry)
    assert client.set_registered_model_tag("churn", "team", "risk").record.tags == {"team": "risk"}
    assert client.set_model_version_tag("churn", 2, "validated", "yes").record.tags == {
        "validated": "yes"
    }
    assert client.get_model_version("churn", 2).record.tags["validated"] == "yes"
    assert client.delete_model_version_tag("churn", 2, "validated").record.tags == {}
    assert client.delete_registered_model_tag("churn", "team").record.tags == {}
    with pytest.raises(VersionNotFound, match="no tag 'team'"):
        client.delete_registered_model_tag("churn", "team")
    with pytest.raises(UsageError, match="tag key"):
        client.set_registered_model_tag("churn", " ", "x")


def test_create_registered_model(small_registry: Path) -> None:
    client = RegistryClient(small_registry)
    # MLflow's positional order: name, tags, description.
    model = client.create_registered_model(
        "demand", {"team": "ops"}, "Forecasts demand.", owners=["@ops"], branch=True
    )
    assert (model.tags, model.description) == ({"team": "ops"}, "Forecasts demand.")
    assert (model.name, model.record.owners, model.versions) == ("demand", ["@ops"], ())
    assert git(small_registry, "show", "--name-only", "--format=", "HEAD").split() == [
        "models/demand/model.yaml"
    ]
    with pytest.raises(AlreadyExists):
        client.create_registered_model("demand")
    with pytest.raises(InvalidName):
        client.create_registered_model("Demand Forecast")


def test_broken_records_are_reported_with_file_and_line(small_registry: Path) -> None:
    path = small_registry / "models/fraud/1/version.yaml"
    path.write_text(path.read_text().replace("stage: None", "stage: yes"))
    client = RegistryClient(small_registry)
    with pytest.raises(InvalidRegistry, match=r"models/fraud/1/version\.yaml:2"):
        client.get_registered_model("fraud")
    (small_registry / "registry.yaml").write_text("stages: [None, None]\n")
    with pytest.raises(InvalidRegistry, match=r"registry\.yaml:1"):
        RegistryClient(small_registry).transition_model_version_stage("churn", 2, "None")


def test_next_version_takes_the_base_branch_into_account(
    small_registry: Path, tmp_path: Path
) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(small_registry), str(clone))
    write_version(small_registry, "churn", 4)
    commit(small_registry, "Register churn v4 elsewhere")
    client = RegistryClient(clone)
    assert client.next_version("churn") == 4
    git(clone, "fetch", "-q")
    assert client.next_version("churn") == 5  # origin/main has v4
    assert client.next_version("churn", base="HEAD") == 4
    assert client.next_version("brand-new") == 1


def test_infer_format() -> None:
    cases = {
        "m.pkl": "pickle",
        "m.PICKLE": "pickle",
        "m.joblib": "joblib",
        "m.skops": "skops",
        "m.onnx": "onnx",
        "m.pt": "pytorch",
        "m.pth": "pytorch",
        "m.safetensors": "safetensors",
        "m.bin": "path",
    }
    for name, fmt in cases.items():
        assert infer_format(Path(name)) == fmt


# ---------------------------------------------------------------------------
# Registering through DVC (one initialised registry, cloned per test)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return init_registry(tmp_path_factory.mktemp("template") / "reg")


@pytest.fixture
def registry(template: Path, tmp_path: Path) -> Path:
    clone = tmp_path / "reg"
    git(tmp_path, "clone", "-q", str(template), str(clone))
    return clone


@pytest.mark.slow
def test_register_model_writes_the_layout_and_pushes(registry: Path, tmp_path: Path) -> None:
    source = tmp_path / "model.pkl"
    source.write_bytes(b"not really a pickle")
    data = tmp_path / "train.csv"
    data.write_text("a,b\n1,2\n")
    version = register_model(
        source,
        "churn",
        registry=registry,
        description="First",
        metrics={"auc": 0.8},
        params={"depth": 3},
        tags={"team": "risk"},
        run_id="run-1",
        code={"repo": "https://github.com/acme/churn", "commit": "3f2a9c1"},
        datasets=[
            {"name": "train", "path": "train.csv", "md5": "0cc175b9c0f1b6a831c399e269772661"}
        ],
        parents=["models:/base/1"],
        branch=True,
    )
    assert str(version.uri) == "models:/churn/1"
    assert version.record.artifact.format == "pickle"
    assert version.record.created_by == "Registry Tests"
    assert version.artifact_md5 == hashlib.md5(b"not really a pickle").hexdigest()
    folder = registry / "models/churn/1"
    assert sorted(p.name for p in folder.iterdir()) == [
        ".gitignore",
        "model.pkl",
        "model.pkl.dvc",
        "version.yaml",
    ]
    assert (registry / "models/churn/model.yaml").read_text() == "name: churn\n"
    md5 = version.artifact_md5
    assert md5 is not None
    pushed = registry / "dvc-remote/files/md5" / md5[:2] / md5[2:]
    assert pushed.read_bytes() == b"not really a pickle"
    committed = git(registry, "show", "--name-only", "--format=", "HEAD").split()
    assert sorted(committed) == sorted(
        [
            f"dvc-remote/files/md5/{md5[:2]}/{md5[2:]}",
            "models/churn/1/.gitignore",
            "models/churn/1/model.pkl.dvc",
            "models/churn/1/version.yaml",
            "models/churn/model.yaml",
        ]
    )
    assert git(registry, "log", "-1", "--format=%s").strip() == "Register churn v1"
    assert gitops.current_branch(registry) == "register/churn-v1"
    assert git(registry, "status", "--porcelain").strip() == ""


@pytest.mark.slow
def test_log_model_skops_and_create_model_version(registry: Path) -> None:
    import numpy as np
    import skops.io
    from sklearn.linear_model import LogisticRegression

    x = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.9, 0.1]])
    y = np.array([0, 1, 0, 1])
    model = LogisticRegression().fit(x, y)
    version = log_model(
        model, "clf", registry=registry, input_example=x[:2], push=False, metrics={"accuracy": 1.0}
    )
    assert version.record.artifact.path == "model.skops"
    assert version.record.artifact.format == "skops"
    signature = version.record.signature
    assert signature is not None
    assert signature.inputs[0].shape == [-1, 2]
    assert signature.outputs[0].type == "int64"
    artifact = registry / version.artifact_path
    trusted = version.record.artifact.trusted_types
    loaded = skops.io.load(artifact, trusted=trusted)
    assert (loaded.predict(x) == y).all()

    client = RegistryClient(registry)
    with pytest.raises(ModelNotFound, match="create it first"):
        client.create_model_version("other", artifact)
    client.create_registered_model("other", description="Made by hand.")
    second = client.create_model_version(
        "other", artifact, description="Copied", push=False, format="skops", trusted_types=trusted
    )
    assert (second.version, second.record.artifact.path) == (1, "model.skops")
    third = client.create_model_version("clf", artifact, push=False)
    assert third.version == 2
    with pytest.raises(UsageError, match="log_model writes skops"):
        log_model(model, "clf", registry=registry, format="onnx")


@pytest.mark.slow
def test_failed_push_leaves_nothing_half_written(registry: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the remote should be")
    (registry / ".dvc/config.local").write_text(
        f"[core]\n    remote = broken\n['remote \"broken\"']\n    url = {blocker}/store\n"
    )
    source = tmp_path / "model.onnx"
    source.write_bytes(b"onnx bytes")
    with pytest.raises(ArtifactError, match="dvc push failed"):
        register_model(source, "churn", registry=registry, branch=True)
    assert not (registry / "models/churn").exists()
    assert gitops.current_branch(registry) == "main"
    assert git(registry, "branch", "--list", "register/*").strip() == ""


def test_register_refuses_bad_arguments_before_touching_disk(
    registry: Path, tmp_path: Path
) -> None:
    source = tmp_path / "m.bin"
    source.write_bytes(b"x")
    with pytest.raises(UsageError, match="no file or folder"):
        register_model(tmp_path / "missing.pkl", "churn", registry=registry)
    with pytest.raises(UsageError, match="unknown artifact format 'zip'"):
        register_model(source, "churn", registry=registry, format="zip")
    with pytest.raises(UsageError, match=r"lineage\.parents"):
        register_model(source, "churn", registry=registry, parents=["models:/a/../b"])
    with pytest.raises(RuleViolation, match="cannot enter Production"):
        register_model(source, "churn", registry=registry, stage="production")
    (registry / ".dvc/config.local").write_text("[core]\n    remote =\n")
    with pytest.raises(ArtifactError, match="no default DVC remote"):
        register_model(source, "churn", registry=registry)
    assert not (registry / "models/churn").exists()


def test_register_a_folder_without_dvc_refused(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "plain")
    source = tmp_path / "model-dir"
    source.mkdir()
    (source / "MLmodel").write_text("flavors: {}\n")
    with pytest.raises(ArtifactError, match="no DVC set up"):
        register_model(source, "churn", registry=root)
    assert infer_format(source) == "mlflow"


def test_record_errors_are_one_line(small_registry: Path) -> None:
    path = small_registry / "models/churn/2/version.yaml"
    path.write_text(path.read_text() + "colour: red\n")
    index = RegistryClient(small_registry).index
    assert len(index.errors) == 1
    error = index.errors[0]
    assert isinstance(error, RecordError)
    assert str(error).startswith("models/churn/2/version.yaml:")
    assert "(colour)" in str(error)
    assert "\n" not in str(error)
    write_model(small_registry, "fraud", description="Changed")


def test_a_promotion_reads_each_record_once(
    small_registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each record is parsed and validated once; each record written, once more (issue 9)."""
    from collections import Counter

    from registry_gen.schema import DvcPointer, ModelRecord, Policy, VersionRecord

    # Bytes no other test has, so no record comes from the store's memo of earlier parses.
    unique = str(small_registry)
    write_model(small_registry, "solo", description=unique)
    for number, stage in ((1, "Production"), (2, "Staging")):
        write_version(
            small_registry,
            "solo",
            number,
            stage=stage,
            description=unique,
            metrics={"auc": 0.9},
            content=f"{unique}-{number}".encode(),
        )
    commit(small_registry, "Add solo")
    parsed: Counter[str] = Counter()
    for schema in (Policy, ModelRecord, VersionRecord, DvcPointer):

        def counting(
            data: object,
            *args: object,
            _original: object = schema.model_validate,
            _name: str = schema.__name__,
            **kwargs: object,
        ) -> object:
            parsed[_name] += 1
            return _original(data, *args, **kwargs)  # type: ignore[operator]

        monkeypatch.setattr(schema, "model_validate", counting)
    promoted = RegistryClient(small_registry).transition_model_version_stage(
        "solo", 2, "Production", archive_existing_versions=True
    )
    assert promoted.stage == "Production"
    assert "stage: Production" in (small_registry / "models/solo/2/version.yaml").read_text()
    assert "stage: Archived" in (small_registry / "models/solo/1/version.yaml").read_text()
    # Read: registry.yaml, model.yaml, two version.yaml, two .dvc; written: two version.yaml.
    assert parsed == {"Policy": 1, "ModelRecord": 1, "DvcPointer": 2, "VersionRecord": 2 + 2}


@pytest.mark.slow
def test_copy_model_version_keeps_the_artifact_and_names_its_parent(
    registry: Path, tmp_path: Path
) -> None:
    source = tmp_path / "model.pkl"
    source.write_bytes(b"weights")
    client = RegistryClient(registry)
    first = client.create_model_version(
        "churn",
        source,
        "run-1",
        {"team": "risk"},
        description="First",
        create_model=True,
        push=False,
    )
    copy = client.copy_model_version("models:/churn/1", "churn-eu", push=False)
    assert (copy.name, copy.version, copy.run_id, copy.tags, copy.description) == (
        "churn-eu",
        1,
        "run-1",
        {"team": "risk"},
        "First",
    )
    assert copy.artifact_md5 == first.artifact_md5
    assert copy.record.lineage.parents == ["models:/churn/1"]
