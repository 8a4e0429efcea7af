"""The validator's report, for people, for scripts and for GitHub.

Pure functions from a :class:`~registry_gen.validate.Report` to text; the CLI
decides where the text goes.

* :func:`format_human`: grouped by file, colour only when asked (on a terminal);
* :func:`format_json`: every finding plus the change, for scripts;
* :func:`format_github`: ``::error file=…,line=…,title=RG201::message`` workflow
  commands, so each finding sits on the pull request's diff;
* :func:`format_summary`: Markdown for ``$GITHUB_STEP_SUMMARY`` that says the
  change in words ("registers churn v4; promotes churn v3 Staging → Production
  and archives v2").

Example:
    >>> from registry_gen.validate import Finding, Report
    >>> print(format_github(Report((Finding("RG404", "two in Production", "m.yaml", 3),))))
    ::error file=m.yaml,line=3,title=RG404 single-holder::two in Production
"""

from __future__ import annotations

import json
import re
from collections import defaultdict

from .schema import DEFAULT_ARCHIVE_STAGE, DEFAULT_STAGE, DEFAULT_STAGES
from .validate import ChangeSummary, Finding, ModelChange, Report

_COLOURS = {"error": "\033[31m", "warning": "\033[33m", "notice": "\033[36m"}
_BOLD, _RESET = "\033[1m", "\033[0m"
# Characters that would let a value break the report's layout or mislead its reader:
# C0/C1 controls (a newline starts a line of the value's choosing; ESC drives the
# terminal), DEL, line/paragraph separators and bidirectional overrides.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# What the Actions runner reads as a workflow command in a step's output (stdout and
# stderr alike): "::name ...::" at the start of a line (after spaces) and the
# legacy "##[name ...]" anywhere in one.
_RUNNER_COMMAND = re.compile(r"^(\s*):(?=:)|##(?=\[)", re.MULTILINE)


def _counts(report: Report) -> str:
    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    return ", ".join(
        [
            plural(len(report.errors), "error"),
            plural(len(report.warnings), "warning"),
            plural(len(report.notices), "notice"),
        ]
    )


def printable(text: str) -> str:
    r"""``text`` with every control, separator or bidi character shown as an escape.

    Record values, file names and messages reach the report from a pull request;
    each stays on its own line and cannot drive the reader's terminal.

    >>> printable("models/x\n::error::boom\x1b[2J")
    'models/x\\n::error::boom\\x1b[2J'
    """
    return _UNPRINTABLE.sub(_escape_char, text)


_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def runner_safe(text: str) -> str:
    r"""``text`` that the GitHub Actions runner shows but never runs as a workflow command.

    The runner reads commands on stderr as well as stdout; a line that starts
    with ``::`` (after spaces) or holds ``##[`` gets a backslash, which makes it
    plain text. Apply it to all text printed next to :func:`format_github`'s
    annotations (together with :func:`printable` values, which keep every line
    the report's own).

    >>> runner_safe("  ::error::x\nok ##[warning]y")
    '  \\::error::x\nok #\\#[warning]y'
    """
    return _RUNNER_COMMAND.sub(lambda m: m.group()[:-1] + "\\" + m.group()[-1], text)


def format_human(report: Report, *, colour: bool = False, strict: bool = False) -> str:
    """Findings grouped by file, then the change in words and a one-line verdict.

    Every value from the registry goes through :func:`printable`.
    """

    def paint(text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if colour else text

    by_file: dict[str, list[Finding]] = defaultdict(list)
    for finding in report.findings:
        by_file[finding.file or "(registry)"].append(finding)
    lines: list[str] = []
    for file in sorted(by_file):
        lines.append(paint(printable(file), _BOLD))
        for finding in by_file[file]:
            where = f"{finding.line}" if finding.line is not None else "-"
            severity = paint(finding.severity, _COLOURS[finding.severity])
            lines.append(f"  {where:>4}  {severity} {finding.code} {printable(finding.message)}")
        lines.append("")
    if report.change is not None:
        lines.append(f"Change: {printable(describe_change(report.change))}")
    verdict = "failed" if report.failed(strict) else "passed"
    lines.append(
        paint(
            f"{printable(report.revision)}: {verdict} ({_counts(report)})",
            _COLOURS["error"] if verdict == "failed" else _BOLD,
        )
    )
    return "\n".join(lines)


def format_json(report: Report, *, strict: bool = False) -> str:
    """The report as JSON: ``{"ok", "revision", "counts", "findings", "change"}``."""
    change = None
    if report.change is not None:
        change = {
            "base": report.change.base,
            "head": report.change.head,
            "summary": describe_change(report.change),
            "policy_changed": report.change.policy_changed,
            "models": [_model_json(m) for m in report.change.models],
        }
    return json.dumps(
        {
            "ok": not report.failed(strict),
            "revision": report.revision,
            "counts": {
                "error": len(report.errors),
                "warning": len(report.warnings),
                "notice": len(report.notices),
            },
            "findings": [f.to_dict() for f in report.findings],
            "change": change,
        },
        indent=2,
    )


def _model_json(change: ModelChange) -> dict[str, object]:
    return {
        "name": change.name,
        "created": change.created,
        "registered": [{"version": v, "stage": s} for v, s in change.registered],
        "stage_changes": [{"version": v, "from": a, "to": b} for v, a, b in change.stage_changes],
        "aliases_set": [{"alias": a, "from": o, "to": n} for a, o, n in change.aliases_set],
        "aliases_removed": [{"alias": a, "was": v} for a, v in change.aliases_removed],
        "edited_versions": list(change.edited),
        "record_edited": change.record_edited,
        "approvers": list(change.approvers),
    }


def _escape_data(text: str) -> str:
    # GitHub workflow command escaping: data and property values differ.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(report: Report) -> str:
    """One ``::error``/``::warning``/``::notice`` workflow command per finding."""
    lines = []
    # GitHub shows a limited number of annotations per step: errors go first.
    rank = {"error": 0, "warning": 1, "notice": 2}
    for finding in sorted(report.findings, key=lambda f: rank[f.severity]):
        props = []
        if finding.file:
            props.append(f"file={_escape_property(finding.file)}")
            if finding.line is not None:
                props.append(f"line={finding.line}")
        props.append(f"title={_escape_property(f'{finding.code} {finding.title}')}")
        lines.append(f"::{finding.severity} {','.join(props)}::{_escape_data(finding.message)}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# The change in words


def _verb(change: tuple[int, str, str], order: tuple[str, ...], archive: str | None) -> str:
    number, before, after = change
    if after == archive:
        return f"archives v{number}"
    if before == archive:
        return f"restores v{number} to {after}"
    rank = {stage: i for i, stage in enumerate(order)}
    verb = "promotes" if rank.get(after, 0) > rank.get(before, 0) else "moves"
    return f"{verb} v{number} {before} → {after}"


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def describe_model_change(
    change: ModelChange,
    order: tuple[str, ...] = DEFAULT_STAGES,
    *,
    default_stage: str = DEFAULT_STAGE,
    archive_stage: str | None = DEFAULT_ARCHIVE_STAGE,
) -> str:
    """One model's change as a clause, the model named once.

    ``order``, ``default_stage`` and ``archive_stage`` are the policy's (a
    registration into the default stage names no stage; a move into the archive
    stage reads "archives").

    >>> describe_model_change(
    ...     ModelChange(
    ...         "churn", stage_changes=((3, "Staging", "Production"), (2, "Production", "Archived"))
    ...     )
    ... )
    'promotes churn v3 Staging → Production and archives v2'
    """
    clauses: list[str] = []
    for number, stage in change.registered:
        where = "" if stage == default_stage else f" in {stage}"
        clauses.append(f"registers v{number}{where}")
    # Promotions first: "promotes v3 ... and archives v2" reads as the decision.
    moves = sorted(change.stage_changes, key=lambda c: c[2] == archive_stage)
    clauses += [_verb(c, order, archive_stage) for c in moves]
    for alias, old, new in change.aliases_set:
        was = f" (was v{old})" if old is not None else ""
        clauses.append(f"points @{alias} at v{new}{was}")
    clauses += [f"removes @{alias} (was v{version})" for alias, version in change.aliases_removed]
    if change.edited:
        clauses.append("edits " + ", ".join(f"v{n}" for n in change.edited))
    if change.record_edited:
        clauses.append("edits model.yaml")
    if not clauses:
        clauses.append("changes files")
    first_verb, _, rest = clauses[0].partition(" ")
    name = f"new model {change.name}" if change.created else change.name
    gap = "" if rest.startswith("@") else " "
    first = f"{first_verb} {name}{gap}{rest}".rstrip()
    return _join([first, *clauses[1:]])


def describe_change(summary: ChangeSummary) -> str:
    """The whole change in one sentence-like line; ``"no registry changes"`` if none."""
    order = summary.stage_order or DEFAULT_STAGES
    # A summary made without a policy (default_stage None) reads with the default one.
    default = summary.default_stage or DEFAULT_STAGE
    archive = summary.archive_stage if summary.default_stage else DEFAULT_ARCHIVE_STAGE
    parts = [
        describe_model_change(m, order, default_stage=default, archive_stage=archive)
        for m in summary.models
    ]
    if summary.policy_changed:
        parts.append("changes registry.yaml")
    return "; ".join(parts) if parts else "no registry changes"


def format_summary(report: Report, *, strict: bool = False) -> str:
    """Markdown for ``$GITHUB_STEP_SUMMARY``: verdict, the change, approvals, findings."""
    failed = report.failed(strict)
    lines = [
        f"## Registry validation: {'❌ failed' if failed else '✅ passed'}",
        "",
        f"{report.revision}: {_counts(report)}.",
        "",
    ]
    if report.change is not None:
        lines += [f"**Change:** {_md(describe_change(report.change))}", ""]
        approvals = [n for n in report.notices if n.code == "RG801"]
        if approvals:
            lines += ["**Approvals needed**", ""]
            lines += [f"- {_md(n.message)}" for n in approvals]
            lines.append("")
    problems = [f for f in report.findings if f.severity != "notice"]
    if problems:
        lines += ["| Severity | Rule | Where | What to do |", "|---|---|---|---|"]
        for f in problems:
            lines.append(
                f"| {f.severity} | {f.code} {f.title} | `{_md(f.where)}` | {_md(f.message)} |"
            )
        lines.append("")
    lines.append("Rules: see docs/rules.md in the registry repository.")
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    """User-derived text made inert in a Markdown table cell (no HTML, no pipes)."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("|", "\\|")
        .replace("`", "'")
        .replace("\n", " ")
        .replace("\r", " ")
    )
