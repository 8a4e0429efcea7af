"""One exception hierarchy for the whole registry.

Every error a user can cause derives from :class:`RegistryError`, and where a
built-in exception means the same thing it inherits that too, so callers can
write ``except LookupError`` without knowing this package (the pattern of
huggingface_hub's ``errors.py``).

Example:
    >>> from registry_gen.errors import ModelNotFound, RegistryError
    >>> try:
    ...     raise ModelNotFound("no registered model named 'churn'")
    ... except LookupError as error:
    ...     isinstance(error, RegistryError)
    True
"""

from __future__ import annotations

from dataclasses import dataclass


class RegistryError(Exception):
    """Base class of every error the registry raises on purpose."""


class UsageError(RegistryError, ValueError):
    """An argument given by the caller is malformed (exit code 2 on the CLI)."""


class InvalidName(UsageError):
    """A model name, version or alias does not follow the registry's grammar."""


class InvalidUri(UsageError):
    """A ``models:/`` URI is malformed."""


class UnsafePath(RegistryError, ValueError):
    """A path would leave the registry folder or pass through a symlink."""


@dataclass(frozen=True)
class Location:
    """Where in a file something was found: ``file:line`` plus an optional field."""

    file: str
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where} ({self.field})" if self.field else where


class RecordError(RegistryError, ValueError):
    """A record file (``model.yaml``, ``version.yaml``, ``registry.yaml``, ``.dvc``) is invalid.

    ``str(error)`` is one line: ``file:line (field): message``.
    """

    def __init__(self, location: Location, message: str) -> None:
        self.location = location
        self.message = message
        super().__init__(f"{location}: {message}")


class InvalidRegistry(RegistryError):
    """The registry has invalid records; ``errors`` holds every one of them."""

    def __init__(self, errors: list[RecordError]) -> None:
        self.errors = errors
        shown = "\n".join(f"  {e}" for e in errors[:20])
        more = f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
        super().__init__(
            f"the registry has {len(errors)} invalid record(s); "
            f"run `registry-gen validate` for the full report:\n{shown}{more}"
        )


class NotFound(RegistryError, LookupError):
    """Something asked for does not exist."""


class ModelNotFound(NotFound):
    """No registered model has that name."""


class VersionNotFound(NotFound):
    """The model exists but has no such version, stage holder or alias."""


class AlreadyExists(RegistryError, FileExistsError):
    """Creating something that is already there."""


class RuleViolation(RegistryError):
    """A change would break the registry's policy (``registry.yaml``)."""


class GitError(RegistryError):
    """A git operation failed or the repository is not in the state it needs."""


class ArtifactError(RegistryError):
    """An artifact could not be tracked, pushed, fetched or verified."""


class HashMismatch(ArtifactError):
    """Bytes did not match the hash recorded for them; nothing was cached."""


class OfflineMiss(ArtifactError, ConnectionError):
    """Offline mode was asked for and the artifact is not in the cache."""


class UntrustedFormat(ArtifactError, PermissionError):
    """Loading this artifact would run code from it, and it was not trusted."""


class MissingExtra(RegistryError, ImportError):
    """An optional library needed for a format is not installed."""
