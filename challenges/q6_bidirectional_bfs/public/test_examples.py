"""Example tests a candidate may read; `grade` runs them with full detail.

They run your `shortest_path` inside the sandbox through the challenge's driver
(driver.py): `search(graph, source, target)` sends the graph and returns what the
call returned or raised; `q6.check_answer` checks that a returned path is a real
path of the graph, from source to target, with the given number of edges.
"""

from graders.testing import core

GRAPH = {
    "a": ["b", "c"],
    "b": ["a", "d"],
    "c": ["a", "d", "e"],
    "d": ["b", "c", "f"],
    "e": ["c", "f"],
    "f": ["d", "e"],
    "g": [],
}


@core
def test_example_shortest_path(search, q6):
    """Example: a path from a to f has 3 edges, e.g. a-b-d-f or a-c-e-f."""
    q6.check_answer(search(GRAPH, "a", "f"), GRAPH, "a", "f", 3)


@core
def test_example_same_node(search, q6):
    """Example: from a node to itself, the path is [node]."""
    answer = search(GRAPH, "d", "d")
    assert answer["path"] == ["d"] and answer["returned"] == "list"


@core
def test_example_no_path(search, q6):
    """Example: g has no edges, so there is no path to it: None."""
    q6.check_answer(search(GRAPH, "a", "g"), GRAPH, "a", "g", None)


@core
def test_example_unknown_node(search, q6):
    """Example: a node that is not in the graph raises KeyError."""
    q6.check_key_error(search(GRAPH, "a", "z"), "an unknown target")
    q6.check_key_error(search(GRAPH, "z", "z"), "an unknown node, source == target")
