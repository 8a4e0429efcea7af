"""RG209: a renamed model's redirect (``models/OLD/moved.yaml``) stays simple (pure).

One hop to a registered model, and the old folder holds nothing else: so the one
resolver that follows redirects (:func:`registry_gen.resolve.follow_rename`) never
meets a chain, a cycle, or a name that is both a model and a redirect.

RG801 for a redirect a change adds, repoints or removes: ``models:/OLD/...``
written in code loads whatever OLD points at, so repointing it is the call of
the owners of the model it pointed at *and* of the one it points at now
(CODEOWNERS gives ``models/OLD/`` to its target's owners, see ``codeowners``).
"""

from __future__ import annotations

from registry_gen._redirect import moved_path
from registry_gen.store import RegistryIndex

from ._findings import Findings


def redirect_findings(index: RegistryIndex, out: Findings) -> None:
    """RG209 for each redirect: its target, chains and cycles, and the old folder's contents."""
    for old, new in sorted(index.moved.items()):
        where = moved_path(old)
        if old in index.models or old in index.broken:
            out.add(
                "RG209",
                f"models/{old}/ holds both a registered model and a redirect to {new!r}; "
                f"a renamed model's folder keeps only moved.yaml (delete one of them)",
                where,
                ("to",),
            )
        elif new == old:
            out.add("RG209", f"{old!r} redirects to itself; delete {where}", where, ("to",))
        elif new in index.moved:
            out.add(
                "RG209",
                f"{old!r} redirects to {new!r}, which redirects again (to "
                f"{index.moved[new]!r}); point 'to:' at the registered model itself",
                where,
                ("to",),
            )
        elif new not in index.models and new not in index.broken:
            out.add(
                "RG209",
                f"{old!r} redirects to {new!r}, which is not a registered model; "
                "point 'to:' at an existing model or delete the redirect",
                where,
                ("to",),
            )


def redirect_approvals(
    base: RegistryIndex, head: RegistryIndex, out: Findings, changed: set[str] | None
) -> None:
    """RG801 for each redirect the change adds, repoints or removes (a rename's own is judged
    with the renamed model: its old folder was the old model's, owned by its owners).

    ``changed`` as for ``change_findings``: the base holds only those names' files.
    """
    names = set(base.moved) | set(head.moved)
    for old in sorted(names if changed is None else names & changed):
        before, after = base.moved.get(old), head.moved.get(old)
        if before == after or (before is None and old in base.models):
            continue
        owners = [*_owners(base, head, before), *_owners(base, head, after)]
        change = f"now loads {after!r}" if after is not None else "is no longer redirected"
        was = f" (was {before!r})" if before is not None else ""
        who = ", ".join(dict.fromkeys(owners)) or "the registry's admins"
        out.add(
            "RG801",
            f"models:/{old}/... {change}{was}; the redirect needs a review by {who}",
            moved_path(old),
        )


def _owners(base: RegistryIndex, head: RegistryIndex, name: str | None) -> list[str]:
    """The base's owners of ``name`` (the head's when the base lacks or did not load it)."""
    if name is None:
        return []
    model = base.models.get(name) or head.models.get(name)
    return list(model.record.owners) if model is not None else []
