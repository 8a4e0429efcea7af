"""A stage change planned against the policy before anything is written.

:func:`plan_stage_change` checks every rule of :mod:`registry_gen.policy` that a
move of one version touches, and returns the records to edit: the version
itself and, with ``archive_existing``, the other holders of a single-holder
stage, which move to the policy's archive stage in the same change.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from ._edits import setter
from .errors import RuleViolation
from .policy import alias_on_stage, enforce, missing_requirements, single_holder, transition
from .schema import Policy, VersionRecord
from .store import ModelVersion, RegisteredModel, edit_record


def plan_stage_change(
    policy: Policy, model: RegisteredModel, target: ModelVersion, stage: str, archive_existing: bool
) -> list[tuple[ModelVersion, str]]:
    """``(version, new stage)`` for every version the move of ``target`` to ``stage`` edits.

    The target comes last; the others (archived with it) first.

    Raises:
        RuleViolation: the move, or archiving the other holders, breaks registry.yaml.
    """
    moved = _versions_to_archive(policy, model, target, stage, archive_existing)
    enforce(
        transition(policy, model.name, target.version, target.stage, stage),
        missing_requirements(policy, model.name, target.record, stage),
        alias_on_stage(policy, model.name, target.version, model.aliases_of(target.version), stage),
    )
    archive = policy.archive_stage or stage  # moved is empty without an archive stage
    return [(other, archive) for other in moved] + [(target, stage)]


def _versions_to_archive(
    policy: Policy, model: RegisteredModel, target: ModelVersion, stage: str, archive_existing: bool
) -> list[ModelVersion]:
    """The other holders of ``stage`` that move to the archive stage with ``target``."""
    others = [v for v in model.in_stage(stage) if v.version != target.version]
    if not others or not archive_existing:
        enforce(single_holder(policy, model.name, stage, [v.version for v in others]))
        return []
    archive = policy.archive_stage
    if archive is None:
        raise RuleViolation(
            "registry.yaml has no archive_stage to archive versions to; "
            "set one, or move the other versions out first"
        )
    for other in others:
        enforce(
            transition(policy, model.name, other.version, other.stage, archive),
            alias_on_stage(
                policy, model.name, other.version, model.aliases_of(other.version), archive
            ),
        )
    return others


def stage_change_commit(
    policy: Policy, target: ModelVersion, stage: str, moved: list[ModelVersion]
) -> tuple[str, str]:
    """The default branch name and the commit message of moving ``target`` to ``stage``."""
    verb = "Archive" if stage == policy.archive_stage else "Promote"
    message = f"{verb} {target.name} v{target.version}: {target.stage} → {stage}"
    if moved:
        message += " (archive " + ", ".join(f"v{v.version}" for v in moved) + ")"
    return f"{verb.lower()}/{target.name}-v{target.version}-{stage}", message


def write_stages(root: Path, changes: list[tuple[ModelVersion, str]]) -> dict[str, BaseModel]:
    """Write each version's new stage; the records as written, by record file."""
    return {
        version.record_file: edit_record(
            root / version.record_file, VersionRecord, setter("stage", new_stage)
        )
        for version, new_stage in changes
    }
