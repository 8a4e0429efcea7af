"""Identifiers and ``models:/`` URIs, parsed once at the edge into frozen value objects.

Every name, version and alias that reaches a path, a git ref or a web page
passes through this module first; what comes out is known to be safe to use.

The URI forms are MLflow's:

========================  =====================================================
``models:/churn/3``       version 3
``models:/churn/Staging`` the highest version in stage Staging (case-insensitive)
``models:/churn@champion`` the version the alias ``champion`` points to
``models:/churn/latest``  the highest version, in any stage
========================  =====================================================

Example:
    >>> uri = ModelUri.parse("models:/churn@champion")
    >>> uri.name, uri.alias, str(uri)
    ('churn', 'champion', 'models:/churn@champion')
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from .errors import InvalidName, InvalidUri

MAX_NAME_LENGTH = 64
MAX_VERSION = 10_000_000
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*\Z")  # \Z: "$" would accept a trailing newline
ALIAS_PATTERN = re.compile(r"^[a-z][a-z0-9_-]*\Z")
STAGE_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*\Z")
# The names the website writes next to the model folders: its pages in models/
# (index, activity, lineage: X.md, X/N.md, built as X.html or X/index.html) and the
# feed (models/feed.xml), plus its top-level folders (assets, api, search). The one
# list (tests/test_uri.py renders a site and checks every name it writes against it):
# a model name is refused if it is one of them with or without a suffix (``feed.xml``,
# ``index.html``), so no page the site writes can collide with a model's folder.
RESERVED_NAMES = frozenset(
    {"index", "assets", "api", "search", "activity", "lineage", "feed", "compare"}
)

URI_SCHEME = "models:/"
URI_FORMS = (
    "models:/NAME/VERSION (e.g. models:/churn/3), "
    "models:/NAME/STAGE (e.g. models:/churn/Production), "
    "models:/NAME@ALIAS (e.g. models:/churn@champion), "
    "models:/NAME/latest"
)


def check_model_name(name: str, what: str = "model name") -> str:
    """Return ``name`` if it is a valid registered-model name, else raise :class:`InvalidName`.

    Names are lowercase slugs (``[a-z0-9][a-z0-9._-]*``, at most 64 characters)
    so that they are safe as folder names, URL paths and git branch names.

    >>> check_model_name("churn-classifier")
    'churn-classifier'
    """
    if not isinstance(name, str) or not name:
        raise InvalidName(f"{what} must be a non-empty string")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidName(f"{what} {name!r} is longer than {MAX_NAME_LENGTH} characters")
    if not NAME_PATTERN.match(name) or ".." in name or name.endswith((".", ".lock")):
        raise InvalidName(
            f"{what} {name!r} is not a lowercase slug: use a-z, 0-9, '.', '_' and '-', "
            "starting with a letter or digit (e.g. 'churn-classifier')"
        )
    if is_reserved_name(name):
        reserved = name.partition(".")[0]
        raise InvalidName(
            f"{what} {name!r} is reserved for the registry's website (its "
            f"{reserved!r} pages); pick another"
        )
    return name


def is_reserved_name(name: str) -> bool:
    """Whether ``name`` is, or begins with ``X.`` for, a name the website uses.

    >>> is_reserved_name("feed.xml"), is_reserved_name("index"), is_reserved_name("feeder")
    (True, True, False)
    """
    return name.partition(".")[0] in RESERVED_NAMES


def fold_name(name: str) -> str:
    """The form two names collide in: Unicode-normalised and case-folded."""
    return unicodedata.normalize("NFKC", name).casefold()


def check_version(version: int | str, what: str = "version") -> int:
    """Return ``version`` as an int if it is a positive version number.

    >>> check_version("3")
    3
    """
    if isinstance(version, bool):
        raise InvalidName(f"{what} must be a whole number, not {version!r}")
    if isinstance(version, str):
        if not version.isascii() or not version.isdigit() or version.startswith("0"):
            raise InvalidName(f"{what} {version!r} is not a version number (1, 2, 3, ...)")
        version = int(version)
    if not isinstance(version, int) or not 1 <= version <= MAX_VERSION:
        raise InvalidName(f"{what} {version!r} is not a version number (1, 2, 3, ...)")
    return version


def check_alias(alias: str, stages: tuple[str, ...] = ()) -> str:
    """Return ``alias`` if it is a valid alias name.

    Aliases are lowercase identifiers that cannot be read as a version number,
    ``latest`` or a stage, so ``models:/NAME@ALIAS`` is never ambiguous.

    >>> check_alias("champion")
    'champion'
    """
    if not isinstance(alias, str) or not alias:
        raise InvalidName("alias must be a non-empty string")
    if len(alias) > MAX_NAME_LENGTH:
        raise InvalidName(f"alias {alias!r} is longer than {MAX_NAME_LENGTH} characters")
    if not ALIAS_PATTERN.match(alias):
        raise InvalidName(
            f"alias {alias!r} is not valid: use a-z, 0-9, '_' and '-', starting with a letter"
        )
    if alias == "latest" or re.fullmatch(r"v[0-9]+", alias):
        raise InvalidName(f"alias {alias!r} is reserved: it reads as a version")
    if alias.casefold() in {s.casefold() for s in stages}:
        raise InvalidName(f"alias {alias!r} is the name of a stage; pick another")
    return alias


def check_stage_name(stage: str) -> str:
    """Return ``stage`` if it is a syntactically valid stage name."""
    if not isinstance(stage, str) or not STAGE_PATTERN.match(stage) or len(stage) > 32:
        raise InvalidName(f"stage {stage!r} is not a valid stage name (letters, digits, _ and -)")
    return stage


@dataclass(frozen=True)
class ModelUri:
    """A parsed ``models:/`` URI. Exactly one of ``version``, ``stage``, ``alias``, ``latest``.

    >>> str(ModelUri.parse("models:/churn/production"))
    'models:/churn/production'
    >>> ModelUri.parse("models:/churn/3").version
    3
    """

    name: str
    version: int | None = None
    stage: str | None = None
    alias: str | None = None
    latest: bool = False

    def __post_init__(self) -> None:
        chosen = [
            self.version is not None,
            self.stage is not None,
            self.alias is not None,
            self.latest,
        ]
        if sum(chosen) != 1:
            raise InvalidUri(f"a model URI names exactly one of: {URI_FORMS}")

    @classmethod
    def parse(cls, uri: str) -> ModelUri:
        """Parse ``uri``; raise :class:`InvalidUri` that lists the valid forms."""
        if not isinstance(uri, str):
            raise InvalidUri(f"model URI must be a string, not {type(uri).__name__}")

        def bad(reason: str) -> InvalidUri:
            return InvalidUri(f"invalid model URI {uri!r}: {reason}. Valid forms: {URI_FORMS}")

        if not uri.startswith(URI_SCHEME):
            raise bad("it must start with 'models:/'")
        rest = uri[len(URI_SCHEME) :]
        if any(c in rest for c in "?#%\\") or any(ord(c) < 33 or ord(c) > 126 for c in rest):
            raise bad("it contains a character that is not allowed (spaces, ?, #, %, \\)")
        if "@" in rest:
            return cls._parse_alias(rest, bad)
        return cls._parse_path(rest, bad)

    @classmethod
    def _parse_alias(cls, rest: str, bad: Callable[[str], InvalidUri]) -> ModelUri:
        # ``NAME@ALIAS``, the part after ``models:/``.
        name, _, alias = rest.partition("@")
        if "/" in name or "/" in alias or "@" in alias:
            raise bad("an alias URI is models:/NAME@ALIAS with no '/'")
        try:
            return cls(name=check_model_name(name), alias=check_alias(alias))
        except InvalidName as error:
            raise bad(str(error)) from None

    @classmethod
    def _parse_path(cls, rest: str, bad: Callable[[str], InvalidUri]) -> ModelUri:
        # ``NAME/VERSION``, ``NAME/STAGE`` or ``NAME/latest``, the part after ``models:/``.
        parts = rest.split("/")
        if len(parts) != 2:
            raise bad("expected exactly NAME/VERSION, NAME/STAGE or NAME/latest")
        name, ref = parts
        if not ref:
            raise bad("the version, stage or 'latest' after the name is missing")
        try:
            check_model_name(name)
            if ref.isdigit():
                return cls(name=name, version=check_version(ref))
            if ref.casefold() == "latest":
                return cls(name=name, latest=True)
            return cls(name=name, stage=check_stage_name(ref))
        except InvalidName as error:
            raise bad(str(error)) from None

    @classmethod
    def for_version(cls, name: str, version: int) -> ModelUri:
        """The URI of one exact version."""
        return cls(name=check_model_name(name), version=check_version(version))

    def __str__(self) -> str:
        if self.alias is not None:
            return f"{URI_SCHEME}{self.name}@{self.alias}"
        if self.version is not None:
            return f"{URI_SCHEME}{self.name}/{self.version}"
        if self.stage is not None:
            return f"{URI_SCHEME}{self.name}/{self.stage}"
        return f"{URI_SCHEME}{self.name}/latest"
