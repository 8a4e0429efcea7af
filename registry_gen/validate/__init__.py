"""The pull-request validator: every rule of the registry, as findings with file:line.

The rules are pure functions over a :class:`~registry_gen.store.RegistryIndex`
(and, for a change, the base branch's index) plus the list of files; they
return :class:`Finding` values and never stop at the first problem. The IO is
at the edges: :func:`validate_tree` reads the working tree or one git revision,
:func:`validate_change` reads both sides of a pull request from git objects (no
checkout), so CI runs the *base* branch's validator on the PR's data and a PR
cannot weaken the check that judges it; of the head it parses what the change
can reach, so a one-model pull request costs one model's rules.

Rule codes are stable (``RG1xx`` schema, ``RG2xx`` names and files, ``RG3xx``
versions, ``RG4xx`` stages, ``RG5xx`` aliases, ``RG6xx`` lineage, ``RG7xx``
annotations, ``RG8xx`` approvals, ``RG9xx`` artifacts); :data:`RULES` is the
table, documented in ``docs/rules.md``. The stage rules themselves live in
:mod:`registry_gen.policy`, shared with the client that refuses the same changes.

The package, by concern:

* ``_findings``: :class:`Rule`, :data:`RULES`, :class:`Finding`, :class:`Report`,
  the :class:`Findings` collector;
* ``_files``: record errors (by their code) and the list of files (RG1xx, RG2xx);
* ``_tree``: rules on one tree; ``_change``: rules on a change from base to head;
* ``_committed``: RG905, the in-repository remote's objects are committed with the tree;
* ``_scope``: what of a pull request's head the change can reach (or why to read it all);
* ``_runner``: the IO edge, :func:`validate_tree` and :func:`validate_change`.

Example:
    >>> report = validate_change("/path/to/registry", "origin/main", "HEAD")  # doctest: +SKIP
    >>> [f.code for f in report.errors]  # doctest: +SKIP
    ['RG404']
"""

from __future__ import annotations

from ._change import change_findings
from ._files import file_findings, record_error_findings, record_rule
from ._findings import (
    PROBLEM_RULES,
    RULES,
    ChangeSummary,
    Finding,
    Findings,
    ModelChange,
    Report,
    Rule,
    Severity,
)
from ._runner import remote_findings, validate_change, validate_tree
from ._tree import tree_findings

__all__ = [
    "PROBLEM_RULES",
    "RULES",
    "ChangeSummary",
    "Finding",
    "Findings",
    "ModelChange",
    "Report",
    "Rule",
    "Severity",
    "change_findings",
    "file_findings",
    "record_error_findings",
    "record_rule",
    "remote_findings",
    "tree_findings",
    "validate_change",
    "validate_tree",
]
