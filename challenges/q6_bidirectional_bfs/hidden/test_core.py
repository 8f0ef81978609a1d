"""Hidden suite, core: shortest paths, [source], None and KeyError, nodes of every type."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graders.testing import core


@core
@settings(max_examples=150)
@given(data=st.data())
def test_paths_are_shortest(search, q6, data):
    """On random graphs of mixed node types, the path returned is a shortest one, or None."""
    graph = data.draw(q6.random_graphs(), label="graph")
    nodes = list(graph)
    source = data.draw(st.sampled_from(nodes), label="source")
    target = data.draw(st.sampled_from(nodes), label="target")
    q6.check_answer(search(graph, source, target), graph, source, target,
                    q6.shortest_length(graph, source, target))


SMALL = {
    "adjacent": ([1, 2], [(1, 2)], 1, 2),
    "two steps": (["a", "b", "c"], [("a", "b"), ("b", "c")], "a", "c"),
    "triangle": ([0, 1, 2], [(0, 1), (1, 2), (2, 0)], 0, 2),
    "square": ([0, 1, 2, 3], [(0, 1), (1, 2), (2, 3), (3, 0)], 0, 2),
    "path of five": ([0, 1, 2, 3, 4], [(0, 1), (1, 2), (2, 3), (3, 4)], 4, 0),
    "shortcut": ([0, 1, 2, 3, 4], [(0, 1), (1, 2), (2, 3), (3, 4), (0, 4)], 1, 4),
    "ladder": ([(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)],
               [((0, 0), (1, 0)), ((1, 0), (2, 0)), ((0, 1), (1, 1)), ((1, 1), (2, 1)),
                ((0, 0), (0, 1)), ((1, 0), (1, 1)), ((2, 0), (2, 1))], (0, 0), (2, 1)),
}


@core
@pytest.mark.parametrize("case", SMALL, ids=list(SMALL))
def test_small_graphs(search, q6, case):
    """Small graphs (adjacent ends, triangle, square, shortcut, ladder) give a shortest path."""
    nodes, edges, source, target = SMALL[case]
    graph = q6.graph_from_edges(nodes, edges)
    q6.check_answer(search(graph, source, target), graph, source, target,
                    q6.shortest_length(graph, source, target))


def contact_trap(decoys):
    """Ends s and t, each with `decoys` neighbours listed before its last one. Each decoy
    pair is joined through a middle node (4 edges end to end); the two last neighbours are
    adjacent (3 edges). Expanding one node at a time from alternate ends, the first
    contact is through a decoy's middle node."""
    nodes = ["s", "t", "b", "d"]
    edges = []
    for i in range(decoys):
        a, x, c = f"a{i}", f"x{i}", f"c{i}"
        nodes += [a, x, c]
        edges += [("s", a), ("t", c), (a, x), (x, c)]
    edges += [("s", "b"), ("t", "d"), ("b", "d")]
    return nodes, edges


@core
@pytest.mark.parametrize("decoys", [1, 2, 5])
@pytest.mark.parametrize("reverse", [False, True], ids=["s-to-t", "t-to-s"])
def test_shortest_not_merely_meeting(search, q6, decoys, reverse):
    """Where the two searches first touch on a longer route, the path is still a shortest one."""
    graph = q6.graph_from_edges(*contact_trap(decoys))
    source, target = ("t", "s") if reverse else ("s", "t")
    q6.check_answer(search(graph, source, target), graph, source, target, 3)


@core
@pytest.mark.parametrize("node", [0, 7, "x", (1, "a"), None], ids=repr)
def test_source_equals_target(search, q6, node):
    """When source == target (any node type, with or without edges), the answer is [source]."""
    graph = q6.graph_from_edges([0, 7, "x", (1, "a"), None, 3],
                                [(0, "x"), ("x", (1, "a")), (7, 7), (None, 3)])
    answer = search(graph, node, node)
    q6.check_answer(answer, graph, node, node, 0)


DISCONNECTED = {
    "two components": ([1, 2, 3, 4], [(1, 2), (3, 4)], 1, 4),
    "isolated target": ([1, 2, 3, 4], [(1, 2), (2, 3)], 1, 4),
    "isolated source": ([1, 2, 3, 4], [(2, 3), (3, 4)], 1, 4),
    "loop only": (["a", "b"], [("a", "a"), ("b", "b")], "a", "b"),
    "large and small": (list(range(12)), [(i, i + 1) for i in range(9)] + [(10, 11)], 0, 11),
}


@core
@pytest.mark.parametrize("case", DISCONNECTED, ids=list(DISCONNECTED))
def test_no_path_returns_none(search, q6, case):
    """When no path joins source and target, the answer is None."""
    nodes, edges, source, target = DISCONNECTED[case]
    graph = q6.graph_from_edges(nodes, edges)
    q6.check_answer(search(graph, source, target), graph, source, target, None)
    q6.check_answer(search(graph, target, source), graph, target, source, None)


UNKNOWN = {
    "source": (99, 1),
    "target": (1, 99),
    "both, equal": (99, 99),
    "both, different": (98, 99),
    "str of a node": ("1", 2),
    "tuple of a node": (1, (2,)),
    "None, not a node": (None, 1),
    "isolated source, unknown target": (5, 99),
}


@core
@pytest.mark.parametrize("case", UNKNOWN, ids=list(UNKNOWN))
def test_unknown_nodes_raise_key_error(search, q6, case):
    """A source or target that is not a node raises KeyError, also when source == target."""
    graph = q6.graph_from_edges([1, 2, 3, 5], [(1, 2), (2, 3)])
    source, target = UNKNOWN[case]
    q6.check_key_error(search(graph, source, target), "a node that is not in the graph")


@core
def test_nodes_of_different_types_are_different(search, q6):
    """1, "1", (1,) and None are different nodes: paths between them follow their own edges."""
    nodes = [1, "1", (1,), ((1,),), None, 2, "2"]
    edges = [(1, 2), (2, "1"), ("1", None), (None, (1,)), ((1,), "2"), ("2", ((1,),))]
    graph = q6.graph_from_edges(nodes, edges)
    for source in nodes:
        for target in nodes:
            q6.check_answer(search(graph, source, target), graph, source, target,
                            q6.shortest_length(graph, source, target))
