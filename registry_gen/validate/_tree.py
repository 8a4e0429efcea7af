"""Rules on one tree (the pull request's head, or the working tree), pure.

RG3xx version gaps, RG4xx stages, RG5xx aliases, RG6xx lineage, RG7xx markup,
RG8xx owners, RG9xx pointers; :func:`tree_findings` runs them all, with the
RG1xx/RG2xx rules of :mod:`._files`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence, Set

from registry_gen.errors import NotFound, RegistryError
from registry_gen.policy import alias_on_stage, missing_requirements, single_holder
from registry_gen.store import FileEntry, RegistryIndex
from registry_gen.uri import ModelUri, check_alias
from registry_gen.yamlio import KeyPath

from ._files import file_findings, record_error_findings
from ._findings import Findings
from ._redirects import redirect_findings

CODEOWNERS_FILE = ".github/CODEOWNERS"
# Formats whose artifact is always a folder (an MLflow model folder with MLmodel).
FOLDER_FORMATS = frozenset({"mlflow"})


def version_gap_findings(index: RegistryIndex, out: Findings) -> None:
    for model in index.models.values():
        numbers = [v.version for v in model.versions]
        expected = list(range(1, len(numbers) + 1))
        if numbers != expected:
            missing = sorted(set(range(1, max(numbers, default=0) + 1)) - set(numbers))
            first_bad = next(n for n, e in zip(numbers, expected, strict=True) if n != e)
            out.add(
                "RG302",
                f"{model.name} has {model.describe_versions()}: versions are "
                f"numbered 1..N with no gaps; missing {', '.join(map(str, missing))}",
                model.version(first_bad).record_file,
                ("version",),
            )


def stage_findings(index: RegistryIndex, out: Findings) -> None:
    """Stage names, single-holder stages and stage requirements on the whole tree."""
    policy = index.policy
    known = set(policy.stages)
    for model in index.models.values():
        for version in model.versions:
            if version.stage not in known:
                canonical = policy.canonical_stage(version.stage)
                hint = (
                    f"write {canonical!r} (stages are case-sensitive in records)"
                    if canonical
                    else f"use one of {', '.join(policy.stages)} (registry.yaml)"
                )
                out.add(
                    "RG401",
                    f"stage {version.stage!r} is not a stage of this registry; {hint}",
                    version.record_file,
                    ("stage",),
                )
                continue
            out.add_problem(
                missing_requirements(policy, model.name, version.record, version.stage),
                version.record_file,
                ("stage",),
            )
        for stage in policy.single_holder:
            holders = model.in_stage(stage)
            for holder in holders if len(holders) > 1 else ():
                others = [v.version for v in reversed(holders) if v is not holder]
                out.add_problem(
                    single_holder(policy, model.name, stage, others), holder.record_file, ("stage",)
                )


def alias_findings(index: RegistryIndex, out: Findings) -> None:
    """RG501-RG503: alias names, their targets and the stages of their targets."""
    policy = index.policy
    stages = tuple(policy.stages)
    for model in index.models.values():
        for alias, number in model.aliases.items():
            key: KeyPath = ("aliases", alias)
            try:
                check_alias(alias, stages)
            except RegistryError as error:
                out.add(
                    "RG502",
                    f"{error}; models:/{model.name}@{alias} would be ambiguous",
                    model.record_file,
                    key,
                )
            try:
                target = model.version(number)
            except NotFound:
                out.add(
                    "RG501",
                    f"alias {alias!r} points at v{number}, but {model.name} has "
                    f"{model.describe_versions()}; point it at an existing version",
                    model.record_file,
                    key,
                )
                continue
            out.add_problem(
                alias_on_stage(policy, model.name, number, [alias], target.stage),
                model.record_file,
                key,
            )


def lineage_findings(
    index: RegistryIndex, out: Findings, only: Set[tuple[str, int]] | None = None
) -> None:
    """Parents resolve against this index; no version is its own ancestor.

    ``only``: the versions judged, closed under their parents (a scoped change).
    """
    edges: dict[tuple[str, int], list[tuple[str, int]]] = {}
    for version in index.versions():
        node = (version.name, version.version)
        if only is not None and node not in only:
            continue
        edges[node] = []
        for i, parent in enumerate(version.record.lineage.parents):
            key: KeyPath = ("lineage", "parents", i)
            uri = ModelUri.parse(parent)  # the schema already checked the grammar
            try:
                resolved = index.resolve(uri)
            except RegistryError as error:
                out.add(
                    "RG601",
                    f"lineage parent {parent} does not resolve: {error}",
                    version.record_file,
                    key,
                )
                continue
            if uri.version is None:
                out.add(
                    "RG603",
                    f"lineage parent {parent} moves when stages or aliases change; "
                    f"pin it: {resolved.uri}",
                    version.record_file,
                    key,
                )
            edges[node].append((resolved.name, resolved.version))
    reported: set[tuple[str, int]] = set()
    for cycle in _cycles(edges):
        first = min(cycle)
        if first in reported:
            continue
        reported.update(cycle)
        # From its first version, wherever the search entered it: the message is the
        # same whichever versions are searched first (a scoped change searches fewer).
        start = cycle.index(first)
        cycle = [*cycle[start:], *cycle[:start]]
        path = " → ".join(f"{n}/{v}" for n, v in [*cycle, cycle[0]])
        model = index.models[first[0]]
        out.add(
            "RG602",
            f"lineage cycle: {path}; a version cannot be its own ancestor, fix lineage.parents",
            model.version(first[1]).record_file,
            ("lineage", "parents"),
        )


def _cycles(
    edges: Mapping[tuple[str, int], list[tuple[str, int]]],
) -> Iterator[list[tuple[str, int]]]:
    """Each cycle found by an iterative depth-first search (linear in nodes + edges)."""
    state: dict[tuple[str, int], int] = {}  # 1 on the stack, 2 done
    for start in edges:
        if state.get(start):
            continue
        stack = [(start, iter(edges.get(start, ())))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                state[node] = 2
            elif state.get(child) == 1:
                yield path[path.index(child) :]
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(edges.get(child, ()))))


_MAY_HOLD_MARKUP = re.compile(r"<|\]\s*[(:]")


def markup_findings(
    index: RegistryIndex, out: Findings, only: set[tuple[str, int | None]] | None = None
) -> None:
    """Descriptions the website's sanitiser would change (``only``: changed records)."""
    from registry_gen.markup import find_unsafe_markup, markdown_limit

    seen: dict[str, list[str]] = {}

    def check(text: str, file: str, what: str) -> None:
        # The limits first (linear): beyond them the site shows plain text and the
        # sanitiser has nothing to say, but the author should know why.
        beyond = markdown_limit(text)
        if beyond is not None:
            out.add(
                "RG702",
                f"{what} is shown as plain text on the website: {beyond}",
                file,
                ("description",),
            )
            return
        # Rendering Markdown costs ~1 ms a text. Everything the sanitiser removes is
        # raw HTML (needs '<') or a link target (after '](' or a '[ref]:' definition).
        if not _MAY_HOLD_MARKUP.search(text):
            return
        if text not in seen:
            seen[text] = find_unsafe_markup(text)
        problems = seen[text]
        if problems:
            out.add(
                "RG701",
                f"{what} contains {'; '.join(problems)}: the website removes "
                "it; use plain Markdown (links to http(s) or mailto only)",
                file,
                ("description",),
            )

    for model in index.models.values():
        if only is None or (model.name, None) in only:
            check(model.record.description, model.record_file, "the model description")
        for version in model.versions:
            if only is None or (model.name, version.version) in only:
                check(version.record.description, version.record_file, "the description")


def trusted_type_findings(
    index: RegistryIndex, out: Findings, only: set[tuple[str, int | None]] | None = None
) -> None:
    """RG906: the rule registration applies to trusted types (``only``: changed records)."""
    from registry_gen._trusted_types import trusted_type_problem

    for model in index.models.values():
        for version in model.versions:
            if only is not None and (model.name, version.version) not in only:
                continue
            for i, name in enumerate(version.record.artifact.trusted_types):
                problem = trusted_type_problem(name)
                if problem is not None:
                    out.add(
                        "RG906",
                        f"{problem}: remove it from the record (skops then refuses the file, "
                        "as it should) or register a model that does not need it",
                        version.record_file,
                        ("artifact", "trusted_types", i),
                    )


def pointer_findings(index: RegistryIndex, out: Findings) -> None:
    """RG901 a pointer exists, RG902 it tracks the named artifact, RG904 of the right kind."""
    for version in index.versions():
        artifact = version.record.artifact.path
        pointer_file = f"{version.folder}/{artifact}.dvc"
        if version.pointer is None:
            out.add(
                "RG901",
                f"no DVC pointer {artifact}.dvc for the artifact {artifact!r}; "
                "run `dvc add` on it (registry-gen register does) and commit the .dvc file",
                version.record_file,
                ("artifact", "path"),
            )
        elif version.pointer.path != artifact:
            out.add(
                "RG902",
                f"{artifact}.dvc tracks {version.pointer.path!r} but version.yaml "
                f"names the artifact {artifact!r}; they must be the same file",
                pointer_file,
                ("outs", 0, "path"),
            )
        elif version.record.artifact.format in FOLDER_FORMATS and not version.pointer.is_dir:
            fmt = version.record.artifact.format
            out.add(
                "RG904",
                f"{artifact}.dvc tracks a file (its md5 has no .dir), but a {fmt} "
                "artifact is a folder; register the folder as a new version",
                pointer_file,
                ("outs", 0, "md5"),
            )


def owner_findings(index: RegistryIndex, out: Findings) -> None:
    from registry_gen.codeowners import owner_problem

    for model in index.models.values():
        for i, owner in enumerate(model.record.owners):
            problem = owner_problem(owner)
            if problem:
                out.add("RG803", problem, model.record_file, ("owners", i))


def codeowners_findings(index: RegistryIndex, current: bytes | None, out: Findings) -> None:
    """RG802: an existing CODEOWNERS must be what ``registry-gen codeowners`` writes."""
    from registry_gen.codeowners import render_codeowners

    if current is None:
        return
    expected = render_codeowners(index)
    if current.decode("utf-8", errors="replace") != expected:
        out.add(
            "RG802",
            "CODEOWNERS does not match the owners in model.yaml and the approvers "
            "in registry.yaml; run `registry-gen codeowners` and commit the result",
            CODEOWNERS_FILE,
        )


# The validator's one pass over a tree takes everything that tree's rules read; both callers
# (working tree, PR head) name the options.
def tree_findings(
    index: RegistryIndex,
    files: Sequence[FileEntry],
    gitignores: Mapping[str, bytes],
    codeowners: bytes | None,
    out: Findings,
    *,
    working_tree: bool,
    markup_only: set[tuple[str, int | None]] | None = None,
    names: Sequence[str] | None = None,
    lineage_only: Set[tuple[str, int]] | None = None,
) -> None:
    """Every rule that looks at one tree (the PR's head, or the working tree).

    A change judged by its scope (see ``_scope``) gives ``names``, every model
    folder of the tree, as ``files`` and ``index`` hold only some of them, and
    ``lineage_only``, the versions whose lineage is judged.
    """
    record_error_findings(index.errors, out)
    file_findings(files, index, gitignores, out, working_tree=working_tree, names=names)
    redirect_findings(index, out)
    version_gap_findings(index, out)
    stage_findings(index, out)
    alias_findings(index, out)
    lineage_findings(index, out, lineage_only)
    markup_findings(index, out, markup_only)
    trusted_type_findings(index, out, markup_only)
    pointer_findings(index, out)
    owner_findings(index, out)
    codeowners_findings(index, codeowners, out)
