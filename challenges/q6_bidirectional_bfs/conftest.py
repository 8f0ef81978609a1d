"""Helpers shared by the public and hidden tests of q6_bidirectional_bfs (trusted side).

The node codec and the graph generators are the driver's own (driver.py is public
author code, stdlib only): this file loads it by path, so the graphs the worker
builds from a spec are rebuilt here, identical, for the oracle. networkx is the
oracle for shortest lengths; `check_answer` checks that a returned path is a real
path of the graph from source to target, of that length.

Nodes decoded from the channel are ints, strs, None and tuples of them only (a
float, a bool or any other value is refused), and among those Python's == is exact:
1, "1" and (1,) are different keys here too.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from types import SimpleNamespace
from typing import Any

import networkx as nx
import pytest
from hypothesis import strategies as st

from graders.testing import Submission, load_driver

Graph = Mapping[Hashable, Sequence[Hashable]]


driver = load_driver(__file__)
encode_node = driver.encode_node
encode_graph = driver.encode_graph
build_graph = driver.build_graph
pick_pairs = driver.pick_pairs


# ------------------------------------------------------------------ the oracle


class Oracle:
    """Shortest lengths in `graph` by networkx, on node indices (networkx refuses None)."""

    def __init__(self, graph: Graph, edges: Sequence[tuple[int, int]] | None = None) -> None:
        self.index = {node: i for i, node in enumerate(graph)}
        self.nx = nx.Graph()
        self.nx.add_nodes_from(range(len(self.index)))
        if edges is None:
            edges = [(self.index[u], self.index[v])
                     for u, neighbours in graph.items() for v in neighbours]
        self.nx.add_edges_from(edges)

    @classmethod
    def of_spec(cls, spec: dict[str, Any]) -> tuple[dict[Hashable, list[Hashable]], Oracle]:
        """The generated graph of `spec` and its oracle, built from the same index edges."""
        graph = build_graph(spec)
        return graph, cls(graph, driver.edge_list(spec)[1])

    def components(self) -> list[list[Hashable]]:
        """The connected components, each as a list of nodes in graph order."""
        nodes = list(self.index)
        return [[nodes[i] for i in sorted(part)] for part in nx.connected_components(self.nx)]

    def length(self, source: Hashable, target: Hashable) -> int | None:
        try:
            return int(nx.shortest_path_length(self.nx, self.index[source], self.index[target]))
        except nx.NetworkXNoPath:
            return None


def shortest_length(graph: Graph, source: Hashable, target: Hashable) -> int | None:
    return Oracle(graph).length(source, target)


# ------------------------------------------------------------------ checking an answer


def _decoded(value: Any) -> Hashable:
    try:
        return driver.decode_node(value)
    except (ValueError, TypeError):
        raise AssertionError("the returned path contains a value of a type no node has "
                             "(nodes must be returned as they are in the graph)") from None


def check_answer(answer: dict[str, Any], graph: Graph, source: Hashable, target: Hashable,
                 length: int | None) -> None:
    """Assert that `answer` (an observation of the driver) is what the contract demands
    for a query whose shortest length is `length` (None: no path)."""
    raised = answer["raised"]
    if raised is not None:
        raise AssertionError(f"shortest_path raised {raised['type']} for two nodes of the graph")
    if length is None:
        assert answer["returned"] == "None", "returned a path where there is none (expected None)"
        return
    assert answer["returned"] != "None", "returned None where a path exists"
    assert answer["returned"] == "list", f"returned a {answer['returned']}, not a list"
    path = [_decoded(value) for value in answer["path"]]
    assert path, "returned an empty list"
    for node in path:
        assert node in graph, ("the returned path contains a value that is not a node of the "
                               "graph (1, '1' and (1,) are different nodes)")
    assert path[0] == source, "the returned path does not start at source"
    assert path[-1] == target, "the returned path does not end at target"
    for u, v in zip(path, path[1:], strict=False):
        assert v in graph[u], ("two consecutive nodes of the returned path are not joined by "
                               "an edge (is a node missing from the path?)")
    assert len(path) - 1 == length, "the returned path is longer than a shortest path"


def check_key_error(answer: dict[str, Any], what: str) -> None:
    raised = answer["raised"]
    assert raised is not None, f"{what}: returned {answer['returned']} instead of raising KeyError"
    assert raised["key_error"], f"{what}: raised {raised['type']}, not KeyError"


# ------------------------------------------------------------------ calling the worker


Search = Callable[..., dict[str, Any]]


@pytest.fixture
def search(submission: Submission) -> Search:
    """search(graph, source, target, mapping="dict", sequences="list"): the driver's
    observation of shortest_path on a small graph sent whole."""

    def run(graph: Graph, source: Hashable, target: Hashable, *, mapping: str = "dict",
            sequences: str = "list", timeout: float = 5.0) -> dict[str, Any]:
        return submission.call("query", graph=encode_graph(graph), source=encode_node(source),
                               target=encode_node(target), mapping=mapping,
                               sequences=sequences, timeout=timeout)

    return run


def graph_from_edges(nodes: Sequence[Hashable], edges: Sequence[tuple[Hashable, Hashable]]
                     ) -> dict[Hashable, list[Hashable]]:
    """An adjacency dict: every node a key, each edge in both lists (a loop once)."""
    graph: dict[Hashable, list[Hashable]] = {node: [] for node in nodes}
    for u, v in edges:
        graph[u].append(v)
        if u != v:
            graph[v].append(u)
    return graph


# ------------------------------------------------------------------ random graphs (hypothesis)

# Nodes of every allowed type, chosen so that look-alikes meet: 1, "1", (1,) and ((1,),).
_ATOMS = st.one_of(st.integers(-2, 9), st.sampled_from(["0", "1", "2", "a", ""]), st.none())
_NODES = st.one_of(_ATOMS, _ATOMS, st.tuples(_ATOMS), st.tuples(_ATOMS, _ATOMS),
                   st.tuples(st.tuples(_ATOMS)))


@st.composite
def random_graphs(draw: st.DrawFn, max_nodes: int = 24) -> dict[Hashable, list[Hashable]]:
    """An undirected graph of mixed node types: often disconnected, with repeated
    edges and self-loops (a loop once or twice in its node's list)."""
    nodes = draw(st.lists(_NODES, min_size=1, max_size=max_nodes, unique=True))
    index = st.integers(0, len(nodes) - 1)
    edges = draw(st.lists(st.tuples(index, index), max_size=3 * len(nodes)))
    edges += draw(st.lists(st.sampled_from(edges), max_size=3)) if edges else []
    loop_twice = draw(st.booleans())
    graph: dict[Hashable, list[Hashable]] = {node: [] for node in nodes}
    for i, j in edges:
        graph[nodes[i]].append(nodes[j])
        if i != j or loop_twice:
            graph[nodes[j]].append(nodes[i])
    return graph


# ------------------------------------------------------------------ for the tests


@pytest.fixture
def q6() -> SimpleNamespace:
    """The helpers above, for test modules (which cannot import this conftest)."""
    return SimpleNamespace(
        check_answer=check_answer, check_key_error=check_key_error, Oracle=Oracle,
        shortest_length=shortest_length, graph_from_edges=graph_from_edges,
        random_graphs=random_graphs, build_graph=build_graph, pick_pairs=pick_pairs,
        oracle_of_spec=Oracle.of_spec,
        encode_node=encode_node)
