"""Hidden suite, robustness: the graph is only read, long paths, None as a node, any
Mapping, self-loops and repeated edges, large graphs."""

from hypothesis import given, settings
from hypothesis import strategies as st

from graders.testing import robustness


@robustness
@settings(max_examples=60)
@given(data=st.data())
def test_graph_is_not_modified(search, q6, data):
    """The graph (keys, their order, every neighbour list) is the same after a search."""
    graph = data.draw(q6.random_graphs(), label="graph")
    nodes = list(graph)
    source = data.draw(st.sampled_from(nodes), label="source")
    target = data.draw(st.sampled_from(nodes), label="target")
    answer = search(graph, source, target)
    assert answer["unchanged"], "shortest_path modified the graph"
    q6.check_answer(answer, graph, source, target, q6.shortest_length(graph, source, target))


@robustness
def test_long_path_graph(submission, q6):
    """On a path graph of 100,000 nodes the end-to-end path is found (no recursion limit)."""
    n = 100_000
    spec = {"kind": "path", "n": n}
    graph = q6.build_graph(spec)
    pairs = [(0, n - 1), (n - 1, 0), (n // 3, n - 5)]
    answer = submission.call("query_generated", spec=spec, pairs=pairs, timeout=30)
    for (source, target), found in zip(pairs, answer["answers"], strict=True):
        q6.check_answer(found, graph, source, target, abs(target - source))
    assert answer["unchanged"], "shortest_path modified the graph"


@robustness
def test_none_is_a_node(search, q6):
    """None is a node like any other: as source, as target, and inside a path."""
    graph = q6.graph_from_edges([None, 0, 1, 2, "a", ("b",)],
                                [(0, 1), (1, None), (None, 2), (2, "a"), ("a", ("b",))])
    for source, target in [(0, "a"), ("a", 0), (None, ("b",)), (("b",), None), (0, None),
                           (None, 0), (None, None)]:
        q6.check_answer(search(graph, source, target), graph, source, target,
                        q6.shortest_length(graph, source, target))
    lonely = q6.graph_from_edges([None, 0, 1], [(0, 1)])
    q6.check_answer(search(lonely, None, 1), lonely, None, 1, None)
    q6.check_answer(search(lonely, 1, None), lonely, 1, None, None)


@robustness
def test_self_loops_and_repeated_edges(search, q6):
    """Self-loops (listed once or twice) and edges listed several times change no answer."""
    graph = {
        "s": ["s", "a", "a", "b"],
        "a": ["s", "a", "a", "s", "c"],
        "b": ["s", "b", "c"],
        "c": ["a", "b", "b", "t", "c", "c"],
        "t": ["c", "t"],
        "u": ["u", "u"],
    }
    for source, target in [("s", "t"), ("t", "s"), ("a", "b"), ("s", "u"), ("u", "u")]:
        q6.check_answer(search(graph, source, target), graph, source, target,
                        q6.shortest_length(graph, source, target))


@robustness
def test_any_mapping_and_sequences(search, q6):
    """The graph may be any read-only Mapping (not a dict), with tuples as neighbour lists."""
    graph = q6.graph_from_edges(list(range(10)) + ["x"],
                                [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0), (2, 5), (5, 6),
                                 (6, 7), (7, 8), (8, 9), (9, 5), (6, 6), ("x", "x")])
    for source, target in [(0, 8), (8, 0), (3, 9), (1, 1), (0, "x")]:
        answer = search(graph, source, target, mapping="readonly", sequences="tuple")
        q6.check_answer(answer, graph, source, target, q6.shortest_length(graph, source, target))
    for source, target in [(0, 42), (42, 42)]:
        q6.check_key_error(search(graph, source, target, mapping="readonly",
                                  sequences="tuple"), "a node that is not in the graph")


LARGE = [
    {"kind": "random", "n": 30_000, "degree": 3, "seed": 61, "labels": "mixed"},
    {"kind": "random", "n": 10_000, "degree": 10, "seed": 62, "labels": "tuple"},
]


@robustness
def test_large_random_graphs(submission, q6):
    """On random graphs of 10,000 and 30,000 nodes of mixed types, every path is a shortest one."""
    for number, spec in enumerate(LARGE):
        graph, oracle = q6.oracle_of_spec(spec)
        nodes = list(graph)
        pairs = [(nodes[s], nodes[t]) for s, t in q6.pick_pairs(spec, 12, 600 + number)]
        giant, *others = sorted(oracle.components(), key=len, reverse=True)
        if others:  # and from a small component into the giant one, both ways
            pairs += [(others[-1][0], giant[0]), (giant[1], others[0][-1])]
        answer = submission.call("query_generated", spec=spec, timeout=30,
                                 pairs=[[q6.encode_node(s), q6.encode_node(t)]
                                        for s, t in pairs])
        for (source, target), found in zip(pairs, answer["answers"], strict=True):
            q6.check_answer(found, graph, source, target, oracle.length(source, target))
