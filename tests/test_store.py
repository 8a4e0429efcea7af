"""The store: one immutable index from a working tree or a git revision; minimal-diff edits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from builders import commit, git, init_repo, write_model, write_version
from registry_gen.errors import (
    GitError,
    InvalidRegistry,
    ModelNotFound,
    RecordError,
    UnsafePath,
    VersionNotFound,
)
from registry_gen.schema import ModelRecord, VersionRecord
from registry_gen.store import (
    GitRevision,
    WorkingTree,
    edit_record,
    load_index,
    record_to_yaml,
    write_record,
)


def test_index_from_working_tree(small_registry: Path) -> None:
    index = load_index(small_registry)
    assert index.revision is None and index.errors == ()
    assert sorted(index.models) == ["churn", "fraud"]
    churn = index.model("churn")
    assert [v.version for v in churn.versions] == [1, 2, 3]
    assert churn.latest is not None and churn.latest.version == 3
    assert [v.version for v in churn.in_stage("Staging")] == [2]
    assert churn.aliases_of(3) == ["champion"]
    v3 = churn.version(3)
    assert v3.folder == "models/churn/3" and v3.record_file == "models/churn/3/version.yaml"
    assert v3.artifact_path == "models/churn/3/model.skops"
    assert v3.artifact_md5 is not None and len(v3.artifact_md5) == 32
    assert str(v3.uri) == "models:/churn/3"
    assert [f"{v.name}/{v.version}" for v in index.versions()] == [
        "churn/1",
        "churn/2",
        "churn/3",
        "fraud/1",
    ]


@pytest.mark.parametrize(
    ("uri", "version"),
    [
        ("models:/churn/2", 2),
        ("models:/churn/Production", 3),
        ("models:/churn/production", 3),
        ("models:/churn/STAGING", 2),
        ("models:/churn@champion", 3),
        ("models:/churn/latest", 3),
        ("models:/fraud/latest", 1),
        ("models:/churn/archived", 1),
    ],
)
def test_resolve_as_mlflow_does(small_registry: Path, uri: str, version: int) -> None:
    assert load_index(small_registry).resolve(uri).version == version


@pytest.mark.parametrize(
    ("uri", "error", "message"),
    [
        ("models:/churn/7", VersionNotFound, "churn has no version 7; it has versions 1-3"),
        ("models:/fraud/Production", VersionNotFound, "fraud has version 1; none in Production"),
        ("models:/churn@nobody", VersionNotFound, "its aliases: @champion"),
        ("models:/churn/Gold", VersionNotFound, "stages: None, Staging, Production, Archived"),
        ("models:/ghost/1", ModelNotFound, "registered models: churn, fraud"),
    ],
)
def test_resolution_failures_say_what_exists(
    small_registry: Path, uri: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        load_index(small_registry).resolve(uri)


def test_index_from_a_git_revision_ignores_uncommitted_edits(small_registry: Path) -> None:
    head = git(small_registry, "rev-parse", "HEAD").strip()
    write_version(small_registry, "fraud", 2)
    at_head = load_index(small_registry, rev="HEAD")
    assert at_head.revision == head
    assert [v.version for v in at_head.model("fraud").versions] == [1]
    assert [v.version for v in load_index(small_registry).model("fraud").versions] == [1, 2]
    assert load_index(small_registry, rev=head) is at_head  # memoised per commit
    first = load_index(small_registry, rev="HEAD~1")
    assert dict(first.models) == {}
    with pytest.raises(GitError, match="not a commit"):
        load_index(small_registry, rev="no-such-branch")


def test_git_revision_reads_blobs_without_checkout(small_registry: Path) -> None:
    source = GitRevision(small_registry, "HEAD")
    files = {f.path: f for f in source.list_files()}
    assert "models/churn/model.yaml" in files and "registry.yaml" in files
    blobs = source.read_many(["models/churn/model.yaml", "models/nope.yaml"])
    assert list(blobs) == ["models/churn/model.yaml"]
    assert blobs["models/churn/model.yaml"].startswith(b"name: churn")


def test_not_a_git_repository(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="not a git repository"):
        GitRevision(tmp_path)


def test_broken_records_are_collected_with_file_and_line(small_registry: Path) -> None:
    fraud2 = write_version(small_registry, "fraud", 2) / "version.yaml"
    fraud2.write_text(fraud2.read_text().replace("stage: None", "stage: yes"))
    (small_registry / "models/churn/2/version.yaml").write_text(
        (small_registry / "models/churn/2/version.yaml")
        .read_text()
        .replace("version: 2", "version: 5")
    )
    index = load_index(small_registry)
    messages = sorted(str(e) for e in index.errors)
    assert messages[0].startswith(
        "models/churn/2/version.yaml:1 (version): version 5 does not match its folder '2'"
    )
    assert messages[1].startswith("models/fraud/2/version.yaml:2:")
    assert sorted(index.models) == [] and sorted(index.broken) == ["churn", "fraud"]
    with pytest.raises(InvalidRegistry, match=r"models/fraud/2/version\.yaml:2"):
        index.model("fraud")
    with pytest.raises(InvalidRegistry, match="2 invalid record"):
        index.require_valid()


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda r: write_model(r, "Bad_Name"), "models/Bad_Name: model folder name"),
        (
            lambda r: (
                (r / "models/orphan/1").mkdir(parents=True)
                or (r / "models/orphan/1/version.yaml").write_text("version: 1\n")
            ),
            "models/orphan/model.yaml: missing",
        ),
        (
            lambda r: write_model(r, "mismatch").write_text("name: other\n"),
            "models/mismatch/model.yaml:1 (name): "
            "name 'other' does not match its folder 'mismatch'",
        ),
        (
            lambda r: (
                (r / "models/churn/01").mkdir()
                or (r / "models/churn/01/version.yaml").write_text("version: 1\n")
            ),
            "models/churn/01: version folder name '01'",
        ),
        (
            lambda r: (r / "models/churn/4").mkdir() or (r / "models/churn/4/x.dvc").write_text(""),
            "models/churn/4/version.yaml: missing",
        ),
        (
            lambda r: (r / "models/churn/3/model.skops.dvc").write_text(
                "outs: [{md5: zz, path: m}]\n"
            ),
            "models/churn/3/model.skops.dvc:1",
        ),
        (
            lambda r: (r / "registry.yaml").write_text("stages: [None]\nsingle_holder: [Gold]\n"),
            "registry.yaml:1",
        ),
    ],
)
def test_each_malformed_layout_is_reported(
    small_registry: Path, setup: object, message: str
) -> None:
    setup(small_registry)  # type: ignore[operator]
    errors = [str(e) for e in load_index(small_registry).errors]
    assert any(e.startswith(message) for e in errors), errors
    assert all("\n" not in e for e in errors)


def test_symlinks_are_never_followed(small_registry: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret.yaml"
    outside.write_text("name: secret\n")
    os.symlink(outside, small_registry / "models/fraud/model.yaml.link")
    os.symlink(tmp_path, small_registry / "models/linked")
    index = load_index(small_registry)
    assert "linked" not in index.models and "secret" not in index.models
    with pytest.raises(UnsafePath):
        WorkingTree(small_registry).read_many(["models/linked/secret.yaml"])


def test_describe_versions() -> None:
    from registry_gen.store import RegisteredModel

    empty = RegisteredModel(ModelRecord(name="a"), ())
    assert empty.describe_versions() == "no versions" and empty.latest is None


def test_edit_record_is_a_one_line_splice(small_registry: Path) -> None:
    path = small_registry / "models/churn/2/version.yaml"
    path.write_text("# reviewed by the risk team\n" + path.read_text())
    before = path.read_text()
    record = edit_record(path, VersionRecord, lambda d: d.__setitem__("stage", "Production"))
    assert isinstance(record, VersionRecord) and record.stage == "Production"
    after = path.read_text()
    changed = [
        (a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b
    ]
    assert changed == [("stage: Staging", "stage: Production")]


def test_edit_record_structural_change_keeps_comments(small_registry: Path) -> None:
    path = small_registry / "models/fraud/model.yaml"
    path.write_text("# fraud model\nname: fraud  # the folder name\ndescription: Flags fraud.\n")

    def add_alias(data: dict[str, object]) -> None:
        data["aliases"] = {"champion": 1}
        data["tags"] = {"approved": "yes", "ratio": "1.10", "n": "y"}

    edit_record(path, ModelRecord, add_alias)
    text = path.read_text()
    assert text.startswith("# fraud model\nname: fraud  # the folder name\n")
    record = load_index(small_registry).model("fraud").record
    assert record.aliases == {"champion": 1}
    # quoted (keys too), so they read back
    assert record.tags == {"approved": "yes", "ratio": "1.10", "n": "y"}


def test_edit_record_validates_before_writing(small_registry: Path) -> None:
    path = small_registry / "models/churn/2/version.yaml"
    before = path.read_text()
    with pytest.raises(RecordError, match=r"version\.yaml:1 \(version\)"):
        edit_record(path, VersionRecord, lambda d: d.__setitem__("version", 0))
    assert path.read_text() == before


def test_write_record_and_record_to_yaml(tmp_path: Path, small_registry: Path) -> None:
    record = load_index(small_registry).model("churn").version(3).record
    path = tmp_path / "models/churn/3/version.yaml"
    write_record(path, record)
    text = path.read_text()
    assert text.startswith("version: 3\nstage: Production\n")
    assert "lineage" not in text  # defaults left out
    assert record_to_yaml(record) == text
    assert [p.name for p in path.parent.iterdir()] == ["version.yaml"]  # no temp files left
    again = load_index(small_registry)
    assert again.model("churn").version(3).record == record


def test_committed_registry_loads_the_same_from_git(small_registry: Path) -> None:
    write_model(small_registry, "demand", description="Demand.")
    write_version(small_registry, "demand", 1, metrics={"mape": 0.1})
    commit(small_registry, "Add demand")
    from_tree = load_index(small_registry)
    from_git = load_index(small_registry, rev="HEAD")
    assert from_tree.models.keys() == from_git.models.keys()
    for name in from_tree.models:
        assert from_tree.model(name) == from_git.model(name)


# ---------------------------------------------------------------------------
# Parsing on two cores: the same index, errors and order as one process


def _registry_with_every_kind_of_error(root: Path) -> Path:
    """Healthy models plus one of each broken record (YAML, schema, names, layout)."""
    for n in range(8):
        write_model(root, f"m{n}", description=f"Model **{n}**.", aliases={"top": 1})
        for v in range(1, 4):
            write_version(
                root,
                f"m{n}",
                v,
                stage="Production" if v == 3 else "None",
                description="Best." if v == 3 else "",
                metrics={"auc": 0.5 + v / 10},
            )
    broken = root / "models"
    (broken / "m1/2/version.yaml").write_text("version: 2\nstage: yes\n")  # YAML 1.1 value
    (broken / "m2/model.yaml").write_text("name: m2\nname: again\n")  # duplicate key
    (broken / "m3/3/version.yaml").write_text(
        (broken / "m3/3/version.yaml").read_text().replace("version: 3", "version: 4")
    )
    (broken / "m4/model.yaml").write_text("name: other\n")  # name does not match folder
    (broken / "m5/1/model.skops.dvc").write_text("outs: [{md5: zz, path: m}]\n")
    (broken / "m6/2/version.yaml").write_text("version: 2\nunknown: 1\n")  # schema
    (broken / "m7/1/version.yaml").write_text("- a list\n")  # not a mapping
    (broken / "m7/2/version.yaml").write_text("")  # empty
    (broken / "m0/1/version.yaml").write_text("&a version: 1\n")  # anchor
    return root


def _snapshot(index: object) -> tuple[object, ...]:
    from registry_gen.store import RegistryIndex

    assert isinstance(index, RegistryIndex)
    return (
        dict(index.models),
        [(e.location, e.message) for e in index.errors],
        {name: [(e.location, e.message) for e in errors] for name, errors in index.broken.items()},
        index.policy,
    )


def _ran_in_a_fresh_process(request: pytest.FixtureRequest) -> bool:
    """Run this test again alone in a fresh single-threaded pytest, if this one cannot fork.

    The build only forks its parsing worker from a single-threaded process, and
    pytest-xdist's workers run threads: without this, `./dev test` would never
    exercise the two-process path. Returns True when the fresh run did the test.
    """
    from registry_gen.store import _parse

    if _parse._fork_is_safe() or os.environ.get("REGISTRY_GEN_TEST_FRESH_PROCESS"):
        return False
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:xdist",
            "-p",
            "no:cacheprovider",
            request.node.nodeid,
        ],
        cwd=request.config.rootpath,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "REGISTRY_GEN_TEST_FRESH_PROCESS": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    if " skipped" in result.stdout:
        pytest.skip("no second CPU or not Linux: the build parses in one process")
    return True


@pytest.mark.parametrize("from_git", [False, True])
def test_parsing_in_a_worker_process_builds_the_same_index(
    small_registry: Path,
    monkeypatch: pytest.MonkeyPatch,
    from_git: bool,
    request: pytest.FixtureRequest,
) -> None:
    from registry_gen.store import _build, _parse

    if _ran_in_a_fresh_process(request):
        return
    if not _parse._fork_is_safe():
        pytest.skip("no second CPU or not Linux: the build parses in one process")
    root = _registry_with_every_kind_of_error(small_registry)
    commit(root, "Broken records")
    monkeypatch.setattr(_build, "_GIT_INDEX_MEMO", {})

    def build(threshold: int) -> tuple[object, ...]:
        monkeypatch.setattr(_parse, "PARALLEL_MIN_RECORDS", threshold)
        monkeypatch.setattr(_parse, "_RECORD_MEMO", {})
        source = GitRevision(root) if from_git else WorkingTree(root)
        return _snapshot(_build.build_index(source))

    one_process = build(10**9)
    two_processes = build(1)
    assert two_processes == one_process
    models, errors, broken, _policy = one_process
    assert sorted(models) == ["churn", "fraud"]  # type: ignore[call-overload]
    assert sorted(broken) == [f"m{n}" for n in range(8)]  # type: ignore[call-overload]
    assert len(errors) >= 9  # type: ignore[arg-type]


def test_the_worker_process_parses_records_ahead(
    small_registry: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    from registry_gen.schema import DvcPointer
    from registry_gen.store import _parse

    if _ran_in_a_fresh_process(request):
        return
    root = _registry_with_every_kind_of_error(small_registry)
    if not _parse._fork_is_safe():
        pytest.skip("no second CPU or not Linux: the build parses in one process")
    source = WorkingTree(root)
    paths = [
        e.path
        for e in source.list_files()
        if e.path.endswith((".yaml", ".dvc")) and e.path.count("/") == 3
    ]
    blobs = source.read_many(paths)
    jobs = [(VersionRecord if p.endswith("version.yaml") else DvcPointer, p) for p in paths]
    monkeypatch.setattr(_parse, "_RECORD_MEMO", {})
    monkeypatch.setattr(_parse, "PARALLEL_MIN_RECORDS", 1)
    parsed = _parse.parse_ahead(jobs, blobs)
    # The worker took its share; every record that parses is in the memo, no failure is.
    assert parsed > len(jobs) // 3
    memo = {file for (_schema, file, _blob) in _parse._RECORD_MEMO}
    assert "models/m6/2/version.yaml" not in memo and "models/m1/2/version.yaml" not in memo
    assert "models/m0/2/version.yaml" in memo and "models/m5/2/model.skops.dvc" in memo
    assert len(memo) == len(jobs) - 6  # m0/1, m1/2, m6/2, m7/1, m7/2 and m5/1's pointer


@pytest.mark.parametrize("from_git", [False, True])
def test_reading_in_batches_builds_the_same_index(
    small_registry: Path, monkeypatch: pytest.MonkeyPatch, from_git: bool
) -> None:
    """Records are read and parsed a batch of models at a time; the index is the same."""
    from registry_gen.store import _build, _parse

    root = _registry_with_every_kind_of_error(small_registry)
    commit(root, "Broken records")
    monkeypatch.setattr(_parse, "PARALLEL_MIN_RECORDS", 10**9)

    def build(batch: int) -> tuple[object, ...]:
        monkeypatch.setattr(_build, "_BATCH_RECORDS", batch)
        monkeypatch.setattr(_parse, "_RECORD_MEMO", {})
        source = GitRevision(root) if from_git else WorkingTree(root)
        return _snapshot(_build.build_index(source))

    assert build(3) == build(10**9)


class _Counted:
    """Counts the parent process's YAML parses and schema validations during a build."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from registry_gen import schema, yamlio
        from registry_gen.store import _parse

        self.parses = 0
        self.validations = 0
        parse_yaml, validate_document = yamlio.parse_yaml, schema.validate_document

        def counted_parse(*args: Any, **kwargs: Any) -> Any:
            self.parses += 1
            return parse_yaml(*args, **kwargs)

        def counted_validate(*args: Any, **kwargs: Any) -> Any:
            self.validations += 1
            return validate_document(*args, **kwargs)

        monkeypatch.setattr(schema, "parse_yaml", counted_parse)
        monkeypatch.setattr(schema, "validate_document", counted_validate)
        monkeypatch.setattr(_parse, "validate_document", counted_validate)


_SMALL_REGISTRY_RECORDS = 10  # churn: model + 3 x (version, pointer); fraud: model + 1 x 2
_POLICY = 1  # registry.yaml: read on every load, never memoised (it is one file)


def test_a_load_bigger_than_the_memo_parses_each_record_once(
    small_registry: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """Issue 16: the memo emptied itself partway through a load bigger than its limit,
    so the worker's share (and every record after the limit) was parsed again."""
    from registry_gen.store import _build, _parse

    if _ran_in_a_fresh_process(request):
        return
    if not _parse._fork_is_safe():
        pytest.skip("no second CPU or not Linux: the build parses in one process")
    monkeypatch.setattr(_parse, "_RECORD_MEMO", {})
    monkeypatch.setattr(_parse, "_RECORD_MEMO_LIMIT", 3)
    monkeypatch.setattr(_parse, "PARALLEL_MIN_RECORDS", 1)
    monkeypatch.setattr(_parse, "_BATCH", 2)  # the worker's share comes in several batches
    monkeypatch.setattr(_parse, "_POLL_EVERY", 1)
    worker: list[int] = []
    parse_ahead = _parse.parse_ahead

    def counted_ahead(*args: Any) -> int:
        worker.append(parse_ahead(*args))
        return worker[-1]

    monkeypatch.setattr(_build, "parse_ahead", counted_ahead)
    counted = _Counted(monkeypatch)
    index = _build.build_index(WorkingTree(small_registry))
    assert index.errors == () and len(list(index.versions())) == 4
    assert worker[0] > 0  # the worker parsed its share, sent as plain data
    assert counted.validations == _SMALL_REGISTRY_RECORDS + _POLICY
    assert counted.parses + worker[0] == _SMALL_REGISTRY_RECORDS + _POLICY
    # The load's own records stay memoised past the limit: loading again parses nothing.
    assert len(_parse._RECORD_MEMO) == _SMALL_REGISTRY_RECORDS


def test_the_memo_is_bounded_between_loads(
    small_registry: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loads reuse what the previous one parsed; an unrelated load then evicts it."""
    from registry_gen.store import _build, _parse

    monkeypatch.setattr(_parse, "_RECORD_MEMO", {})
    monkeypatch.setattr(_parse, "_RECORD_MEMO_LIMIT", 3)
    monkeypatch.setattr(_parse, "PARALLEL_MIN_RECORDS", 10**9)
    counted = _Counted(monkeypatch)
    first = _build.build_index(WorkingTree(small_registry))
    assert counted.validations == _SMALL_REGISTRY_RECORDS + _POLICY
    again = _build.build_index(WorkingTree(small_registry))
    assert counted.validations == _SMALL_REGISTRY_RECORDS + 2 * _POLICY  # no record twice
    assert again.models["churn"].record is first.models["churn"].record
    # Another registry (other files): the memo keeps that load's records, not both.
    other = init_repo(tmp_path / "other")
    write_model(other, "spam")
    write_version(other, "spam", 1)
    _build.build_index(WorkingTree(other))
    assert {file for (_schema, file, _blob) in _parse._RECORD_MEMO} == {
        "models/spam/model.yaml",
        "models/spam/1/version.yaml",
        "models/spam/1/model.skops.dvc",
    }


def test_the_store_package_exports_agree() -> None:
    """``__all__``, the lazy exports and the names mypy sees are the same names."""
    import ast

    from registry_gen import store

    tree = ast.parse(Path(store.__file__).read_text())
    typed = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.If)
        and isinstance(node.test, ast.Name)
        and node.test.id == "TYPE_CHECKING"
        for stmt in node.body
        if isinstance(stmt, ast.ImportFrom)
        for alias in stmt.names
    }
    public = {name for name in store._EXPORTS if not name.startswith("_")}
    assert set(store.__all__) == public == typed
    for name in store._EXPORTS:
        assert getattr(store, name) is not None
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        _ = store.nope


_SCAN_ONLY = """
import json, sys
from pathlib import Path
from registry_gen.store import scan_model_folder
scan = scan_model_folder(Path(sys.argv[1]), "churn")
heavy = ["pydantic", "yaml", "ruamel", "registry_gen.schema", "registry_gen.store._build"]
imported = [m for m in heavy if m in sys.modules]
print(json.dumps({"files": len(scan.entries()), "imported": imported}))
"""


def test_scanning_one_model_folder_imports_no_parser(small_registry: Path) -> None:
    """The loader's warm path scans a folder through the store without loading the parsers."""
    result = subprocess.run(
        [sys.executable, "-c", _SCAN_ONLY, str(small_registry)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"files": 11, "imported": []}


def test_every_resolution_error_comes_from_the_one_resolver(small_registry: Path) -> None:
    from registry_gen import resolve
    from registry_gen.uri import ModelUri

    index = load_index(small_registry)
    churn = index.model("churn")
    for uri in (
        "models:/churn/9",
        "models:/churn@nope",
        "models:/churn/Gold",
        "models:/churn/None",
    ):
        with pytest.raises(VersionNotFound) as from_index:
            index.resolve(uri)
        with pytest.raises(VersionNotFound) as from_resolver:
            resolve.resolve(
                ModelUri.parse(uri), churn.version_stages, churn.aliases, index.policy.stages
            )
        assert str(from_index.value) == str(from_resolver.value)
    assert index.resolve("models:/churn/PRODUCTION").version == 3
