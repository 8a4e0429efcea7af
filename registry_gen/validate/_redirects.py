"""RG209: a renamed model's redirect (``models/OLD/moved.yaml``) stays simple (pure).

One hop to a registered model, and the old folder holds nothing else: so the one
resolver that follows redirects (:func:`registry_gen.resolve.follow_rename`) never
meets a chain, a cycle, or a name that is both a model and a redirect.
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
