"""Governance files: what decides how the registry is judged, built and stored (pure).

A pull request that edits the check's workflow, the policy, the DVC configuration,
the site configuration, CODEOWNERS or anything the CI and publish jobs install or
run is not a registry change: it changes the rules, the checks or where artifacts
live. Such a change is reported (RG804) naming the registry's admins, and the
generated CODEOWNERS gives these paths to the admins, so GitHub's "Require review
from Code Owners" makes their review binding (a check cannot be made to pass by an
approval, so the finding informs and CODEOWNERS enforces).

:data:`GOVERNANCE_PATTERNS` is written once, in CODEOWNERS syntax: the generator
writes exactly these lines and :func:`is_governance_file` matches paths by them.

Example:
    >>> is_governance_file(".github/workflows/validate.yml")
    True
    >>> is_governance_file("models/churn/1/version.yaml")
    False
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase

from ._findings import Findings

# CODEOWNERS patterns (a subset of gitignore syntax): a leading "/" anchors at the
# repository's top, a trailing "/" means a folder and everything below it, "*"
# stays within one path segment, and a pattern without "/" matches at any depth.
GOVERNANCE_PATTERNS: tuple[str, ...] = (
    "/.github/",  # workflows (the check itself), CODEOWNERS, templates
    "/registry.yaml",  # the policy every change is judged by
    "/.dvc/",  # where artifacts are pushed and loaded from
    "/.dvcignore",
    "/mkdocs.yml",  # the published site's configuration (hooks, plugins)
    "/mkdocs.yaml",
    "/docs/",  # hand-written pages, assets and theme overrides: MkDocs
    # publishes their HTML and scripts as written, unsanitised
    "/.pre-commit-config.yaml",  # what runs on contributors' machines
    "/requirements*",  # what CI and the publish job install
    "/pyproject.toml",
    "/package.json",
    "/package-lock.json",
    "*.py",  # MkDocs hooks and anything else a build could import
    "CODEOWNERS",  # in any of the places GitHub reads it from
)


def matches(pattern: str, path: str) -> bool:
    """Whether the repository path ``path`` is covered by one CODEOWNERS ``pattern``.

    >>> matches("/.github/", ".github/workflows/x.yml"), matches("/.github/", "a/.github/x")
    (True, False)
    >>> matches("/requirements*", "requirements/runtime.lock"), matches("*.py", "docs/hooks/h.py")
    (True, True)
    """
    parts = path.split("/")
    folder = pattern.endswith("/")
    body = pattern.strip("/")
    if not pattern.startswith("/"):
        # No anchor: one segment, matched at any depth (a matching folder covers its files).
        segments = parts[:-1] if folder else parts
        return any(fnmatchcase(segment, body) for segment in segments)
    wanted = body.split("/")
    if len(parts) < len(wanted) + (1 if folder else 0):
        return False
    return all(fnmatchcase(part, want) for part, want in zip(parts, wanted, strict=False))


def is_governance_file(path: str) -> bool:
    """Whether changing ``path`` (relative to the repository's top) is a governance change."""
    return any(matches(pattern, path) for pattern in GOVERNANCE_PATTERNS)


def governance_findings(changed: Iterable[str], admins: Sequence[str], out: Findings) -> None:
    """RG804: one finding per changed governance file, naming who must review it.

    ``admins`` are the *base* policy's (a pull request cannot name its own reviewers).
    """
    files = sorted(path for path in set(changed) if is_governance_file(path))
    if not files:
        return
    if admins:
        who = (
            f"needs a review by the registry's admins: {', '.join(admins)} "
            "(registry.yaml admins, enforced by CODEOWNERS)"
        )
    else:
        who = (
            "needs the registry's admins, but the base registry.yaml names no admins and "
            "no approvers: add `admins:` to registry.yaml, run `registry-gen codeowners` "
            "and require review from Code Owners"
        )
    for path in files:
        out.add(
            "RG804",
            f"{path} is a governance file (the registry's checks, rules, site "
            f"build or artifact storage); this change {who}",
            path,
        )
