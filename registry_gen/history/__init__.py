"""What happened to each model and version, read from git in one streamed pass.

The registry's history is its git history: a version was registered by the
commit that added its ``version.yaml``, promoted by the commit that changed
its ``stage``, and so on. :func:`read_history` reads it with ``git log`` (streamed,
newest first, never held as text; a long line is split into runs listed by one
process per processor at once, the older runs kept on disk until their turn) and
one ``git cat-file --batch`` per few thousand commits for the record blobs it
compares, whatever the size of the registry.

Credit goes to the change that landed: the commit on the first-parent line (the
merge or squash commit GitHub wrote), never to the commits a pull request
brought in on their own. It is credited to the pull request's author (for a
merge, the author of the merged branch's tip, the merge's second parent; for a
squash or direct commit, its author) and to whoever merged it
(:attr:`Commit.merged_by`). What git says of it is a claim: names are *git
identities, unverified* (signatures cannot be checked offline), a pull-request
number is read only from the first line of that commit in GitHub's exact forms
(``Merge pull request #12 from OWNER/BRANCH`` on a merge commit, ``Title (#12)``
on a single-parent commit), and a date later than the change that followed it
on the line (or than the time of reading) is clamped to that bound and flagged
(:attr:`Commit.claimed_date`). A renamed model keeps its history under its new
name. A shallow clone has lost the commits that registered the oldest versions,
so instead of inventing a history it yields none and says why.

Layout: ``_model`` (Commit, Event, History), ``_gitlog`` (the streamed log),
``_derive`` (file changes → events), ``_read`` (:func:`read_history`),
``_query`` (:func:`changes`, :func:`event_json`), ``_at`` (the registry as it
stood at a date or revision: :func:`commit_at`, :func:`index_at`).

Example:
    >>> history = read_history("examples/registry")  # doctest: +SKIP
    >>> [e.kind for e in history.for_version("churn", 3)]  # doctest: +SKIP
    ['registered', 'stage']
"""

from __future__ import annotations

from ._at import PastCommit, commit_at, index_at
from ._gitlog import pr_number
from ._model import Commit, Event, EventKind, History
from ._query import changes, describe, event_json, parse_when
from ._read import SHALLOW_WARNING, read_history

__all__ = [
    "SHALLOW_WARNING",
    "Commit",
    "Event",
    "EventKind",
    "History",
    "PastCommit",
    "changes",
    "commit_at",
    "describe",
    "event_json",
    "index_at",
    "parse_when",
    "pr_number",
    "read_history",
]
