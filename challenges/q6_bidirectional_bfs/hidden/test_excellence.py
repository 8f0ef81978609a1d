"""Hidden suite, excellence: a search without a path stops once one side runs out."""

from graders.testing import excellence

ISLANDS = {"kind": "islands", "n": 10_000, "degree": 4, "seed": 71, "islands": 3}


@excellence
def test_no_path_stops_when_the_smaller_side_runs_out(submission, q6):
    """Without a path, the search stops once the small side runs out, not exploring the rest."""
    graph = q6.build_graph(ISLANDS)
    nodes = list(graph)
    giant = max(q6.Oracle(graph).components(), key=len)
    big, island = giant[0], nodes[-2]  # the middle node of the last 3-node island
    pairs = [(big, island), (island, big), (nodes[-3], nodes[7])]
    answer = submission.call("count_lookups", spec=ISLANDS, pairs=pairs, timeout=30)
    for (source, target), found in zip(pairs, answer["answers"], strict=True):
        q6.check_answer(found, graph, source, target, None)
    assert max(answer["lookups"]) <= 200, (
        "with the target in a component of 3 nodes, the search made hundreds of adjacency "
        "lookups or more: it explored the large component")
