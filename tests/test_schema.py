"""Record schemas: strict types, unknown keys refused, every error naming file:line (field)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from registry_gen.errors import RecordError
from registry_gen.schema import (
    DvcPointer,
    ModelRecord,
    Policy,
    StageRequirement,
    VersionRecord,
    parse_record,
)

VERSION = """\
version: 3
stage: Production
description: |
  Third version.
created_at: '2026-01-03T10:00:00Z'
created_by: alice
artifact:
  path: model.skops
  format: skops
  trusted_types: [numpy.dtype]
lineage:
  run_id: run-3
  run_url: https://mlflow.example.com/runs/3
  code: {repo: https://github.com/acme/churn, commit: 3f2a9c1}
  datasets:
    - {name: train, path: data/train.csv, md5: 0cc175b9c0f1b6a831c399e269772661}
    - {name: holdout, url: s3://bucket/holdout.parquet}
  parents: [models:/base/2, models:/base@champion]
params: {max_depth: 5, criterion: gini, scale: 0.5, balanced: true, seed: null}
metrics: {auc: 0.91, f1: 1}
signature:
  inputs: [{name: age, type: float64}]
  outputs: [{type: int64, shape: [-1]}]
tags: {team: risk}
"""
FILE = "models/churn/3/version.yaml"


def test_full_version_record() -> None:
    record = parse_record(VERSION, FILE, VersionRecord)
    assert record.version == 3 and record.stage == "Production"
    assert record.created_at.year == 2026 and record.created_at.tzinfo is not None
    assert record.artifact.trusted_types == ["numpy.dtype"]
    assert record.lineage.code is not None and record.lineage.code.commit == "3f2a9c1"
    assert record.lineage.parents == ["models:/base/2", "models:/base@champion"]
    assert record.metrics == {"auc": 0.91, "f1": 1.0}
    assert record.params["seed"] is None
    assert record.signature is not None and record.signature.outputs[0].shape == [-1]


def _error(text: str, schema: type = VersionRecord) -> RecordError:
    with pytest.raises(RecordError) as info:
        parse_record(text, FILE, schema)
    assert "\n" not in str(info.value)
    return info.value


@pytest.mark.parametrize(
    ("old", "new", "line", "field"),
    [
        ("version: 3", "version: 1.10", 1, "version"),
        ("version: 3", "version: '3'", 1, "version"),
        ("version: 3", "version: 0", 1, "version"),
        ("stage: Production", "stage: [Production]", 2, "stage"),
        ("stage: Production", "stage: Prod uction", 2, "stage"),
        ("created_by: alice", "created_by: alice\ncolour: red", 7, "colour"),
        ("  path: model.skops", "  path: ../../etc/passwd", 8, "artifact.path"),
        ("  path: model.skops", "  path: /abs/model", 8, "artifact.path"),
        ("  path: model.skops", "  path: version.yaml", 8, "artifact.path"),
        ("  path: model.skops", "  path: model.skops.dvc", 8, "artifact.path"),
        ("  format: skops", "  format: zip", 9, "artifact.format"),
        ("  run_id: run-3", "  run_id: 3", 12, "lineage.run_id"),
        ("commit: 3f2a9c1}", "commit: XYZ}", 14, "lineage.code.commit"),
        ("md5: 0cc175b9c0f1b6a831c399e269772661", "md5: nothex", 16, "lineage.datasets.0.md5"),
        (
            "  parents: [models:/base/2, models:/base@champion]",
            "  parents: [models:/a/../b]",
            18,
            "lineage.parents",
        ),
        ("metrics: {auc: 0.91, f1: 1}", "metrics: {auc: high}", 20, "metrics.auc"),
        ("tags: {team: risk}", "tags: {team: [risk]}", 24, "tags.team"),
        ("created_at: '2026-01-03T10:00:00Z'", "created_at: someday", 5, "created_at"),
    ],
)
def test_invalid_version_records_name_file_line_and_field(
    old: str, new: str, line: int, field: str
) -> None:
    assert old in VERSION
    error = _error(VERSION.replace(old, new))
    assert error.location.file == FILE
    assert (error.location.line, error.location.field) == (line, field)
    assert str(error).startswith(f"{FILE}:{line} ({field}): ")


def test_missing_required_fields() -> None:
    error = _error("version: 1\nstage: None\n")
    assert error.location.line == 1
    assert "required field is missing" in str(error)


def test_record_must_be_a_mapping() -> None:
    error = _error("- a\n- b\n")
    assert str(error) == f"{FILE}:1: the file must be a YAML mapping (key: value)"


def test_unknown_key_message_points_to_docs() -> None:
    error = _error(VERSION + "owner: bob\n")
    assert "unknown key" in str(error) and "(owner)" in str(error)


def test_model_record() -> None:
    record = parse_record(
        "name: churn\ndescription: '**bold**'\nowners: ['@ml']\naliases: {champion: 3}\n",
        "models/churn/model.yaml",
        ModelRecord,
    )
    assert record.aliases == {"champion": 3}
    for text, line, field in [
        ("name: Churn\n", 1, "name"),
        ("name: churn\naliases: {Champion: 3}\n", 2, "aliases"),
        ("name: churn\naliases: {champion: 0}\n", 2, "aliases"),
        ("name: churn\naliases: {champion: '3'}\n", 2, "aliases.champion"),
        ("name: churn\nowners: '@ml'\n", 2, "owners"),
    ]:
        with pytest.raises(RecordError) as info:
            parse_record(text, "models/churn/model.yaml", ModelRecord)
        assert info.value.location.line == line, text
        assert info.value.location.field == field, text


def test_default_policy() -> None:
    policy = Policy()
    assert policy.stages == ["None", "Staging", "Production", "Archived"]
    assert policy.canonical_stage("production") == "Production"
    assert policy.canonical_stage("gold") is None
    assert policy.allows("None", "Staging") and policy.allows("Staging", "Staging")
    assert not policy.allows("Production", "None")
    assert policy.single_holder == ["Production"]
    assert policy.requires["Production"] == StageRequirement(description=True, metrics=True)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("stages: [None, none]\n", 1, "unique"),
        ("stages: []\n", 1, "at least one stage"),
        ("stages: [None, Staging]\ndefault_stage: Production\n", 1, "unknown stage 'Production'"),
        ("transitions: {None: [Gold]}\n", 1, "unknown stage 'Gold'"),
        ("single_holder: [Gold]\n", 1, "unknown stage 'Gold'"),
        ("requires: {Production: {descripton: true}}\n", 1, "unknown key"),
        ("max_git_file_bytes: 0\n", 1, "greater than or equal to 1"),
    ],
)
def test_invalid_policies(text: str, line: int, message: str) -> None:
    with pytest.raises(RecordError) as info:
        parse_record(text, "registry.yaml", Policy)
    assert str(info.value).startswith("registry.yaml:")
    assert message in str(info.value)
    assert info.value.location.line is not None and info.value.location.line >= line


def test_dvc_pointer() -> None:
    pointer = parse_record(
        "outs:\n- md5: 0cc175b9c0f1b6a831c399e269772661\n  size: 1\n  hash: md5\n"
        "  path: model.pkl\n",
        "m.dvc",
        DvcPointer,
    )
    assert pointer.out.path == "model.pkl" and not pointer.out.is_dir
    folder = parse_record(
        "outs:\n- md5: 0cc175b9c0f1b6a831c399e269772661.dir\n  nfiles: 2\n  path: model\n",
        "m.dvc",
        DvcPointer,
    )
    assert folder.out.is_dir
    with pytest.raises(RecordError, match="exactly one output"):
        parse_record("outs: []\n", "m.dvc", DvcPointer)
    with pytest.raises(RecordError, match=r"m\.dvc:3 \(outs\.0\.path\)"):
        parse_record(
            "outs:\n- md5: 0cc175b9c0f1b6a831c399e269772661\n  path: ../x\n", "m.dvc", DvcPointer
        )


# ---------------------------------------------------------------------------
# Typed errors, every problem of a file (issue 9)


def test_every_problem_of_a_record_is_in_its_error() -> None:
    text = (
        "version: 3\nstage: 5\ncreated_at: '2026-01-03T10:00:00Z'\ncreated_by: [alice]\n"
        "artifact: {path: model.skops}\ncolour: red\nmetrics:\n  auc: high\n"
    )
    with pytest.raises(RecordError) as caught:
        parse_record(text, "models/churn/3/version.yaml", VersionRecord)
    problems = caught.value.problems
    assert [(p.location.line, p.location.field) for p in problems] == [
        (2, "stage"),
        (4, "created_by"),
        (8, "metrics.auc"),
        (6, "colour"),
    ]
    assert {p.code for p in problems} == {"schema"}
    assert problems[0] is caught.value
    assert str(caught.value).endswith("(and 3 more problems in this file)")


def test_yaml_problems_have_their_own_code() -> None:
    with pytest.raises(RecordError) as caught:
        parse_record("name: [churn\n", "models/churn/model.yaml", ModelRecord)
    assert caught.value.code == "yaml" and caught.value.problems == (caught.value,)


def test_record_errors_survive_pickling() -> None:
    import pickle

    with pytest.raises(RecordError) as caught:
        parse_record("name: 5\nowners: 7\n", "models/churn/model.yaml", ModelRecord)
    copy = pickle.loads(pickle.dumps(caught.value))
    assert str(copy) == str(caught.value)
    assert [p.message for p in copy.problems] == [p.message for p in caught.value.problems]


def test_a_dvc_md5_with_a_trailing_newline_is_refused() -> None:
    good = "outs:\n- md5: d41d8cd98f00b204e9800998ecf8427e\n  path: model.skops\n"
    assert parse_record(good, "m.dvc", DvcPointer).out.md5.startswith("d41d8")
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="md5"):
        DvcPointer.model_validate(
            {"outs": [{"md5": "d41d8cd98f00b204e9800998ecf8427e\n", "path": "model.skops"}]}
        )


def test_the_archive_stage_is_a_known_stage() -> None:
    assert Policy().archive_stage == "Archived"
    assert (
        Policy.model_validate(
            {
                "stages": ["none", "archived"],
                "default_stage": "none",
                "transitions": {},
                "single_holder": [],
                "requires": {},
                "alias_forbidden_stages": [],
            }
        ).archive_stage
        == "archived"
    )
    with pytest.raises(RecordError, match="archive_stage names unknown stage 'Gone'"):
        parse_record("archive_stage: Gone\n", "registry.yaml", Policy)


# ---------------------------------------------------------------------------
# Closed .dvc pointers and bounded records (issue 10)

MD5 = "0cc175b9c0f1b6a831c399e269772661"


@pytest.mark.parametrize(
    ("extra", "line", "words"),
    [
        ("  remote: evil\n", 5, "unknown key"),  # fetch from a remote the pull request picks
        ("  push: false\n", 5, "unknown key"),  # keep the bytes out of the registry's remote
        ("  cache: false\n", 5, "unknown key"),
        ("  cloud: {evil: {etag: x}}\n", 5, "unknown key"),
        ("  nfiles: 2\n", 5, "nfiles belongs to a folder"),  # a file's md5 with a folder's count
        ("  size: -1\n", 5, "greater than or equal to 0"),
    ],
)
def test_dvc_pointer_is_closed(extra: str, line: int, words: str) -> None:
    text = f"outs:\n- md5: {MD5}\n  hash: md5\n  path: model.pkl\n{extra}"
    with pytest.raises(RecordError) as info:
        parse_record(text, "m.dvc", DvcPointer)
    assert words in str(info.value)
    assert info.value.location.line in {2, line}


def test_a_folder_pointer_needs_nfiles() -> None:
    with pytest.raises(RecordError, match=r"m\.dvc:2 .*records nfiles"):
        parse_record(f"outs:\n- md5: {MD5}.dir\n  size: 9\n  path: model\n", "m.dvc", DvcPointer)
    with pytest.raises(RecordError, match="greater than or equal to 0"):
        parse_record(f"outs:\n- md5: {MD5}.dir\n  nfiles: -2\n  path: model\n", "m.dvc", DvcPointer)


def test_what_dvc_3_writes_is_accepted() -> None:
    file = parse_record(
        f"outs:\n- md5: {MD5}\n  size: 0\n  hash: md5\n  path: run.sh\n  isexec: true\n",
        "m.dvc",
        DvcPointer,
    )
    assert file.out.isexec and file.out.size == 0
    legacy = parse_record(f"outs:\n- md5: {MD5}\n  size: 4\n  path: m.pkl\n", "m.dvc", DvcPointer)
    assert legacy.out.hash is None
    with pytest.raises(RecordError, match="unknown key"):
        parse_record(f"outs:\n- md5: {MD5}\n  path: m.pkl\nfrozen: true\n", "m.dvc", DvcPointer)


def test_descriptions_are_bounded_by_the_one_constant() -> None:
    from registry_gen import markup
    from registry_gen._constants import MAX_DESCRIPTION_CHARS

    assert markup.MAX_DESCRIPTION_CHARS is MAX_DESCRIPTION_CHARS
    fine = "x" * MAX_DESCRIPTION_CHARS
    assert (
        parse_record(f"name: churn\ndescription: {fine}\n", "model.yaml", ModelRecord).description
        == fine
    )
    with pytest.raises(RecordError, match=r"model\.yaml:2 \(description\).*at most"):
        parse_record(f"name: churn\ndescription: {fine}x\n", "model.yaml", ModelRecord)


def test_a_5000_digit_integer_is_a_record_error() -> None:
    text = VERSION.replace("metrics: {auc: 0.91", f"metrics: {{auc: {'9' * 5000}")
    line = text[: text.index("metrics:")].count("\n") + 1
    with pytest.raises(RecordError) as info:
        parse_record(text, "models/churn/3/version.yaml", VersionRecord)
    assert str(info.value).startswith(f"models/churn/3/version.yaml:{line}: ")
    assert "at most 100 characters" in str(info.value)


def test_a_huge_value_of_the_wrong_type_is_quoted_short() -> None:
    with pytest.raises(RecordError) as info:
        parse_record(f"name: churn\nowners: '{'x' * 500_000}'\n", "model.yaml", ModelRecord)
    assert "got str 'xxx" in str(info.value) and len(str(info.value)) < 400


def test_versions_share_equal_parts_and_stay_what_their_files_say() -> None:
    import pickle

    first = parse_record(VERSION, FILE, VersionRecord)
    second = parse_record(VERSION.replace("version: 3", "version: 4"), FILE, VersionRecord)
    # Equal signatures and artifacts are one object (records are frozen), and equal
    # sets of set fields one set: the index holds a version in a third of the memory.
    assert second.signature is first.signature and second.artifact is first.artifact
    assert second.model_fields_set is first.model_fields_set
    assert "signature" in first.model_fields_set and "lineage" in first.model_fields_set
    # Anything that differs, in value, type or in which fields the file set, is its own.
    shaped = parse_record(VERSION.replace("shape: [-1]", "shape: [-2]"), FILE, VersionRecord)
    assert shaped.signature is not first.signature and shaped.signature != first.signature
    defaulted = parse_record(
        VERSION.replace("  trusted_types: [numpy.dtype]\n", "").replace("skops\n", "path\n", 1),
        FILE,
        VersionRecord,
    )
    explicit = parse_record(
        VERSION.replace("  trusted_types: [numpy.dtype]\n", "  trusted_types: []\n").replace(
            "format: skops", "format: path"
        ),
        FILE,
        VersionRecord,
    )
    assert defaulted.artifact is not explicit.artifact
    assert defaulted.artifact.model_fields_set != explicit.artifact.model_fields_set
    # A copy with changes gets its own set; the shared one is untouched.
    copied = first.model_copy(update={"description": "x"})
    assert copied.description == "x" and first.description == "Third version.\n"
    assert copied.model_fields_set is not first.model_fields_set
    # Records still compare, dump and pickle as before (the parse worker pickles them).
    again = pickle.loads(pickle.dumps(first))
    assert again == first and again.signature is first.signature
    assert again.model_dump() == first.model_dump()
    assert first.signature is not None
    with pytest.raises(ValidationError):
        first.signature.inputs[0].name = "other"


def test_a_shared_part_is_kept_only_while_a_record_holds_it() -> None:
    import gc
    import weakref

    text = VERSION.replace("name: age", "name: only-here")
    record = parse_record(text, FILE, VersionRecord)
    part = weakref.ref(record.signature)
    del record
    gc.collect()
    assert part() is None
