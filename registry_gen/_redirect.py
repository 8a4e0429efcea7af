"""A renamed model's redirect: ``models/OLD/moved.yaml`` holding ``to: NEW``.

Renaming a registered model moves ``models/OLD/`` to ``models/NEW/`` and leaves
this one small file behind, so every ``models:/OLD/...`` URI already written into
code keeps resolving (to NEW's versions, with a note) on every route: a checkout,
a git URL and the published site's JSON API (``api/index.json``'s ``moved``).
The one place that follows it is :func:`registry_gen.resolve.follow_rename`;
the validator (RG209) keeps redirects simple: the target is a registered model,
never another redirect, and the old folder holds nothing else.

Example:
    >>> parse_moved(b"to: churn\\n", "models/churn-old/moved.yaml").to
    'churn'
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator

from .paths import MODELS_DIR, MOVED_FILE
from .schema import parse_record
from .uri import check_model_name

__all__ = ["MovedRecord", "moved_path", "moved_yaml", "parse_moved"]


class MovedRecord(BaseModel):
    """``models/OLD/moved.yaml``: where the registered model OLD went."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    to: str

    @field_validator("to")
    @classmethod
    def _target_is_a_name(cls, to: str) -> str:
        try:
            return check_model_name(to)
        except ValueError as error:  # InvalidName: a pydantic error names the field
            raise ValueError(str(error)) from None


def moved_path(name: str) -> str:
    """The redirect file of the old name ``name``.

    >>> moved_path("churn-old")
    'models/churn-old/moved.yaml'
    """
    return f"{MODELS_DIR}/{name}/{MOVED_FILE}"


def moved_yaml(old: str, new: str) -> str:
    """The text of ``models/OLD/moved.yaml`` (a comment says what it is for).

    >>> print(moved_yaml("a", "b"), end="")
    # models:/a/... resolves to models:/b/...: the model was renamed (registry-gen rename).
    to: b
    """
    return (
        f"# models:/{old}/... resolves to models:/{new}/...: the model was renamed "
        "(registry-gen rename).\n"
        f"to: {new}\n"
    )


def parse_moved(blob: bytes, path: str) -> MovedRecord:
    """Parse one redirect file.

    Raises:
        RecordError: not YAML, or not ``to: NAME`` with a valid model name.
    """
    return parse_record(blob, path, MovedRecord)
