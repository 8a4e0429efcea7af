"""What a registry's ``mkdocs.yml`` may ask of the build: nothing that runs code.

MkDocs runs code named by its configuration: ``hooks:`` are Python files,
``!!python/...`` YAML tags import and call anything at load time, plugins and
Markdown extensions are imported by name, ``theme.custom_dir`` and
``extra_templates`` are Jinja templates (Jinja outside a sandbox reaches Python),
and ``!ENV`` copies environment variables (the publish job's tokens) into the
site. A pull request can change ``mkdocs.yml``, so before MkDocs reads it
:func:`check_site_config` walks the YAML as a node graph (no object is built)
and refuses, with every reason at once:

* ``hooks``, ``extra_templates``, ``theme.custom_dir``;
* plugins outside :data:`ALLOWED_PLUGINS`, Markdown extensions outside
  :data:`ALLOWED_EXTENSIONS` (``pymdownx.snippets`` and ``pymdownx.b64`` read
  files from the machine into the site);
* ``!!python/name:`` outside :data:`ALLOWED_PYTHON_NAMES`, every other
  ``!!python`` tag and any tag MkDocs does not define;
* ``!ENV`` naming a variable outside :data:`ALLOWED_ENV`;
* ``docs_dir``/``site_dir`` outside the registry, and ``INHERIT`` files (checked
  by the same rules) outside it.

Example:
    >>> check_site_config(Path("mkdocs.yml"), Path("."))  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import yaml

from registry_gen.errors import Location, RecordError

ALLOWED_PLUGINS = frozenset(
    {
        "search",
        "registry",
        "tags",
        "offline",
        "material/search",
        "material/tags",
        "material/offline",
    }
)
_MARKDOWN_BUILTINS = (
    "abbr",
    "admonition",
    "attr_list",
    "def_list",
    "extra",
    "fenced_code",
    "footnotes",
    "md_in_html",
    "tables",
    "toc",
    "codehilite",
    "legacy_attrs",
    "legacy_em",
    "meta",
    "nl2br",
    "sane_lists",
    "smarty",
    "wikilinks",
)
_PYMDOWNX = (
    "arithmatex",
    "betterem",
    "blocks.admonition",
    "blocks.caption",
    "blocks.details",
    "blocks.html",
    "blocks.tab",
    "caret",
    "critic",
    "details",
    "emoji",
    "escapeall",
    "extra",
    "highlight",
    "inlinehilite",
    "keys",
    "magiclink",
    "mark",
    "progressbar",
    "saneheaders",
    "smartsymbols",
    "striphtml",
    "superfences",
    "tabbed",
    "tasklist",
    "tilde",
)
ALLOWED_EXTENSIONS = frozenset(
    {
        *_MARKDOWN_BUILTINS,
        *(f"markdown.extensions.{name}" for name in _MARKDOWN_BUILTINS),
        *(f"pymdownx.{name}" for name in _PYMDOWNX),
    }
)
ALLOWED_PYTHON_NAMES = frozenset(
    {
        "pymdownx.superfences.fence_code_format",
        "pymdownx.superfences.fence_div_format",
        "pymdownx.arithmatex.fence_mathjax_format",
        "pymdownx.emoji.twemoji",
        "pymdownx.emoji.emojione",
        "pymdownx.emoji.gemoji",
        "pymdownx.emoji.to_svg",
        "pymdownx.emoji.to_png",
        "pymdownx.emoji.to_alt",
        "pymdownx.slugs.slugify",
        "material.extensions.emoji.twemoji",
        "material.extensions.emoji.to_svg",
    }
)
ALLOWED_ENV = frozenset({"SITE_URL", "REPO_URL", "SITE_NAME"})
_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in (
        "str",
        "int",
        "float",
        "bool",
        "null",
        "map",
        "seq",
        "timestamp",
        "merge",
        "binary",
    )
)
_PYTHON_NAME = "tag:yaml.org,2002:python/name:"
_REFUSED_KEYS = {
    "hooks": "hooks: run Python files during the build",
    "extra_templates": "extra_templates: are Jinja templates, which can run code",
}
_MAX_INHERIT = 5


def check_site_config(config_file: Path, root: Path, *, site_dir_given: bool = False) -> None:
    """Refuse a ``mkdocs.yml`` that would run code or leak the machine into the site.

    ``site_dir_given``: the caller overrides ``site_dir`` (then the file's is not used).

    Raises:
        RecordError: with one problem (file, line, field, what to do) per refusal.
    """
    problems: list[RecordError] = []
    seen: set[Path] = set()
    current: Path | None = config_file
    while current is not None and current not in seen and len(seen) < _MAX_INHERIT:
        seen.add(current)
        current = _check_file(current, root.resolve(), problems, site_dir_given=site_dir_given)
    if problems:
        raise RecordError.grouped(problems)


def _check_file(
    path: Path, root: Path, problems: list[RecordError], *, site_dir_given: bool
) -> Path | None:
    """Check one file; return the file it ``INHERIT``s from, if any."""
    name = path.name if path.parent.resolve() == root else str(path)
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        problems.append(RecordError(Location(name), f"cannot be read as YAML: {error}"))
        return None
    if node is None:
        return None

    def refuse(at: yaml.Node, field: str | None, message: str) -> None:
        problems.append(
            RecordError(
                Location(name, at.start_mark.line + 1, field),
                f"{message}; the registry's site builder refuses it (see docs/security.md)",
            )
        )

    for tagged in _walk(node):
        reason = _tag_problem(tagged)
        if reason:
            refuse(tagged, None, reason)
    if not isinstance(node, yaml.MappingNode):
        return None
    parent = None
    for key, value in node.value:
        field = str(key.value)
        for message in _key_problems(
            field, value, root, path.parent, site_dir_given=site_dir_given
        ):
            refuse(key, field, message)
        if field == "INHERIT" and isinstance(value, yaml.ScalarNode):
            parent = (path.parent / str(value.value)).resolve()
    return parent


def _walk(node: yaml.Node) -> Iterator[yaml.Node]:
    """Every node once (aliases are shared nodes: a billion laughs stays small)."""
    stack, seen = [node], set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, yaml.MappingNode):
            stack.extend(part for pair in current.value for part in pair)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)


def _tag_problem(node: yaml.Node) -> str | None:
    tag = str(node.tag)
    allowed = (
        tag in _PLAIN_TAGS
        or tag == "!relative"
        or (tag.startswith(_PYTHON_NAME) and tag[len(_PYTHON_NAME) :] in ALLOWED_PYTHON_NAMES)
    )
    if allowed:
        return None
    if tag == "!ENV":
        return _env_problem(node)
    if tag.startswith("tag:yaml.org,2002:python/"):
        return f"the tag !!{tag.split(':', 2)[2]} imports or runs Python code"
    return f"the YAML tag {tag} is not one MkDocs defines"


def _env_problem(node: yaml.Node) -> str | None:
    names = (
        [str(node.value)]
        if isinstance(node, yaml.ScalarNode)
        else [str(n.value) for n in node.value if isinstance(n, yaml.ScalarNode)]
        if isinstance(node, yaml.SequenceNode)
        else []
    )
    if isinstance(node, yaml.SequenceNode) and len(names) > 1 and names[-1] not in os.environ:
        names = names[:-1]  # the last item is the default when it names no variable
    refused = [n for n in names if n not in ALLOWED_ENV]
    if not refused:
        return None
    return (
        f"!ENV {', '.join(refused)} would copy environment variables into the site "
        f"(allowed: {', '.join(sorted(ALLOWED_ENV))})"
    )


def _key_problems(
    field: str, value: yaml.Node, root: Path, base: Path, *, site_dir_given: bool
) -> list[str]:
    if field in _REFUSED_KEYS:
        return [_REFUSED_KEYS[field]]
    if field == "plugins":
        allowed = ", ".join(sorted(ALLOWED_PLUGINS))
        return [
            f"the plugin {n!r} is not on the allow-list ({allowed})"
            for n in _names(value)
            if n not in ALLOWED_PLUGINS
        ]
    if field == "markdown_extensions":
        return [
            f"the Markdown extension {n!r} is not on the allow-list"
            for n in _names(value)
            if n not in ALLOWED_EXTENSIONS
        ]
    if (
        field == "theme"
        and isinstance(value, yaml.MappingNode)
        and any(str(k.value) == "custom_dir" for k, _ in value.value)
    ):
        return ["theme.custom_dir holds Jinja templates, which can run code"]
    paths = {"docs_dir", "INHERIT"} | (set() if site_dir_given else {"site_dir"})
    outside = (
        field in paths
        and isinstance(value, yaml.ScalarNode)
        and not _inside(str(value.value), root, base)
    )
    return [f"{field} points outside the registry"] if outside else []


def _names(node: yaml.Node) -> list[str]:
    """The names in a plugins/markdown_extensions list (strings or one-key mappings)
    or mapping."""
    if isinstance(node, yaml.MappingNode):
        return [str(key.value) for key, _ in node.value]
    if not isinstance(node, yaml.SequenceNode):
        return [str(node.value)] if isinstance(node, yaml.ScalarNode) else []
    names = []
    for item in node.value:
        if isinstance(item, yaml.MappingNode):
            names += [str(key.value) for key, _ in item.value]
        elif isinstance(item, yaml.ScalarNode):
            names.append(str(item.value))
    return names


def _inside(value: str, root: Path, base: Path) -> bool:
    if PurePosixPath(value).is_absolute() or Path(value).is_absolute():
        return False
    return (base / value).resolve().is_relative_to(root)
