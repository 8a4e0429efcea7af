"""Rules on a change from the base branch to the pull request's head (pure).

RG303/RG304/RG305 versions, RG402/RG403 stage moves and RG801 approvals, judged
by the *base's* policy: a pull request cannot loosen the rules that judge it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from registry_gen.paths import POLICY_FILE
from registry_gen.policy import initial_stage, transition
from registry_gen.schema import DvcOutput, Policy
from registry_gen.store import ModelVersion, RegisteredModel, RegistryIndex
from registry_gen.yamlio import KeyPath

from ._findings import ChangeSummary, Findings, ModelChange
from ._redirects import redirect_approvals

# Every field of the .dvc pointer: what DVC fetches (md5, path, its kind) is fixed at merge.
_POINTER_FIELDS = tuple(DvcOutput.model_fields)


def _immutable(version: ModelVersion) -> dict[str, tuple[KeyPath, object]]:
    record = version.record
    pointer = version.pointer
    fields: dict[str, tuple[KeyPath, object]] = {
        "version": (("version",), record.version),
        "artifact.path": (("artifact", "path"), record.artifact.path),
        "artifact.format": (("artifact", "format"), record.artifact.format),
        "artifact.trusted_types": (("artifact", "trusted_types"), record.artifact.trusted_types),
        # The reviewed sha256 is what the loader trusts a pickle by: editing it later
        # would trust bytes nobody reviewed.
        "artifact.sha256": (("artifact", "sha256"), record.artifact.sha256),
        "lineage": (("lineage",), record.lineage),
        "created_at": (("created_at",), record.created_at),
        "created_by": (("created_by",), record.created_by),
    }
    for name in _POINTER_FIELDS:
        value = getattr(pointer, name) if pointer is not None else None
        fields[f"artifact {name} (.dvc)"] = (("outs", 0, name), value)
    return fields


def change_findings(
    base: RegistryIndex,
    head: RegistryIndex,
    out: Findings,
    *,
    base_label: str = "base",
    head_label: str = "head",
    changed: set[str] | None = None,
) -> ChangeSummary:
    """RG303/RG304/RG305 versions, RG402/RG403 transitions, RG801 approvals; the summary.

    ``changed`` limits the comparison to those model names (the models whose files
    differ); ``base`` then needs to hold only those models.
    """
    policy = base.policy  # the rules in force are the base's: a PR cannot loosen its own check
    changes: list[ModelChange] = []
    # A rename (models/OLD/ moved to NEW/, OLD/moved.yaml left): NEW is judged against OLD.
    renamed = {
        new: old
        for old, new in head.moved.items()
        if old in base.models and new in head.models and new not in base.models
    }
    redirect_approvals(base, head, out, changed)
    gone = set(base.models) - set(head.models) - set(head.broken) - set(renamed.values())
    for name in sorted(gone):
        model = base.models[name]
        out.add(
            "RG304",
            f"the registered model {name} ({model.describe_versions()}) is deleted; "
            "merged models are never deleted: archive its versions instead",
            model.record_file,
        )
    for name in sorted(head.models if changed is None else set(head.models) & changed):
        new = head.models[name]
        old = base.models.get(renamed.get(name, name))
        if old is None and name in base.broken:
            continue  # the base could not be read: nothing to compare against
        change = _model_change(policy, old, new, out)
        if change is not None:
            changes.append(change)
    policy_changed = base.policy != head.policy
    approvers = list(
        dict.fromkeys(a for stage in policy.stages for a in policy.approvers.get(stage, []))
    )
    if policy_changed and approvers:
        out.add(
            "RG801",
            f"changes to {POLICY_FILE} (the registry's rules) need approval from "
            f"{', '.join(approvers)}",
            POLICY_FILE,
        )
    return ChangeSummary(
        base=base_label,
        head=head_label,
        models=tuple(changes),
        policy_changed=policy_changed,
        stage_order=tuple(head.policy.stages),
        default_stage=head.policy.default_stage,
        archive_stage=head.policy.archive_stage,
    )


@dataclass
class _VersionMoves:
    """What happened to one model's versions between base and head."""

    registered: list[tuple[int, str]] = field(default_factory=list)  # (version, stage)
    stage_changes: list[tuple[int, str, str]] = field(default_factory=list)  # (version, from, to)
    edited: list[int] = field(default_factory=list)
    deleted: bool = False


def _model_change(
    policy: Policy, old: RegisteredModel | None, new: RegisteredModel, out: Findings
) -> ModelChange | None:
    moves = _version_moves(policy, old, new, out)
    old_aliases = dict(old.aliases) if old else {}
    aliases_set = tuple(
        (a, old_aliases.get(a), v)
        for a, v in sorted(new.aliases.items())
        if old_aliases.get(a) != v
    )
    aliases_removed = tuple((a, v) for a, v in sorted(old_aliases.items()) if a not in new.aliases)
    record_edited = old is not None and (
        old.record.model_copy(update={"aliases": {}})
        != new.record.model_copy(update={"aliases": {}})
    )
    touched = bool(
        old is None
        or moves.registered
        or moves.stage_changes
        or moves.edited
        or aliases_set
        or aliases_removed
        or record_edited
        or moves.deleted
    )
    if not touched:
        return None
    approvers = _approvals(policy, old, new, moves.registered, moves.stage_changes, out=out)
    return ModelChange(
        name=new.name,
        created=old is None,
        registered=tuple(moves.registered),
        stage_changes=tuple(moves.stage_changes),
        aliases_set=aliases_set,
        aliases_removed=aliases_removed,
        edited=tuple(moves.edited),
        record_edited=record_edited,
        approvers=approvers,
    )


def _version_moves(
    policy: Policy, old: RegisteredModel | None, new: RegisteredModel, out: Findings
) -> _VersionMoves:
    """RG303/RG304/RG403 for added and deleted versions, then the kept ones."""
    name = new.name
    base_versions = {v.version: v for v in old.versions} if old else {}
    head_versions = {v.version: v for v in new.versions}
    moves = _VersionMoves(deleted=bool(set(base_versions) - set(head_versions)))
    instead = (
        f"set its stage to {policy.archive_stage} instead"
        if policy.archive_stage
        else "leave it in place instead"
    )
    for number in sorted(set(base_versions) - set(head_versions)):
        out.add(
            "RG304",
            f"{name} v{number} is deleted or renumbered; merged versions are never "
            f"deleted: restore its folder and {instead}",
            base_versions[number].record_file,
        )
    base_max = max(base_versions, default=0)
    added = sorted(set(head_versions) - set(base_versions))
    for i, number in enumerate(added, start=1):
        version = head_versions[number]
        moves.registered.append((number, version.stage))
        if number != base_max + i:
            out.add(
                "RG303",
                f"new version {number} of {name} should be {base_max + i}: the "
                f"base has {old.describe_versions() if old else 'no versions'}, and new "
                "versions continue from its highest",
                version.record_file,
                ("version",),
            )
        # A stage the base's policy does not know is judged too (RG403), never skipped:
        # else a pull request could rename Production in its own registry.yaml and jump.
        out.add_problem(
            initial_stage(policy, name, number, version.stage), version.record_file, ("stage",)
        )
    for number in sorted(set(base_versions) & set(head_versions)):
        _kept_version(policy, base_versions[number], head_versions[number], moves, out)
    return moves


def _kept_version(
    policy: Policy, before: ModelVersion, after: ModelVersion, moves: _VersionMoves, out: Findings
) -> None:
    """RG305 immutable fields and RG402 transitions of a version on both sides."""
    name, number = after.name, after.version
    old_fields, new_fields = _immutable(before), _immutable(after)
    for label, (key, value) in new_fields.items():
        if old_fields[label][1] != value:
            file = (
                after.record_file
                if "(.dvc)" not in label
                else f"{after.folder}/{after.record.artifact.path}.dvc"
            )
            out.add(
                "RG305",
                f"{label} of {name} v{number} changed; it is immutable once "
                f"merged: revert it, or register the new artifact as a new version",
                file,
                key,
            )
    if before.stage != after.stage:
        moves.stage_changes.append((number, before.stage, after.stage))
        out.add_problem(
            transition(policy, name, number, before.stage, after.stage),
            after.record_file,
            ("stage",),
        )
    elif before.record != after.record or before.pointer != after.pointer:
        moves.edited.append(number)


def _approvals(
    policy: Policy,
    old: RegisteredModel | None,
    new: RegisteredModel,
    registered: list[tuple[int, str]],
    stage_changes: list[tuple[int, str, str]],
    *,
    out: Findings,
) -> tuple[str, ...]:
    """RG801 notices: the owners of the changed model and the approvers of target stages."""
    who: list[str] = []
    owners = list(old.record.owners) if old else list(new.record.owners)
    if owners:
        who += owners
        out.add(
            "RG801",
            f"changes to {new.name} need a review by its owners: {', '.join(owners)}",
            new.record_file,
        )
    targets = sorted({stage for _, stage in registered} | {to for _, _, to in stage_changes})
    for stage in targets:
        approvers = policy.approvers.get(stage, [])
        if approvers:
            who += approvers
            versions = [n for n, s in registered if s == stage] + [
                n for n, _, to in stage_changes if to == stage
            ]
            out.add(
                "RG801",
                f"moving {new.name} {', '.join(f'v{n}' for n in versions)} into "
                f"{stage} needs approval from {', '.join(approvers)} (registry.yaml "
                f"approvers.{stage})",
                new.version(versions[0]).record_file,
                ("stage",),
            )
    return tuple(dict.fromkeys(who))
