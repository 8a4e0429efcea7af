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

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args


class RegistryError(Exception):
    """Base class of every error the registry raises on purpose.

    ``error_code`` is MLflow's name for the kind of error
    (``RESOURCE_DOES_NOT_EXIST``, ``RESOURCE_ALREADY_EXISTS``,
    ``INVALID_PARAMETER_VALUE``, else ``INTERNAL_ERROR``), so code written for
    ``MlflowException.error_code`` reads the same.

    >>> ModelNotFound("no registered model named 'churn'").error_code
    'RESOURCE_DOES_NOT_EXIST'
    """

    error_code: str = "INTERNAL_ERROR"


class UsageError(RegistryError, ValueError):
    """An argument given by the caller is malformed (exit code 2 on the CLI)."""

    error_code = "INVALID_PARAMETER_VALUE"


class InvalidName(UsageError):
    """A model name, version or alias does not follow the registry's grammar."""


class InvalidUri(UsageError):
    """A ``models:/`` URI is malformed."""


class SignatureMismatch(UsageError):
    """Data given to ``predict`` does not fit the version's recorded signature."""


class UnsafePath(RegistryError, ValueError):
    """A path would leave the registry folder or pass through a symlink."""

    error_code = "INVALID_PARAMETER_VALUE"


@dataclass(frozen=True)
class Location:
    """Where in a file something was found: ``file:line`` plus an optional field."""

    file: str
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where} ({self.field})" if self.field else where


# What went wrong with a record, for machines: set where the error is raised, so the
# validator picks its rule code from this, never from the wording of the message.
RecordCode = Literal[
    "yaml",  # not strict, well-formed UTF-8 YAML (yamlio)
    "schema",  # parsed, but does not match its schema (schema)
    "missing-file",  # a model or version folder lacks its record (store)
    "model-folder-name",  # a model folder's name is not a valid model name (store)
    "name-mismatch",  # model.yaml's name differs from its folder (store)
    "version-folder-name",  # a version folder's name is not a version number (store)
    "version-mismatch",  # version.yaml's version differs from its folder (store)
]
RECORD_CODES: tuple[RecordCode, ...] = get_args(RecordCode)


class RecordError(RegistryError, ValueError):
    """A record file (``model.yaml``, ``version.yaml``, ``registry.yaml``, ``.dvc``) is invalid.

    ``str(error)`` is one line: ``file:line (field): message``. ``code`` says
    what kind of problem it is (see :data:`RecordCode`). A file with several
    independent problems raises one error whose :attr:`problems` holds all of
    them, each with its own line and field.

    >>> first = RecordError(Location("v.yaml", 2, "stage"), "wrong type", code="schema")
    >>> error = RecordError.grouped([first, RecordError(Location("v.yaml", 5), "unknown key")])
    >>> str(error), [p.location.line for p in error.problems]
    ('v.yaml:2 (stage): wrong type (and 1 more problem in this file)', [2, 5])

    Raises:
        ValueError: ``code`` is not one of :data:`RECORD_CODES` (a programming error).
    """

    def __init__(
        self,
        location: Location,
        message: str,
        *,
        code: RecordCode = "schema",
        more: Sequence[RecordError] = (),
    ) -> None:
        if code not in RECORD_CODES:
            raise ValueError(f"unknown record error code {code!r}")
        self.location = location
        self.message = message
        self.code: RecordCode = code
        self.problems: tuple[RecordError, ...] = (self, *more)
        extra = f" (and {len(more)} more problem{'' if len(more) == 1 else 's'} in this file)"
        super().__init__(f"{location}: {message}{extra if more else ''}")

    @classmethod
    def grouped(cls, errors: Sequence[RecordError]) -> RecordError:
        """One error for every problem of one file: the first, carrying the others."""
        first, *rest = errors
        return cls(first.location, first.message, code=first.code, more=rest)

    def __reduce__(self) -> tuple[object, ...]:
        # Exceptions pickle their args; ours are the constructor's, keywords included.
        return (_record_error, (self.location, self.message, self.code, self.problems[1:]))


def _record_error(
    location: Location, message: str, code: RecordCode, more: Sequence[RecordError]
) -> RecordError:
    return RecordError(location, message, code=code, more=more)


class InvalidRegistry(RegistryError):
    """The registry has invalid records; ``errors`` holds every problem of them."""

    def __init__(self, errors: list[RecordError]) -> None:
        self.errors = [problem for error in errors for problem in error.problems]
        shown = "\n".join(f"  {e.location}: {e.message}" for e in self.errors[:20])
        count = len(self.errors)
        more = f"\n  ... and {count - 20} more" if count > 20 else ""
        super().__init__(
            f"the registry has {count} invalid record(s); "
            f"run `registry-gen validate` for the full report:\n{shown}{more}"
        )


class NotFound(RegistryError, LookupError):
    """Something asked for does not exist."""

    error_code = "RESOURCE_DOES_NOT_EXIST"


class ModelNotFound(NotFound):
    """No registered model has that name."""


class VersionNotFound(NotFound):
    """The model exists but has no such version, stage holder or alias."""


class NotARegistry(NotFound):
    """No ``registry.yaml`` in the folder asked for or any folder above it."""


class AlreadyExists(RegistryError, FileExistsError):
    """Creating something that is already there."""

    error_code = "RESOURCE_ALREADY_EXISTS"


class RuleViolation(RegistryError):
    """A change would break the registry's policy (``registry.yaml``).

    ``code`` names the rule (:data:`registry_gen.policy.ProblemCode`) when one of
    the policy's rules refused the change. Its ``error_code`` is MLflow's
    ``INVALID_PARAMETER_VALUE``: MLflow's answer to a request it refuses as asked.
    """

    error_code = "INVALID_PARAMETER_VALUE"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        self.code = code
        super().__init__(message)


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
