"""The files ``init`` writes into a registry's ``.github/`` and root, with marked regions.

Each generated file holds one region between a begin and an end marker (``#``
comments in YAML and pip files, HTML comments in Markdown). ``registry-gen
upgrade`` rewrites what is between the markers for a new registry-gen version and
leaves every line outside them (a team's own additions) as it is.

Example:
    >>> text = wrap("a: 1\\n", "x.yml")
    >>> replace_region("# mine\\n" + text, wrap("a: 2\\n", "x.yml")).splitlines()[0]
    '# mine'
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from . import __version__
from .errors import Location, RecordError

PIN_FILE = ".github/registry-gen-requirement.txt"
BEGIN = (
    "registry-gen: generated, edit outside the markers "
    "(`registry-gen upgrade` rewrites this region)"
)
END = "registry-gen: end of generated region"

# Target in the registry → template under registry_gen/templates (None: built in code).
GENERATED: dict[str, str | None] = {
    ".github/workflows/validate.yml": "github/validate.yml",
    ".github/workflows/publish.yml": "github/publish.yml",
    ".github/PULL_REQUEST_TEMPLATE/register.md": "github/PULL_REQUEST_TEMPLATE/register.md",
    ".github/PULL_REQUEST_TEMPLATE/promote.md": "github/PULL_REQUEST_TEMPLATE/promote.md",
    ".github/pull_request_template.md": "github/pull_request_template.md",
    ".pre-commit-config.yaml": "pre-commit-config.yaml",
    PIN_FILE: None,
}


def default_package() -> str:
    """The pip requirement of the running registry-gen (``registry-gen[write,site]==VERSION``).

    The workflows validate (DVC for the remote checks) and build the site (MkDocs):
    the reader install alone has neither.
    """
    return f"registry-gen{WORKFLOW_EXTRAS}=={__version__}"


WORKFLOW_EXTRAS = "[write,site]"


def pin_requirement(spec: str) -> str:
    """``spec`` as the pin's pip requirement, with the extras the workflows need.

    A wheel, archive or VCS URL (or a local path) becomes a direct reference of
    registry-gen with those extras; a ``registry-gen`` requirement without extras
    gets them; anything else is written as given.

    >>> pin_requirement("https://example.com/registry_gen-0.2.0-py3-none-any.whl")
    'registry-gen[write,site] @ https://example.com/registry_gen-0.2.0-py3-none-any.whl'
    >>> pin_requirement("registry-gen @ git+https://github.com/acme/registry-gen@3f2a9c1")
    'registry-gen[write,site] @ git+https://github.com/acme/registry-gen@3f2a9c1'
    >>> pin_requirement("registry-gen==0.2.0")
    'registry-gen[write,site]==0.2.0'
    """
    spec = spec.strip()
    name = "registry-gen"
    if spec.lower().replace("_", "-").startswith(name):
        rest = spec[len(name) :]
        return spec if rest[:1] == "[" else f"{name}{WORKFLOW_EXTRAS}{rest}"
    if "://" in spec or spec.endswith((".whl", ".tar.gz", ".zip")):
        url = spec if "://" in spec else Path(spec).resolve().as_uri()
        return f"{name}{WORKFLOW_EXTRAS} @ {url}"
    return spec


def _markers(target: str) -> tuple[str, str]:
    if target.endswith(".md"):
        return f"<!-- {BEGIN} -->", f"<!-- {END} -->"
    return f"# {BEGIN}", f"# {END}"


def wrap(body: str, target: str) -> str:
    """``body`` between the begin and end markers that suit ``target``'s file type."""
    begin, end = _markers(target)
    return f"{begin}\n{body.rstrip()}\n{end}\n"


def render(target: str, package: str) -> str:
    """The generated text of ``target`` (a key of :data:`GENERATED`), markers included."""
    source = GENERATED[target]
    if source is None:
        body = (
            "# The registry-gen that validates pull requests and builds the site: any pip\n"
            "# requirement (a release, a git URL at a commit, a wheel). The workflow reads\n"
            "# it from the base branch, so a pull request cannot change its judge.\n"
            f"{package}\n"
        )
    else:
        body = resources.files("registry_gen").joinpath("templates", source).read_text("utf-8")
        body = body.replace("@@PACKAGE@@", package)
    return wrap(body, target)


def replace_region(current: str, generated: str, name: str = "the file") -> str:
    """``current`` with its marked region replaced by the one in ``generated``.

    Raises:
        RecordError: ``current`` lacks the markers (or has them out of order).
    """
    begin, end = generated.splitlines()[0], generated.rstrip("\n").splitlines()[-1]
    lines = current.splitlines(keepends=True)
    stripped = [line.rstrip("\n") for line in lines]
    if begin not in stripped or end not in stripped or stripped.index(begin) > stripped.index(end):
        raise RecordError(
            Location(name),
            "the registry-gen markers are missing; "
            "restore them or delete the file and run `registry-gen upgrade`",
        )
    start, stop = stripped.index(begin), stripped.index(end)
    return "".join(lines[:start]) + generated + "".join(lines[stop + 1 :])


def write_generated(root: Path, package: str) -> list[str]:
    """Write every generated file under ``root`` (new files); the paths written."""
    from .paths import atomic_write

    for target in GENERATED:
        atomic_write(root / target, render(target, package))
    return list(GENERATED)
