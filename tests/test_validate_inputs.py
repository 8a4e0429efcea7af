"""Hostile pull requests against the validator's inputs (issue 10, classes 3, 4, 5 and 11).

Each test builds a real git repository with a base commit on main and the pull
request's head on a branch, and checks what the validator (or its command line)
makes of it: a finding naming the file, or a one-line error, never a pass or a
traceback.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from builders import commit, git, small_registry_at, write_model, write_version
from registry_gen.cli import main
from registry_gen.validate import Finding, Report, validate_change

CHURN_2 = "models/churn/2/model.skops.dvc"
MD5_2 = hashlib.md5(b"churn-2").hexdigest()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_registry_at(tmp_path_factory.mktemp("template") / "registry")


@pytest.fixture
def repo(template: Path, tmp_path: Path) -> Path:
    root = tmp_path / "registry"
    shutil.copytree(template, root, symlinks=True)
    return root


def pr(root: Path, edit: Callable[[Path], object]) -> Report:
    """Apply ``edit`` on branch ``pr``, commit it and validate main → pr."""
    git(root, "checkout", "-q", "-b", "pr", "main")
    edit(root)
    git(root, "add", "-A", "-f")  # -f: a hostile PR commits what .gitignore would hide
    commit(root, "Change on pr")
    return validate_change(root, "main", "pr")


def found(report: Report, code: str) -> list[Finding]:
    return [f for f in report.findings if f.code == code]


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


# ---------------------------------------------------------------------------
# Class 3: .dvc pointers are closed, and immutable once merged


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ("  remote: attacker\n", "unknown key"),
        ("  push: false\n", "unknown key"),
        ("  cache: false\n", "unknown key"),
        ("  nfiles: 3\n", "nfiles belongs to a folder"),
    ],
)
def test_a_pointer_cannot_name_a_remote_or_skip_the_push(
    repo: Path, extra: str, words: str
) -> None:
    def edit(root: Path) -> None:
        write_model(root, "spam")
        write_version(root, "spam", 1)
        append(root / "models/spam/1/model.skops.dvc", extra)

    [finding] = found(pr(repo, edit), "RG103")
    assert finding.file == "models/spam/1/model.skops.dvc"
    assert words in finding.message


def test_a_negative_size_or_a_folder_hash_without_files_is_refused(repo: Path) -> None:
    def edit(root: Path) -> None:
        write_model(root, "spam")
        write_version(root, "spam", 1)
        write_version(root, "spam", 2)
        pointer = root / "models/spam/1/model.skops.dvc"
        pointer.write_text(pointer.read_text().replace("size: ", "size: -"))
        pointer = root / "models/spam/2/model.skops.dvc"
        md5 = hashlib.md5(b"spam-2").hexdigest()
        pointer.write_text(pointer.read_text().replace(md5, f"{md5}.dir"))

    report = pr(repo, edit)
    problems = {(f.file, f.line): f.message for f in found(report, "RG103")}
    assert "greater than or equal to 0" in problems[("models/spam/1/model.skops.dvc", 3)]
    assert "records nfiles" in problems[("models/spam/2/model.skops.dvc", 2)]


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("  hash: md5\n", "", "hash"),  # back to DVC 2's legacy hashing
        ("  path: model.skops\n", "  path: model.skops\n  isexec: true\n", "isexec"),
        (f"md5: {MD5_2}\n  size: 7\n", f"md5: {MD5_2}.dir\n  size: 7\n  nfiles: 1\n", "md5"),
    ],
)
def test_rg305_every_field_of_a_merged_pointer_is_immutable(
    repo: Path, old: str, new: str, field: str
) -> None:
    def edit(root: Path) -> None:
        pointer = root / CHURN_2
        assert old in pointer.read_text()
        pointer.write_text(pointer.read_text().replace(old, new))

    report = pr(repo, edit)
    changed = [f for f in found(report, "RG305") if f"artifact {field} (.dvc)" in f.message]
    assert changed and changed[0].file == CHURN_2, report.findings


def test_rg904_an_mlflow_artifact_is_a_folder(repo: Path) -> None:
    def edit(root: Path) -> None:
        write_model(root, "spam")
        write_version(root, "spam", 1, artifact="model", fmt="mlflow")

    [finding] = found(pr(repo, edit), "RG904")
    assert (finding.file, finding.line) == ("models/spam/1/model.dvc", 2)


# ---------------------------------------------------------------------------
# Class 4: every path under models/ is known or a finding; every file has a size limit


BIG = 250_000  # over the default max_git_file_bytes (200,000)


@pytest.mark.parametrize(
    ("path", "size", "code"),
    [
        ("models/fraud/1/.gitignore", BIG, "RG206"),  # once exempt from the size limit
        ("models/fraud/model.yaml", BIG, "RG206"),
        ("models/.gitkeep", BIG, "RG206"),
        ("models/broken/sub/weights.bin", 5_000_000, "RG206"),  # a model with no model.yaml
        ("models/broken/notes.txt", 10, "RG207"),
        ("models/broken/1/deep/er/x.txt", 10, "RG207"),
        ("models/fraud/1/a/b/c/d.bin", BIG, "RG206"),
    ],
)
def test_every_path_under_models_is_known_or_a_finding(
    repo: Path, path: str, size: int, code: str
) -> None:
    def edit(root: Path) -> None:
        file = root / path
        file.parent.mkdir(parents=True, exist_ok=True)
        if file.name in {".gitignore", "model.yaml"}:  # valid content, padded with comments
            padding = "\n".join("# " + "x" * 98 for _ in range(size // 100))
            file.write_text(file.read_text() + padding + "\n")
        else:
            file.write_bytes(b"\0" * size)

    report = pr(repo, edit)
    assert path in {f.file for f in found(report, code)}, report.findings


def test_a_huge_gitignore_is_not_read_for_its_lines(repo: Path) -> None:
    def edit(root: Path) -> None:
        (root / "models/fraud/1/.gitignore").write_text("/model.skops\n/version.yaml\n" * 20_000)

    report = pr(repo, edit)
    assert [f.file for f in found(report, "RG206")] == ["models/fraud/1/.gitignore"]
    assert not found(report, "RG208")


# ---------------------------------------------------------------------------
# Class 5: bounded inputs and reserved names


@pytest.mark.parametrize("name", ["feed.xml", "index.html", "activity.html", "lineage.html"])
def test_rg203_every_name_the_site_writes_is_reserved(repo: Path, name: str) -> None:
    def edit(root: Path) -> None:
        write_model(root, name)
        write_version(root, name, 1)

    [finding] = found(pr(repo, edit), "RG203")
    assert finding.file == f"models/{name}"


def huge_number(root: Path) -> None:
    append(root / "models/fraud/1/version.yaml", f"params:\n  seed: {'9' * 5000}\n")


def invoke(root: Path, *args: str) -> Result:
    result = CliRunner().invoke(main, ["-C", str(root), "validate", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.mark.parametrize("output", ["human", "json", "github"])
def test_a_5000_digit_integer_is_a_finding_in_every_output_mode(repo: Path, output: str) -> None:
    report = pr(repo, huge_number)
    [finding] = found(report, "RG101")
    assert finding.file == "models/fraud/1/version.yaml" and "at most 100" in finding.message
    for args in (["--base", "main", "--head", "pr"], []):  # the change, and the working tree
        result = invoke(repo, *args, "--format", output)
        assert result.exit_code == 1, result.output
        assert "RG101" in result.output and "Traceback" not in result.output


def test_a_description_over_the_bound_is_a_finding(repo: Path) -> None:
    from registry_gen._constants import MAX_DESCRIPTION_CHARS

    def edit(root: Path) -> None:
        append(
            root / "models/fraud/1/version.yaml",
            f"description: {'x' * (MAX_DESCRIPTION_CHARS + 1)}\n",
        )

    [finding] = found(pr(repo, edit), "RG101")
    assert finding.field == "description" and "at most" in finding.message


# ---------------------------------------------------------------------------
# Class 11: the command line's bad arguments and the runner's workflow commands


@pytest.mark.parametrize(
    "base",
    [
        "main@{1.day.ago}",
        "main@{1}",
        "no-such-branch",
        "main^{tree}",
        "HEAD:registry.yaml",
        "main@{1 day ago}",
        "--output=x",
        "",
    ],
)
def test_a_bad_base_is_a_one_line_usage_error(repo: Path, base: str) -> None:
    shutil.rmtree(repo / ".git/logs")  # a CI checkout: no reflog for @{...} to read
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "registry-gen"),
            "-C",
            str(repo),
            "validate",
            f"--base={base}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: --base: ") and result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_a_bad_head_names_the_option(repo: Path) -> None:
    result = invoke(repo, "--base", "main", "--head", "")
    assert result.exit_code == 2 and result.output.startswith("error: --head: ")


def test_an_empty_summary_means_none_with_a_warning(repo: Path, tmp_path: Path) -> None:
    result = invoke(repo, "--summary", "")
    assert result.exit_code == 0, result.output
    assert "warning: --summary is empty" in result.stderr
    folder = invoke(repo, "--summary", str(tmp_path))
    assert folder.exit_code == 2
    assert folder.stderr.startswith("error: --summary ") and folder.stderr.count("\n") == 1
    written = invoke(repo, "--summary", str(tmp_path / "summary.md"))
    assert written.exit_code == 0 and "Registry validation" in (tmp_path / "summary.md").read_text()


def test_a_full_disk_for_the_summary_is_one_line(repo: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    result = invoke(repo, "--summary", "/dev/full")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1].startswith("error: --summary '/dev/full': writing")


HOSTILE = "x\n::error file=registry.yaml::pwned\n  ::set-output name=a::b ##[error]legacy"


def test_github_mode_prints_no_workflow_command_but_its_annotations(repo: Path) -> None:
    def edit(root: Path) -> None:
        (root / "models/fraud/1" / HOSTILE).write_text("stray\n")

    report = pr(repo, edit)
    assert f"models/fraud/1/{HOSTILE}" in {f.file for f in found(report, "RG207")}
    result = invoke(repo, "--base", "main", "--head", "pr", "--format", "github")
    assert result.exit_code == 1
    annotations = result.stdout.splitlines()
    assert len(annotations) == len(report.findings)
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in annotations)
    assert any(
        "file=models/fraud/1/x%0A%3A%3Aerror file=registry.yaml%3A%3Apwned%0A" in line
        for line in annotations
    ), annotations
    for line in result.stderr.splitlines():
        assert not line.lstrip().startswith("::"), line
        assert "##[" not in line, line
    assert "x\\n" in result.stderr  # the file name is shown, its newline escaped
