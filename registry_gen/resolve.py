"""The one ``models:/`` resolver: which version number a URI names.

Every place that turns a URI into a version (a checkout, a git URL, the
published site, a saved resolution and the website) calls :func:`resolve`, so
the answer and the error message are the same everywhere. Dependency-free: the
warm load path imports it.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping, Sequence

from .errors import ModelNotFound, VersionNotFound
from .uri import ModelUri

__all__ = [
    "canonical_stage",
    "describe_versions",
    "follow_rename",
    "moved_note",
    "resolve",
    "version_not_found",
]


def canonical_stage(stage: str, stages: Sequence[str]) -> str | None:
    """The registry's spelling of ``stage`` (matched case-insensitively, as MLflow does).

    >>> canonical_stage("production", ["None", "Production"])
    'Production'
    >>> canonical_stage("Prod", ["None", "Production"]) is None
    True
    """
    folded = stage.casefold()
    return next((s for s in stages if s.casefold() == folded), None)


def resolve(
    uri: ModelUri,
    versions: Mapping[int, str],
    aliases: Mapping[str, int],
    stages: Sequence[str],
) -> int:
    """The version number ``uri`` names, given each version's stage and the model's aliases.

    ``versions`` maps each version number of the model to its stage; ``stages``
    are the registry's stages in policy order. A stage names its newest holder.

    >>> resolve(
    ...     ModelUri.parse("models:/m/production"),
    ...     {1: "Production", 2: "None"},
    ...     {},
    ...     ["None", "Production"],
    ... )
    1
    >>> resolve(
    ...     ModelUri.parse("models:/m@champion"), {1: "None", 2: "None"}, {"champion": 2}, ["None"]
    ... )
    2

    Raises:
        VersionNotFound: the model has no such version, alias or stage holder; the
            message lists what exists.
    """
    if not versions:
        raise VersionNotFound(f"{uri.name} has no versions yet")
    if uri.version is not None:
        if uri.version not in versions:
            raise version_not_found(uri.name, uri.version, versions)
        return uri.version
    if uri.latest:
        return max(versions)
    if uri.alias is not None:
        if uri.alias not in aliases:
            known = ", ".join(f"@{a}" for a in sorted(aliases)) or "none"
            raise VersionNotFound(f"{uri.name} has no alias {uri.alias!r}; its aliases: {known}")
        target = aliases[uri.alias]
        if target not in versions:
            raise VersionNotFound(f"{uri.name}@{uri.alias} points to missing version {target}")
        return target
    assert uri.stage is not None  # ModelUri guarantees exactly one form
    stage = canonical_stage(uri.stage, stages)
    if stage is None:
        raise VersionNotFound(
            f"{uri.stage!r} in {uri} is not a stage of this registry; stages: {', '.join(stages)}"
        )
    holders = [number for number, held in versions.items() if held == stage]
    if not holders:
        listed = describe_versions(list(versions))
        raise VersionNotFound(f"{uri.name} has {listed}; none in {stage}")
    return max(holders)


def follow_rename(name: str, models: Container[str], moved: Mapping[str, str]) -> str:
    """The model a ``models:/NAME/...`` URI reads: ``name``, or where it was renamed to.

    ``moved`` maps old names to new ones (``models/OLD/moved.yaml``). A registered
    model of the name wins over a redirect; one hop only, since the validator
    (RG209) refuses chains: meeting one here means an unvalidated registry.

    >>> follow_rename("churn-old", {"churn"}, {"churn-old": "churn"})
    'churn'
    >>> follow_rename("churn", {"churn"}, {})
    'churn'

    Raises:
        ModelNotFound: the redirect's target is not a registered model (or is a redirect too).
    """
    if name in models or name not in moved:
        return name
    target = moved[name]
    if target not in models:
        hint = (
            f"which was renamed again to {moved[target]!r}: point models/{name}/moved.yaml there"
            if target in moved
            else "which does not exist"
        )
        raise ModelNotFound(f"registered model {name!r} was renamed to {target!r}, {hint}")
    return target


def moved_note(old: str, new: str) -> str:
    """The note a resolution through a redirect carries (logged by the loader).

    >>> moved_note("churn-old", "churn")
    "registered model 'churn-old' was renamed to 'churn'; use models:/churn/... instead"
    """
    return f"registered model {old!r} was renamed to {new!r}; use models:/{new}/... instead"


def version_not_found(name: str, number: int, numbers: Iterable[int]) -> VersionNotFound:
    """The error for version ``number`` of ``name``, which has only ``numbers``.

    >>> str(version_not_found("churn", 9, [1, 2, 3]))
    'churn has no version 9; it has versions 1-3'
    """
    return VersionNotFound(f"{name} has no version {number}; it has {describe_versions(numbers)}")


def describe_versions(numbers: Iterable[int]) -> str:
    """``versions 1-3``, ``version 2`` or ``versions 1, 4``: for messages.

    >>> describe_versions([1, 2, 3])
    'versions 1-3'
    """
    numbers = sorted(numbers)
    if not numbers:
        return "no versions"
    if len(numbers) == 1:
        return f"version {numbers[0]}"
    if numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"versions {numbers[0]}-{numbers[-1]}"
    return "versions " + ", ".join(map(str, numbers))
