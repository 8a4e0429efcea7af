"""``registry-gen init DIR``: a working registry repository with zero configuration.

What it makes: a git repository on branch ``main``; DVC set up with a default
remote; ``registry.yaml`` (the default policy, commented); ``mkdocs.yml`` (Material
theme, the ``registry`` plugin); ``models/``; ``docs/index.md``; a README and a
``.gitignore``; a ready GitHub set-up (``.github/workflows/validate.yml`` and
``publish.yml``, ``CODEOWNERS``, pull-request templates, the pinned registry-gen
requirement they install, see :mod:`registry_gen._generated`); a
``.pre-commit-config.yaml``; and a first commit.

Where the artifacts go (the default remote) is a decision with trade-offs:

* By default the remote is ``dvc-remote/``, a folder **inside** the repository,
  committed to git, and written in ``.dvc/config`` as a relative path. It is
  the only zero-configuration choice that survives a clone: a teammate who
  clones the registry (on any machine, offline) can load every model. A
  registration made with ``--branch`` commits the new remote objects with the
  records, so the pull request carries its artifact. The cost is that the
  bytes live in git history, which is fine for the small models a new
  registry starts with.
* A folder outside the repository (``~/.local/share/...``) was rejected as the
  default: it works on one machine only and silently breaks for teammates.
* With ``remote="s3://bucket/path"`` (or any DVC URL, or a shared folder) the
  bytes go there instead and nothing is stored in git; that is the setup for
  large models, and the README written into the registry says how to switch.

Example:
    >>> init_registry(Path("/tmp/reg"))  # doctest: +SKIP
    PosixPath('/tmp/reg')
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from . import _git, artifacts, gitops
from ._generated import default_package, pin_requirement, write_generated
from .codeowners import write_codeowners
from .errors import AlreadyExists, UsageError
from .paths import MODELS_DIR, POLICY_FILE, atomic_write
from .store import load_index

log = logging.getLogger(__name__)

DEFAULT_REMOTE_NAME = "storage"
DEFAULT_REMOTE_DIR = "dvc-remote"
# Template file → where it goes in the new registry. Dotfiles are stored without
# the dot so that packaging tools do not drop them.
TEMPLATES = {
    "registry.yaml": POLICY_FILE,
    "mkdocs.yml": "mkdocs.yml",
    "README.md": "README.md",
    "gitignore": ".gitignore",
    "docs/index.md": "docs/index.md",
}


def template_text(name: str) -> str:
    """The text of one template shipped in ``registry_gen/templates``."""
    return resources.files("registry_gen").joinpath("templates", name).read_text("utf-8")


def init_registry(
    directory: Path | str,
    *,
    remote: str | None = None,
    remote_name: str = DEFAULT_REMOTE_NAME,
    remote_options: Mapping[str, str] | None = None,
    package: str | None = None,
) -> Path:
    """Create a registry repository in ``directory`` (new, or an empty folder).

    ``remote`` is any DVC remote URL or path (``s3://``, ``gs://``, ``azure://``,
    ``ssh://``, a shared folder), with ``remote_options`` written by
    ``dvc remote modify`` (e.g. ``{"endpointurl": "http://minio:9000"}``); the
    default is the committed ``dvc-remote/`` folder (see the module docstring).
    ``package`` is the pip requirement the generated workflows install registry-gen
    from (default ``registry-gen[write,site]==`` this version; a git URL at a commit or a wheel
    URL works too), written to ``.github/registry-gen-requirement.txt``.

    Raises:
        AlreadyExists: ``directory`` already holds a registry.
        UsageError: ``directory`` is a file, or a folder that is not empty; options
            without ``remote``.
        GitError: git is missing or failed.
        ArtifactError: DVC could not be set up.
        MissingExtra: DVC (the ``write`` extra) is not installed.
    """
    from ._extras import require_extra

    require_extra("dvc", "write", "init")  # before anything is written
    root = _empty_folder(directory)
    if remote_options and remote is None:
        raise UsageError("--remote-option needs --remote (the in-repo folder has no options)")
    _git.run(root, "init", "--quiet", "--initial-branch=main")
    for source, target in TEMPLATES.items():
        atomic_write(root / target, template_text(source))
    (root / MODELS_DIR).mkdir(exist_ok=True)
    # git does not keep empty folders; the registry's loaders expect models/ to exist.
    atomic_write(root / MODELS_DIR / ".gitkeep", "")
    generated = write_generated(root, pin_requirement(package) if package else default_package())
    codeowners, _ = write_codeowners(root, load_index(root))
    artifacts.init_dvc(root)
    paths = [
        *TEMPLATES.values(),
        *generated,
        codeowners.relative_to(root).as_posix(),
        MODELS_DIR,
        ".dvc",
        ".dvcignore",
    ]
    paths += _set_up_remote(root, remote, remote_name, remote_options or {})
    gitops.commit_paths(root, paths, "Initialise the model registry")
    log.info("initialised a registry in %s", root)
    return root


def _empty_folder(directory: Path | str) -> Path:
    root = Path(directory).expanduser().resolve()
    if root.exists() and not root.is_dir():
        raise UsageError(f"{directory} exists and is not a folder")
    if root.exists() and any(root.iterdir()):
        if (root / POLICY_FILE).exists():
            raise AlreadyExists(f"{directory} already holds a registry ({POLICY_FILE})")
        raise UsageError(f"{directory} is not empty; give a new or empty folder")
    root.mkdir(parents=True, exist_ok=True)
    return root


def _set_up_remote(
    root: Path, remote: str | None, name: str, options: Mapping[str, str]
) -> list[str]:
    """Configure the default DVC remote; the paths to commit besides ``.dvc/``."""
    if remote is None:
        (root / DEFAULT_REMOTE_DIR).mkdir()
        atomic_write(root / DEFAULT_REMOTE_DIR / ".gitkeep", "")
        # DVC stores a relative path relative to .dvc/ (as ../dvc-remote), so the config
        # works in every clone.
        artifacts.add_remote(root, name, DEFAULT_REMOTE_DIR)
        return [DEFAULT_REMOTE_DIR]
    if "://" not in remote and not Path(remote).expanduser().is_absolute():
        remote = str(Path(remote).expanduser().resolve())  # relative to the caller's cwd
    artifacts.add_remote(root, name, remote)
    for key, value in options.items():
        # Shared settings (endpointurl, region, ...) go to .dvc/config for every clone;
        # credentials belong in .dvc/config.local or the environment, never in git.
        artifacts.run_dvc(root, "remote", "modify", name, key, value)
    return []
