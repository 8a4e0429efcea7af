"""Renaming a registered model: move ``models/OLD/`` to ``models/NEW/``, leave a redirect.

:func:`plan_rename` checks the names against the registry (pure, on an index);
:func:`write_rename` moves the folder, rewrites ``model.yaml``'s ``name``,
writes ``models/OLD/moved.yaml`` (see :mod:`registry_gen._redirect`) and, when
the registry keeps a ``.github/CODEOWNERS``, writes it again: its lines name
model folders, so a rename would otherwise leave it stale (RG802). Redirects
that pointed at OLD are pointed at NEW, so there is never a chain (RG209), and
renaming back onto one's own old name replaces that redirect.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from ._redirect import moved_path, moved_yaml
from ._registration import check_new_name
from .codeowners import CODEOWNERS_PATH, write_codeowners
from .errors import AlreadyExists, UsageError
from .paths import MODEL_FILE, MODELS_DIR, MOVED_FILE, atomic_write, safe_join
from .schema import ModelRecord
from .store import RegistryIndex, edit_record, load_index
from .uri import check_model_name

__all__ = ["RenamePlan", "plan_rename", "write_rename"]


@dataclass(frozen=True)
class RenamePlan:
    """One rename, checked: what moves and which redirects are rewritten."""

    old: str
    new: str
    repointed: tuple[str, ...]  # older names whose redirect pointed at ``old``
    back: bool  # ``new`` is a former name of ``old``: its redirect is replaced

    @property
    def paths(self) -> list[str]:
        """Every path the change touches, for a commit (folders as git pathspecs)."""
        return [
            f"{MODELS_DIR}/{self.old}",
            f"{MODELS_DIR}/{self.new}",
            *(moved_path(name) for name in self.repointed),
            "/".join(CODEOWNERS_PATH),  # committed only if the registry has one
        ]

    @property
    def message(self) -> str:
        """The commit message (history pairs the moved folder as a rename)."""
        return f"Rename registered model {self.old} to {self.new}"


def plan_rename(root: Path, index: RegistryIndex, old: str, new: str) -> RenamePlan:
    """Check renaming ``old`` to ``new`` in the registry at ``root`` as ``index`` reads it.

    >>> plan_rename(root, index, "churn", "churn-v2").paths  # doctest: +SKIP
    ['models/churn', 'models/churn-v2', '.github/CODEOWNERS']

    Raises:
        InvalidName: either name is not a model name.
        ModelNotFound, InvalidRegistry: ``old`` is not a healthy registered model.
        AlreadyExists: ``new`` is taken (a model, a case variant, or another model's redirect).
        UsageError: ``new`` equals ``old``.
    """
    check_model_name(old)
    check_model_name(new, what="new model name")
    index.model(old)
    if new == old:
        raise UsageError(f"the new name of {old!r} is the same name; pass a different one")
    back = index.moved.get(new) == old
    if not back:
        if new in index.moved:
            raise AlreadyExists(
                f"{new!r} is the old name of {index.moved[new]!r} (models/{new}/moved.yaml "
                "redirects it); pick another name"
            )
        check_new_name(root, new)
    repointed = tuple(sorted(n for n, to in index.moved.items() if to == old and n != new))
    return RenamePlan(old, new, repointed, back)


def write_rename(root: Path, plan: RenamePlan) -> None:
    """Move the folder, rename the record, and write the redirects of ``plan``.

    Raises:
        UnsafePath: a path on the way is a symlink.
        RecordError: ``model.yaml`` cannot be rewritten (nothing is moved then).
    """
    source = safe_join(root, MODELS_DIR, plan.old)
    target = safe_join(root, MODELS_DIR, plan.new)
    if plan.back:
        if any(p.name != MOVED_FILE for p in target.iterdir()):
            raise AlreadyExists(f"{target} holds more than its redirect; clean it first")
        safe_join(root, moved_path(plan.new)).unlink()
        target.rmdir()
    shutil.move(source, target)  # the artifacts DVC left in the working tree move along
    try:
        edit_record(target / MODEL_FILE, ModelRecord, lambda data: data.update(name=plan.new))
    except BaseException:
        shutil.move(target, source)
        raise
    source.mkdir()
    atomic_write(source / MOVED_FILE, moved_yaml(plan.old, plan.new))
    for name in plan.repointed:
        atomic_write(safe_join(root, moved_path(name)), moved_yaml(name, plan.new))
    if safe_join(root, *CODEOWNERS_PATH).is_file():
        write_codeowners(root, load_index(root))
