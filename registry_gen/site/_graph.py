"""Lineage graphs as Mermaid flowcharts.

Node ids are generated and labels are written with Mermaid's ``#NNN;`` entity
codes for every ASCII character that could end or script a label, so a hostile
dataset name stays a label.
"""

from __future__ import annotations

from typing import ClassVar

from registry_gen.store import ModelVersion

from . import _html
from ._context import Lookups

# A version's page shows at most this many of its children in its graph.
GRAPH_CHILDREN = 5

_MERMAID_KEEP = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .-_:")
_MERMAID_ESCAPES = {code: f"#{code};" for code in range(128) if chr(code) not in _MERMAID_KEEP}


def mermaid_label(label: str) -> str:
    """A Mermaid node label, cut at 60 characters, with Mermaid's entity codes.

    >>> mermaid_label('a"]; click')
    'a#34;#93;#59; click'
    """
    return label[:60].translate(_MERMAID_ESCAPES)


class Graph:
    """A Mermaid flowchart; node ids are generated, labels escaped by :func:`mermaid_label`."""

    _SHAPES: ClassVar[dict[str, tuple[str, str]]] = {
        "dataset": ('[("', '")]'),
        "run": ('(["', '"])'),
        "version": ('["', '"]'),
        "model": ('[["', '"]]'),
    }

    def __init__(self) -> None:
        self.nodes: dict[str, str] = {}
        self.lines: list[str] = []
        self.edges: list[str] = []
        self._seen_edges: set[tuple[str, str]] = set()

    def node(self, key: str, label: str, shape: str) -> str:
        """The id of the node ``key``, added with ``label`` and ``shape`` the first time."""
        if key not in self.nodes:
            node_id = f"n{len(self.nodes)}"
            opening, closing = self._SHAPES[shape]
            self.nodes[key] = node_id
            self.lines.append(f"  {node_id}{opening}{mermaid_label(label)}{closing}")
        return self.nodes[key]

    def edge(self, source: str, target: str) -> None:
        """An arrow between two node ids (once)."""
        if (source, target) not in self._seen_edges:
            self._seen_edges.add((source, target))
            self.edges.append(f"  {source} --> {target}")

    def source(self) -> str:
        """The Mermaid source text."""
        return "flowchart LR\n" + "\n".join(self.lines + self.edges)

    def render(self) -> str:
        """The graph as the raw HTML that pymdownx.superfences writes for a ``mermaid``
        fence (what Material draws), so it renders whatever Markdown extensions the
        site's ``mkdocs.yml`` enables, and costs Markdown nothing to pass through."""
        return _html.block(f'<pre class="mermaid"><code>{_html.code(self.source())}</code></pre>')


def _version_node(graph: Graph, version: ModelVersion) -> str:
    return graph.node(
        f"v:{version.name}:{version.version}", f"{version.name} v{version.version}", "version"
    )


def add_version(graph: Graph, version: ModelVersion, lookups: Lookups) -> None:
    """Add a version with its run, datasets, parents and first children to ``graph``."""
    lineage = version.record.lineage
    me = _version_node(graph, version)
    upstream = me
    if lineage.run_id or lineage.run_url:
        run = graph.node(
            f"r:{lineage.run_id or lineage.run_url}", f"run {lineage.run_id or ''}".strip(), "run"
        )
        graph.edge(run, me)
        upstream = run
    for dataset in lineage.datasets:
        node = graph.node(
            f"d:{dataset.name}:{dataset.md5 or dataset.url or dataset.path}",
            dataset.name,
            "dataset",
        )
        graph.edge(node, upstream)
    for parent in lineage.parents:
        target = lookups.resolve(parent)
        node = (
            _version_node(graph, target)
            if target is not None
            else graph.node(f"u:{parent}", parent, "version")
        )
        graph.edge(node, me)
    for child in lookups.children.get((version.name, version.version), [])[:GRAPH_CHILDREN]:
        graph.edge(me, _version_node(graph, child))


def model_graph(edges: list[tuple[str, str]]) -> Graph:
    """A graph of models from (parent model, child model) pairs."""
    graph = Graph()
    for parent_name, child_name in edges:
        graph.edge(
            graph.node(parent_name, parent_name, "model"),
            graph.node(child_name, child_name, "model"),
        )
    return graph
