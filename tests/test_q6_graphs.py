"""q6_bidirectional_bfs's trusted-side helpers: the node codec, the graph generators the
worker and the trusted side share (driver.py), and the answer checker (conftest.py)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from types import ModuleType

import networkx as nx
import pytest

from tests.conftest import REPO

Q6 = REPO / "challenges" / "q6_bidirectional_bfs"


def _load(name: str, path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


helpers = _load("q6_conftest_under_test", Q6 / "conftest.py")  # loads driver.py itself
driver = helpers.driver


# -- the codec ------------------------------------------------------------------------


@pytest.mark.parametrize("node", [0, 1, -7, 2**70, "", "1", None, (), (1,), ((1,),),
                                  (1, "1", None, (2, ("x",)))], ids=repr)
def test_codec_round_trips_through_json(node):
    wire = json.loads(json.dumps(driver.encode_node(node)))
    back = driver.decode_node(wire)
    assert back == node and type(back) is type(node)


def test_look_alike_nodes_stay_distinct():
    nodes = [1, "1", (1,), ((1,),), None, "None", (None,)]
    wires = {json.dumps(driver.encode_node(n), sort_keys=True) for n in nodes}
    assert len(wires) == len(nodes)


@pytest.mark.parametrize("value", [True, 1.0, [1], {"a": 1}, frozenset()], ids=repr)
def test_other_types_are_reported_by_type_and_never_decode(value):
    wire = driver.encode_node(value)
    assert wire == {"$type": type(value).__name__}
    with pytest.raises(ValueError):
        driver.decode_node(wire)


def test_json_booleans_and_floats_are_not_nodes():
    for wire in (True, 1.0, [1], {"t": "x"}):
        with pytest.raises(ValueError):
            driver.decode_node(wire)


def test_graphs_round_trip_in_key_order():
    graph = {None: [1, "1"], 1: [None], "1": [None, (1,)], (1,): ["1"]}
    back = driver.decode_graph(json.loads(json.dumps(driver.encode_graph(graph))))
    assert list(back.items()) == list(graph.items())
    as_tuples = driver.decode_graph(driver.encode_graph(graph), "tuple")
    assert as_tuples["1"] == (None, (1,))


# -- the generators ---------------------------------------------------------------------

SPECS = [
    {"kind": "random", "n": 2000, "degree": 5, "seed": 1},
    {"kind": "random", "n": 999, "degree": 3, "seed": 2, "labels": "mixed"},
    {"kind": "random", "n": 500, "degree": 8, "seed": 3, "labels": "tuple"},
    {"kind": "random", "n": 500, "degree": 2, "seed": 4, "labels": "str"},
    {"kind": "path", "n": 300},
    {"kind": "band", "length": 60, "width": 4, "seed": 5},
    {"kind": "hubs", "width": 50, "seed": 6},
    {"kind": "islands", "n": 300, "degree": 4, "seed": 7, "islands": 3},
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s["kind"])
def test_generated_graphs_are_undirected_adjacency_maps(spec):
    graph = driver.build_graph(spec)
    n, edges = driver.edge_list(spec)
    assert len(graph) == n
    count = {}
    for u, neighbours in graph.items():
        for v in neighbours:
            assert v in graph, "a neighbour is not a key"
            count[(u, v)] = count.get((u, v), 0) + 1
    for (u, v), k in count.items():
        assert count.get((v, u)) == k, "an edge is not listed at both ends as often"
    assert sum(count.values()) == 2 * len(edges)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s["kind"])
def test_generators_are_deterministic(spec):
    assert driver.build_graph(spec) == driver.build_graph(dict(spec))
    assert driver.pick_pairs(spec, 9, 4) == driver.pick_pairs(spec, 9, 4)
    assert driver.pick_pairs(spec, 9, 4) != driver.pick_pairs(spec, 9, 5) or \
        spec["kind"] in ("path", "hubs")


def test_random_graph_is_pinned():
    """The worker (the image's Python) and the trusted side must build the same graph:
    a change of the generator, or of random.random's sequence, shows up here."""
    graph = driver.build_graph({"kind": "random", "n": 1000, "degree": 4, "seed": 9})
    digest = hashlib.sha256(repr(list(graph.items())).encode()).hexdigest()
    assert digest[:16] == PINNED_RANDOM_DIGEST


PINNED_RANDOM_DIGEST = "a83531ae19d372c6"  # host 3.11.7 and the image's 3.11.2 agree


def test_mixed_labels_hold_look_alikes_and_none():
    nodes = driver.labels("mixed", 10)
    assert nodes[:6] == [0, "0", (0,), 1, "1", (1,)] and nodes[-1] is None
    assert len(set(map(repr, nodes))) == 10


def test_band_and_hub_distances():
    band = {"kind": "band", "length": 40, "width": 3, "seed": 2}
    g = nx.Graph(driver.edge_list(band)[1])
    for s, t in driver.pick_pairs(band, 6, 1):
        assert nx.shortest_path_length(g, s, t) in (39, 40)
    hubs = {"kind": "hubs", "width": 30, "seed": 3}
    assert nx.shortest_path_length(nx.Graph(driver.edge_list(hubs)[1]), 0, 1) == 4


def test_spec_key_ignores_the_query_count():
    a = {"kind": "random", "n": 10, "degree": 2, "seed": 1, "queries": 5}
    assert driver.spec_key(a) == driver.spec_key({**a, "queries": 50})


# -- the checker ------------------------------------------------------------------------

GRAPH = {1: [2, 3], 2: [1, 4], 3: [1, 4], 4: [2, 3, None], None: [4], "1": []}


def answer(path, returned="list"):
    wire = None if path is None else [driver.encode_node(n) for n in path]
    return {"path": wire, "returned": returned, "raised": None}


@pytest.mark.parametrize("path", [[1, 2, 4, None], [1, 3, 4, None]])
def test_checker_accepts_any_shortest_path(path):
    helpers.check_answer(answer(path), GRAPH, 1, None, 3)


@pytest.mark.parametrize(("path", "returned", "says"), [
    ([1, 2, 4, None], "tuple", "not a list"),
    ([1, 4, None], "list", "not joined by an edge"),
    ([2, 4, None], "list", "does not start at source"),
    ([1, 2, 4], "list", "does not end at target"),
    ([1, 2, 1, 3, 4, None], "list", "longer than a shortest path"),
    (["2", 2, 4, None], "list", "not a node"),
    ([], "list", "empty list"),
    (None, "None", "returned None where a path exists"),
])
def test_checker_rejects(path, returned, says):
    with pytest.raises(AssertionError, match=says):
        helpers.check_answer(answer(path, returned), GRAPH, 1, None, 3)


def test_checker_refuses_values_of_other_types():
    wrong = {"path": [1, 2, 4, {"$type": "float"}], "returned": "list", "raised": None}
    with pytest.raises(AssertionError, match="type no node has"):
        helpers.check_answer(wrong, GRAPH, 1, None, 3)


def test_checker_on_no_path_and_raised():
    helpers.check_answer(answer(None, "None"), GRAPH, 1, "1", None)
    with pytest.raises(AssertionError, match="where there is none"):
        helpers.check_answer(answer([1]), GRAPH, 1, "1", None)
    raised = {"path": None, "returned": None,
              "raised": {"type": "KeyError", "message": "1", "key_error": True}}
    with pytest.raises(AssertionError, match="raised KeyError"):
        helpers.check_answer(raised, GRAPH, 1, None, 3)
    helpers.check_key_error(raised, "unknown")
    with pytest.raises(AssertionError, match="instead of raising KeyError"):
        helpers.check_key_error(answer([1]), "unknown")


def test_oracle_handles_none_and_look_alikes():
    oracle = helpers.Oracle(GRAPH)
    assert oracle.length(1, None) == 3
    assert oracle.length(None, "1") is None
    assert oracle.length("1", "1") == 0
    graph, by_spec = helpers.Oracle.of_spec(SPECS[1])
    by_graph = helpers.Oracle(graph)
    nodes = list(graph)
    for s, t in driver.pick_pairs(SPECS[1], 20, 3):
        assert by_spec.length(nodes[s], nodes[t]) == by_graph.length(nodes[s], nodes[t])
