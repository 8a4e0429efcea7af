"""How the CLI prints: aligned tables, JSON for scripts, human sizes, colour.

Pure helpers (they return strings or data) except the ``echo_*`` functions, which
write to stdout; the library itself never prints.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import click

from registry_gen.errors import UsageError

_SIZE_UNITS = {
    "": 1,
    "B": 1,
    "K": 1024,
    "KB": 1024,
    "M": 1024**2,
    "MB": 1024**2,
    "G": 1024**3,
    "GB": 1024**3,
    "T": 1024**4,
    "TB": 1024**4,
}


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON for scripts."""
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


def use_colour() -> bool:
    """Colour only when a person reads stdout (not a pipe, a file or CI's log), and
    never when ``NO_COLOR`` is set to anything (https://no-color.org)."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def table_lines(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned columns two spaces apart, trailing blanks stripped.

    >>> table_lines(["NAME", "N"], [["churn", "3"], ["fraud-detector", "1"]])
    ['NAME            N', 'churn           3', 'fraud-detector  1']
    """
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return [line(headers), *(line(row) for row in rows)]


def echo_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print :func:`table_lines`."""
    for text in table_lines(headers, rows):
        click.echo(text)


def first_line(text: str, width: int = 50) -> str:
    """The first paragraph of a Markdown description as plain text, cut to ``width``
    characters at a word with an ellipsis (:func:`registry_gen.markup.first_line`).

    >>> first_line("Churn **model**.\\n\\nDetails follow.")
    'Churn model.'
    >>> first_line("abcdefgh", width=5)
    'abcd…'
    """
    from registry_gen.markup import first_line as plain_first_line  # Markdown: only when used

    return plain_first_line(text, width)


def description_text(text: str) -> str:
    """A Markdown description as the terminal shows it: plain text, no Markdown syntax
    (:func:`registry_gen.markup.plain_text`).

    >>> description_text("Predicts **churn**.")
    'Predicts churn.'
    """
    from registry_gen.markup import plain_text

    return plain_text(text)


def human_size(size: int) -> str:
    """A byte count as people read it.

    >>> human_size(512), human_size(1536), human_size(3 * 1024**3)
    ('512 B', '1.5 KB', '3.0 GB')
    """
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


def parse_size(text: str) -> int:
    """A size given on the command line (``500M``, ``2G``, ``1048576``) in bytes.

    >>> parse_size("2K"), parse_size("1.5 MB"), parse_size("10")
    (2048, 1572864, 10)

    Raises:
        UsageError: ``text`` is not a number with an optional unit B, K, M, G or T.
    """
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*", text)
    unit = match.group(2).upper() if match else ""
    if not match or unit not in _SIZE_UNITS:
        raise UsageError(f"{text!r} is not a size (e.g. 500M, 2G, 1048576)")
    return int(float(match.group(1)) * _SIZE_UNITS[unit])


def version_json(version: Any, model: Any) -> dict[str, Any]:
    """A ``ModelVersion`` with its aliases and artifact size, as ``show --json`` prints it."""
    data: dict[str, Any] = {
        "name": version.name,
        "uri": str(version.uri),
        "aliases": model.aliases_of(version.version),
    }
    data.update(version.record.model_dump(mode="json"))
    if version.pointer is not None:
        data["artifact"]["md5"] = version.pointer.md5
        data["artifact"]["size"] = version.pointer.size
    return data


def model_json(model: Any) -> dict[str, Any]:
    """A ``RegisteredModel`` with a summary of its versions, as ``list --json`` prints it."""
    data: dict[str, Any] = model.record.model_dump(mode="json")
    data["latest_version"] = model.latest.version if model.latest else None
    data["versions"] = [
        {
            "version": v.version,
            "stage": v.stage,
            "created_at": v.record.created_at.isoformat(),
            "created_by": v.record.created_by,
            "aliases": model.aliases_of(v.version),
            "uri": str(v.uri),
        }
        for v in model.versions
    ]
    return data


def version_rows(
    versions: Sequence[Any], models: Mapping[str, Any], with_name: bool
) -> list[list[str]]:
    """Table rows for versions: [NAME,] VERSION, STAGE, CREATED, BY, ALIASES, DESCRIPTION."""
    rows = []
    for v in versions:
        model = models[v.name]
        aliases = " ".join(f"@{a}" for a in model.aliases_of(v.version))
        row = [
            str(v.version),
            v.stage,
            v.record.created_at.strftime("%Y-%m-%d"),
            v.record.created_by,
            aliases,
            first_line(v.record.description),
        ]
        rows.append([v.name, *row] if with_name else row)
    return rows


def stderr_is_terminal() -> bool:
    """Whether a person watches stderr (progress is drawn only then)."""
    return sys.stderr.isatty()


class ProgressLine:
    """One status line on stderr (``churn v3: pushing to s3://...``), redrawn in place.

    Off (draws nothing) with ``--quiet`` or when stderr is not a terminal, so logs
    and pipes never get carriage returns.
    """

    def __init__(self, quiet: bool) -> None:
        self.enabled = not quiet and stderr_is_terminal()
        self._width = 0

    def __call__(self, label: str, what: str) -> None:
        """Show that ``label`` is now doing ``what``."""
        if not self.enabled:
            return
        text = f"{label}: {what}…"
        click.echo("\r" + text.ljust(self._width), nl=False, err=True)
        self._width = len(text)

    def done(self) -> None:
        """Clear the line, so the command's own output starts on a clean one."""
        if self.enabled and self._width:
            click.echo("\r" + " " * self._width + "\r", nl=False, err=True)
            self._width = 0
