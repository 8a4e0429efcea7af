"""``registry-gen upgrade``: the generated files of a registry, for this registry-gen version.

Only the marked regions of the files ``init`` generated are rewritten (see
:mod:`registry_gen._generated`); a team's own lines around them stay. A file
that was deleted is written again; ``.github/CODEOWNERS`` is regenerated from
owners and approvers. By default the change is one commit on a new branch,
ready for a pull request (the admins review it: these are governance files).

Example:
    >>> upgrade_registry(Path("/srv/registry"))  # doctest: +SKIP
    ['.github/registry-gen-requirement.txt', '.github/workflows/validate.yml']
"""

from __future__ import annotations

from pathlib import Path

from . import __version__, gitops
from ._edits import apply_change
from ._generated import GENERATED, default_package, pin_requirement, render, replace_region
from .codeowners import CODEOWNERS_PATH, render_codeowners
from .discover import find_registry
from .paths import atomic_write
from .store import load_index


def planned_upgrade(root: Path, package: str) -> dict[str, str]:
    """The new text of every generated file that would change, by path from ``root``.

    Raises:
        RecordError: a generated file lost its markers.
    """
    changes: dict[str, str] = {}
    for target in GENERATED:
        path = root / target
        generated = render(target, package)
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        new = generated if current is None else replace_region(current, generated, target)
        if new != current:
            changes[target] = new
    owners = "/".join(CODEOWNERS_PATH)
    text = render_codeowners(load_index(root))
    current = (root / owners).read_text(encoding="utf-8") if (root / owners).is_file() else None
    if text != current:
        changes[owners] = text
    return changes


def upgrade_registry(
    start: Path | str | None = None, *, package: str | None = None, branch: bool | str = True
) -> list[str]:
    """Rewrite the generated regions for ``package`` (default: this registry-gen's release).

    ``package`` is the pip requirement the workflows install (kept in
    ``.github/registry-gen-requirement.txt``). With ``branch`` (the default) the
    change is committed on ``upgrade/registry-gen-VERSION`` (or the name given);
    ``branch=False`` leaves it in the working tree. Returns the paths changed.

    Raises:
        NotARegistry: ``start`` is not inside a registry.
        RecordError: a generated file lost its markers.
        GitError: the branch exists, or a generated file has uncommitted edits.
    """
    root = find_registry(start)
    changes = planned_upgrade(root, pin_requirement(package) if package else default_package())
    if not changes:
        return []
    name = gitops.branch_name("upgrade", f"registry-gen-{__version__}")
    target = None if not branch else (name if branch is True else str(branch))

    def write() -> None:
        for relative, text in changes.items():
            atomic_write(root / relative, text)

    apply_change(
        root,
        target,
        f"Upgrade the generated files to registry-gen {__version__}",
        list(changes),
        write,
    )
    return list(changes)
