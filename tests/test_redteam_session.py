"""Red-team tests for the features of this session: each one an attack on real parts.

Redirects that hijack an old name, a site that publishes files outside its remote,
trusted skops types that slip past the deny list or stop the validator.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

from builders import commit, init_repo, write_model, write_version
from registry_gen._trusted_types import trusted_type_problem
from registry_gen.codeowners import render_codeowners
from registry_gen.site._objects import object_files
from registry_gen.store import load_index
from registry_gen.validate import validate_change

# ---------------------------------------------------------------------------
# Redirects (models/OLD/moved.yaml): repointing an old name is the old target's owners' call


def _renamed_registry(root: Path) -> Path:
    """churn (owned by @ml-team, v1 Production) renamed from churn-old; fraud owned by @mallory."""
    init_repo(root)
    write_model(root, "churn", owners=["@ml-team"])
    write_version(root, "churn", 1, stage="Production")
    write_model(root, "fraud", owners=["@mallory"])
    write_version(root, "fraud", 1, stage="Production")
    moved = root / "models" / "churn-old" / "moved.yaml"
    moved.parent.mkdir(parents=True)
    moved.write_text("to: churn\n")
    commit(root, "Register churn (renamed from churn-old) and fraud")
    return root


def test_repointing_a_redirect_needs_the_old_targets_owners(tmp_path: Path) -> None:
    """`models:/churn-old/Production` loads churn; a PR by fraud's owner points it at fraud."""
    root = _renamed_registry(tmp_path / "reg")
    (root / "models" / "churn-old" / "moved.yaml").write_text("to: fraud\n")
    commit(root, "Point churn-old at fraud", author="Mallory <m@example.com>")

    report = validate_change(root, "HEAD~1", "HEAD")
    notices = [str(f) for f in report.findings if f.code == "RG801"]
    assert any("@ml-team" in n and "churn-old" in n for n in notices), notices
    assert any("@mallory" in n for n in notices), notices


def test_a_new_redirect_to_a_model_needs_its_owners(tmp_path: Path) -> None:
    root = _renamed_registry(tmp_path / "reg")
    moved = root / "models" / "churn-v0" / "moved.yaml"
    moved.parent.mkdir(parents=True)
    moved.write_text("to: churn\n")
    commit(root, "A second old name for churn")
    notices = [str(f) for f in validate_change(root, "HEAD~1", "HEAD").findings]
    assert any("RG801" in n and "@ml-team" in n and "churn-v0" in n for n in notices), notices


def test_codeowners_gives_a_redirect_to_its_targets_owners(tmp_path: Path) -> None:
    """GitHub reads CODEOWNERS from the base: the old folder must be owned there already."""
    root = _renamed_registry(tmp_path / "reg")
    assert "/models/churn-old/ @ml-team\n" in render_codeowners(load_index(root))


# ---------------------------------------------------------------------------
# A site publishes only files inside the local remote


def test_a_symlinked_object_in_a_remote_in_the_repository_is_not_published(
    tmp_path: Path,
) -> None:
    """`registry-gen init`'s dvc-remote/ is in git: a PR can commit a symlink there."""
    secret = tmp_path / "secret.txt"
    secret.write_text("the build machine's secret\n")
    root = init_repo(tmp_path / "reg")
    (root / ".dvc").mkdir()
    (root / ".dvc" / "config").write_text(
        "[core]\n    remote = local\n['remote \"local\"']\n    url = ../dvc-remote\n"
    )
    write_model(root, "churn", owners=["@ml-team"])
    payload = b"the model"
    write_version(root, "churn", 1, content=payload)
    md5 = hashlib.md5(payload).hexdigest()
    obj = root / "dvc-remote" / "files" / "md5" / md5[:2] / md5[2:]
    obj.parent.mkdir(parents=True)
    obj.symlink_to(secret)
    commit(root, "Register churn with its object as a symlink")

    published = object_files(root, load_index(root))
    assert all(source.resolve() != secret for source in published.values()), published
    assert not published


def test_a_symlinked_remote_folder_inside_the_repository_is_not_published(
    tmp_path: Path,
) -> None:
    """A symlinked fan-out folder (files/md5/ab -> /etc) is outside the remote too."""
    outside = tmp_path / "outside"
    payload = b"the model"
    md5 = hashlib.md5(payload).hexdigest()
    (outside).mkdir()
    (outside / md5[2:]).write_text("a file elsewhere on the machine\n")
    root = init_repo(tmp_path / "reg")
    (root / ".dvc").mkdir()
    (root / ".dvc" / "config").write_text(
        "[core]\n    remote = local\n['remote \"local\"']\n    url = ../dvc-remote\n"
    )
    write_model(root, "churn")
    write_version(root, "churn", 1, content=payload)
    fanout = root / "dvc-remote" / "files" / "md5" / md5[:2]
    fanout.parent.mkdir(parents=True)
    fanout.symlink_to(outside)
    commit(root, "Register churn with a symlinked fan-out folder")
    assert object_files(root, load_index(root)) == {}


# ---------------------------------------------------------------------------
# Trusted skops types: the deny list and the imports the validator makes


@pytest.mark.parametrize(
    "name",
    [
        "_operator.methodcaller",  # operator.methodcaller's C twin
        "_operator.attrgetter",
        "_functools.reduce",
        "_socket.socket",
        "_ctypes.dlopen",
        "timeit.timeit",  # runs a string of Python
        "cProfile.run",
        "profile.run",
        "trace.Trace",
        "doctest.debug_src",
        "codecs.open",
        "shelve.open",  # unpickles
        "logging.config.dictConfig",  # instantiates any callable by name
        "numpy.testing._private.utils.runstring",  # exec
        "numpy.lib._format_impl.os.system",  # a denied module reached through an attribute
        "numpy.lib._npyio_impl.pickle.loads",
        "numpy.lib._npyio_impl.load",  # numpy.load under another name
    ],
)
def test_the_deny_list_covers_aliases_and_code_runners(name: str) -> None:
    assert trusted_type_problem(name) is not None, name


def _exiting_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, raises: str) -> str:
    pkg = tmp_path / "site" / "exitpkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "boom.py").write_text(f"raise {raises}\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.delitem(sys.modules, "exitpkg", raising=False)
    return "exitpkg.boom.Thing"


def test_a_module_that_exits_on_import_is_a_problem_not_an_exit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A SystemExit(0) raised while the validator imports a trusted type's module
    would end the check with exit 0 (a pass) before any finding is printed."""
    name = _exiting_package(tmp_path, monkeypatch, "SystemExit(0)")
    problem = trusted_type_problem(name)
    assert problem is not None and "importing exitpkg.boom failed" in problem


def test_replacing_a_redirect_by_a_new_model_of_that_name_needs_the_old_targets_owners(
    tmp_path: Path,
) -> None:
    """Squatting the old name: churn-old becomes a new model that `models:/churn-old/...` loads."""
    root = _renamed_registry(tmp_path / "reg")
    (root / "models" / "churn-old" / "moved.yaml").unlink()
    write_model(root, "churn-old", owners=["@mallory"])
    write_version(root, "churn-old", 1)
    commit(root, "Register churn-old", author="Mallory <m@example.com>")
    notices = [str(f) for f in validate_change(root, "HEAD~1", "HEAD").findings]
    assert any("RG801" in n and "@ml-team" in n and "churn-old" in n for n in notices), notices


def test_an_unchanged_redirect_asks_nobody(tmp_path: Path) -> None:
    root = _renamed_registry(tmp_path / "reg")
    write_version(root, "churn", 2)
    commit(root, "Register churn v2")
    notices = [str(f) for f in validate_change(root, "HEAD~1", "HEAD").findings]
    assert not any("churn-old" in n for n in notices), notices
