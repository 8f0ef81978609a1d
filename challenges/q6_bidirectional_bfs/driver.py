"""Worker-side operations for q6_bidirectional_bfs (public; runs inside the sandbox).

Nodes cross the channel as tagged JSON values (`encode_node` / `decode_node`), so
that nodes of different types stay different: an int is a JSON number, a str a
JSON string, None is null, and a tuple is {"t": [its items]}; 1, "1" and (1,)
are three nodes. A graph crosses as a list of [node, [neighbours]] pairs, in
key order.

Large graphs never cross: `build_graph(spec)` makes them from a JSON spec
(random graphs, paths, long bands, graphs with hubs), deterministically from its
seed with `random.Random` (only `random()` is used, whose sequence is stable
across Python versions). The trusted side loads this file to rebuild the same
graphs for its oracle; the worker builds each spec once per worker and reuses it.

Every search is observed the same way (`observe`): what it returned (the path,
encoded, or None, and the returned type) or what it raised (and whether that is
a KeyError); `query` and `query_generated` also report whether the graph is
unchanged afterwards, and `count_lookups` how many adjacency lookups each query
made through a read-only counting mapping (driverkit.CountingMapping).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

from driverkit import CountingMapping, raised

# ------------------------------------------------------------------ node codec (both sides)


def encode_node(node: Any) -> Any:
    """A node as tagged JSON; a value of another type only by its type name."""
    kind = type(node)
    if node is None or kind is int or kind is str:
        return node
    if kind is tuple:
        return {"t": [encode_node(item) for item in node]}
    return {"$type": kind.__name__}


def decode_node(value: Any) -> Hashable:
    """The node a tagged JSON value stands for."""
    if value is None or type(value) in (int, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("t"), list):
        return tuple(decode_node(item) for item in value["t"])
    raise ValueError(f"not an encoded node: {value!r}")


def encode_graph(graph: Mapping[Hashable, Sequence[Hashable]]) -> list[Any]:
    return [[encode_node(node), [encode_node(n) for n in neighbours]]
            for node, neighbours in graph.items()]


def decode_graph(pairs: list[Any], sequences: str = "list") -> dict[Hashable, Sequence[Hashable]]:
    make = tuple if sequences == "tuple" else list
    return {decode_node(node): make(decode_node(n) for n in neighbours)
            for node, neighbours in pairs}


# ------------------------------------------------------------------ generated graphs (both sides)


def _below(rng: random.Random, n: int) -> int:
    return int(rng.random() * n)


def _permutation(rng: random.Random, n: int) -> list[int]:
    order = list(range(n))
    for i in range(n - 1, 0, -1):  # Fisher-Yates with random() only
        j = _below(rng, i + 1)
        order[i], order[j] = order[j], order[i]
    return order


def labels(kind: str, n: int) -> list[Hashable]:
    """The node values 0..n-1 stand for: ints, strings, tuples, or a mix in which
    k, str(k) and (k,) are all nodes, and the last node is None."""
    if kind == "int":
        return list(range(n))
    if kind == "str":
        return [f"n{i}" for i in range(n)]
    if kind == "tuple":
        return [(i // 100, i % 100) for i in range(n)]
    if kind == "mixed":
        mixed: list[Hashable] = [(i // 3, str(i // 3), (i // 3,))[i % 3] for i in range(n)]
        mixed[-1] = None
        return mixed
    raise ValueError(f"unknown labels {kind!r}")


def edge_list(spec: dict[str, Any]) -> tuple[int, list[tuple[int, int]]]:
    """(number of nodes, edges as index pairs) of a spec."""
    kind = spec["kind"]
    rng = random.Random(spec.get("seed", 0))
    if kind == "random":  # G(n, m): m = n * degree / 2 random pairs; loops and repeats allowed
        n = spec["n"]
        draw = rng.random
        ends = [int(draw() * n) for _ in range(n * spec["degree"] // 2 * 2)]
        return n, list(zip(ends[0::2], ends[1::2], strict=True))
    if kind == "path":  # 0 - 1 - 2 - ... - n-1
        n = spec["n"]
        return n, [(i, i + 1) for i in range(n - 1)]
    if kind == "band":  # `length` columns of `width` nodes; each node a ring neighbour and
        # two random nodes of the next column: column 0 to the last is length - 1 edges
        length, width = spec["length"], spec["width"]
        edges = []
        for i in range(length):
            for j in range(width):
                node = i * width + j
                if width > 1:
                    edges.append((node, i * width + (j + 1) % width))
                if i + 1 < length:
                    for _ in range(2):
                        edges.append((node, (i + 1) * width + _below(rng, width)))
        return length * width, edges
    if kind == "hubs":  # hub 0 - layer A - layer B - layer C - hub 1, each layer `width`
        # nodes, A-B and B-C random matchings: both ends have `width` neighbours, 4 edges apart
        width = spec["width"]
        a, b, c = 2, 2 + width, 2 + 2 * width
        edges = [(0, a + i) for i in range(width)] + [(1, c + i) for i in range(width)]
        edges += [(a + i, b + p) for i, p in enumerate(_permutation(rng, width))]
        edges += [(b + i, c + p) for i, p in enumerate(_permutation(rng, width))]
        return 2 + 3 * width, edges
    if kind == "islands":  # a random graph of n nodes beside `islands` paths of 3 nodes
        big = {"kind": "random", "n": spec["n"], "degree": spec["degree"],
               "seed": spec.get("seed", 0)}
        n, edges = edge_list(big)
        for k in range(spec["islands"]):
            first = n + 3 * k
            edges += [(first, first + 1), (first + 1, first + 2)]
        return n + 3 * spec["islands"], edges
    raise ValueError(f"unknown graph kind {kind!r}")


def build_graph(spec: dict[str, Any]) -> dict[Hashable, list[Hashable]]:
    """The graph a spec describes: nodes in index order, each edge in both lists
    (a loop twice in its node's list), neighbours in the order the edges were made."""
    n, edges = edge_list(spec)
    nodes = labels(spec.get("labels", "int"), n)
    adjacency: list[list[Hashable]] = [[] for _ in range(n)]
    appenders = [neighbours.append for neighbours in adjacency]
    for u, v in edges:
        appenders[u](nodes[v])
        appenders[v](nodes[u])
    return dict(zip(nodes, adjacency, strict=True))


def pick_pairs(spec: dict[str, Any], count: int, seed: int) -> list[tuple[int, int]]:
    """`count` queries on a generated graph, as (source, target) node indices, from `seed`."""
    rng = random.Random(seed)
    kind = spec["kind"]
    if kind == "band":  # from the first column to the last, either way
        length, width = spec["length"], spec["width"]
        ends = [(_below(rng, width), (length - 1) * width + _below(rng, width))
                for _ in range(count)]
        return [(s, t) if k % 2 == 0 else (t, s) for k, (s, t) in enumerate(ends)]
    if kind == "hubs":  # hub to hub, either way
        return [(0, 1) if k % 2 == 0 else (1, 0) for k in range(count)]
    if kind == "path":  # end to end, either way
        return [(0, spec["n"] - 1) if k % 2 == 0 else (spec["n"] - 1, 0) for k in range(count)]
    n = spec["n"] + 3 * spec["islands"] if kind == "islands" else spec["n"]
    return [(_below(rng, n), _below(rng, n)) for _ in range(count)]


def spec_key(spec: dict[str, Any]) -> tuple[Any, ...]:
    """What identifies the graph of a spec (not its query count)."""
    return tuple(sorted((k, v) for k, v in spec.items() if k != "queries"))


# ------------------------------------------------------------------ observing a search (worker)


def observe(search: Callable[[], Any]) -> dict[str, Any]:
    """What one search returned or raised, as JSON."""
    try:
        value = search()
    except Exception as exc:  # noqa: BLE001 - reported to the trusted side
        return {"path": None, "returned": None,
                "raised": {**raised(exc), "key_error": isinstance(exc, KeyError)}}
    if value is None:
        return {"path": None, "returned": "None", "raised": None}
    if isinstance(value, list | tuple):
        return {"path": [encode_node(node) for node in value], "returned": type(value).__name__,
                "raised": None}
    return {"path": None, "returned": type(value).__name__, "raised": None}


def _snapshot(graph: Mapping[Hashable, Sequence[Hashable]]) -> list[tuple[Hashable, list[Any]]]:
    return [(node, list(neighbours)) for node, neighbours in graph.items()]


def _length(value: Any) -> int:
    return len(value) - 1 if isinstance(value, list) else -1


class Driver:
    def __init__(self, submission: Any) -> None:
        self.shortest_path = submission.shortest_path
        self.graphs: dict[tuple[Any, ...], dict[Hashable, list[Hashable]]] = {}

    def _generated(self, spec: dict[str, Any]) -> dict[Hashable, list[Hashable]]:
        key = spec_key(spec)
        if key not in self.graphs:
            self.graphs[key] = build_graph(spec)
        return self.graphs[key]

    def query(self, graph: list[Any], source: Any, target: Any, mapping: str = "dict",
              sequences: str = "list") -> dict[str, Any]:
        """One search on a graph sent as [node, [neighbours]] pairs: its observation, and
        whether the graph is unchanged. mapping="readonly" passes a read-only Mapping that
        is not a dict; sequences="tuple" gives the neighbours as tuples."""
        plain = decode_graph(graph, sequences)
        before = _snapshot(plain)
        passed: Mapping[Hashable, Sequence[Hashable]] = plain
        if mapping == "readonly":
            passed = CountingMapping(plain)
        answer = observe(lambda: self.shortest_path(passed, decode_node(source),
                                                    decode_node(target)))
        answer["unchanged"] = _snapshot(plain) == before
        return answer

    def query_generated(self, spec: dict[str, Any], pairs: list[Any]) -> dict[str, Any]:
        """Searches on a generated graph, for (source, target) pairs of encoded nodes:
        {"answers": [observation, ...], "unchanged": bool}."""
        graph = self._generated(spec)
        before = _snapshot(graph)
        answers = [observe(lambda s=s, t=t: self.shortest_path(graph, decode_node(s),
                                                               decode_node(t)))
                   for s, t in pairs]
        return {"answers": answers, "unchanged": _snapshot(graph) == before}

    def count_lookups(self, spec: dict[str, Any], pairs: list[Any]) -> dict[str, Any]:
        """Searches on a generated graph through a counting read-only mapping:
        {"answers": [observation, ...], "lookups": [count per search]}."""
        graph = self._generated(spec)
        answers, lookups = [], []
        for s, t in pairs:
            counting = CountingMapping(graph)
            answers.append(observe(lambda c=counting, s=s, t=t: self.shortest_path(
                c, decode_node(s), decode_node(t))))
            lookups.append(counting.lookups)
        return {"answers": answers, "lookups": lookups}

    # -- performance batches: one call each, timed or counted from outside ----------------
    #
    # Each graph of `graphs` (specs with a "queries" count) is built once per worker and
    # queried `queries` times, the pairs drawn from `seed` (see pick_pairs). Both answer
    # the length of each path found (-1 for None). bench_time is seeded: the trusted side
    # gives each batch a fresh seed and compares its lengths with the reference's, so a
    # batch cannot be answered without doing its work. bench_lookups runs on a fixed
    # seed; its count is deterministic, its lengths are not compared (a counter metric
    # cannot be seeded), and the hidden suite checks the same searches on other graphs.

    def bench_lookups(self, graphs: list[dict[str, Any]], seed: int = 0) -> dict[str, Any]:
        """Adjacency lookups over the batch, counted by a read-only counting mapping."""
        search = self.shortest_path
        total, lengths = 0, []
        for number, spec in enumerate(graphs):
            graph = self._generated(spec)
            nodes = list(graph)
            for s, t in pick_pairs(spec, spec["queries"], seed * 1000 + number):
                counting = CountingMapping(graph)
                lengths.append(_length(search(counting, nodes[s], nodes[t])))
                total += counting.lookups
        return {"counters": {"lookups": total}, "lengths": lengths}

    def bench_time(self, graphs: list[dict[str, Any]], seed: int = 0) -> list[int]:
        """The batch on the graphs themselves (plain dicts of lists): the lengths found."""
        search = self.shortest_path
        lengths = []
        for number, spec in enumerate(graphs):
            graph = self._generated(spec)
            nodes = list(graph)
            for s, t in pick_pairs(spec, spec["queries"], seed * 1000 + number):
                lengths.append(_length(search(graph, nodes[s], nodes[t])))
        return lengths
