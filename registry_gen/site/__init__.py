"""The registry's static website: a pure renderer plus a thin MkDocs plugin.

* :mod:`registry_gen.site.render` turns the registry index and its history
  into Markdown pages (``{path: text}``); its :func:`~registry_gen.site.render.build_files`
  is every generated file (pages, feed, JSON API, assets), purely;
* :mod:`registry_gen.site.api` writes the static JSON API;
* :mod:`registry_gen.site.plugin` reads the registry and adds what ``build_files``
  returns to ``mkdocs build``/``serve``: the navigation's pages as MkDocs files, the
  rest streamed a batch at a time and, when unchanged, copied from the incremental
  cache (``_stream``, ``_incremental``);
* :func:`build_site`/:func:`serve_site` run MkDocs on a registry's ``mkdocs.yml``.

Example:
    >>> build_site("examples/registry", strict=True)  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from registry_gen.errors import UsageError

from ._config_check import check_site_config


def _config_file(root: Path | str) -> Path:
    config = Path(root) / "mkdocs.yml"
    if not config.is_file():
        raise UsageError(
            f"{config} does not exist: the registry's website needs an mkdocs.yml "
            "(registry-gen init writes one)"
        )
    return config


def build_site(
    root: Path | str = ".", *, strict: bool = False, site_dir: Path | str | None = None
) -> Path:
    """Build the website of the registry at ``root`` with MkDocs; return the site folder.

    ``mkdocs.yml`` is checked first: nothing in it may run code during the build
    (see :mod:`registry_gen.site._config_check`).

    Raises:
        UsageError: there is no ``mkdocs.yml``.
        RecordError: ``mkdocs.yml`` asks for hooks, ``!!python`` tags, plugins or
            extensions off the allow-list, templates, or paths outside the registry.
    """
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    config_file = _config_file(root)
    check_site_config(config_file, Path(root), site_dir_given=site_dir is not None)
    overrides: dict[str, Any] = {"strict": strict}
    if site_dir is not None:
        overrides["site_dir"] = str(Path(site_dir).resolve())
    config = load_config(str(config_file), **overrides)
    config.plugins.on_startup(command="build", dirty=False)
    try:
        build(config)
    finally:
        config.plugins.on_shutdown()
    return Path(config.site_dir)


def serve_site(
    root: Path | str = ".", *, dev_addr: str | None = None, open_in_browser: bool = False
) -> None:
    """Serve the registry's website with live reload (``mkdocs serve``) until interrupted.

    Raises:
        UsageError: there is no ``mkdocs.yml``.
        RecordError: ``mkdocs.yml`` would run code (as for :func:`build_site`).
    """
    from mkdocs.commands.serve import serve

    config_file = _config_file(root)
    check_site_config(config_file, Path(root))
    serve(str(config_file), dev_addr=dev_addr, open_in_browser=open_in_browser)
