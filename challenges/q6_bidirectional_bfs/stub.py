"""q6_bidirectional_bfs: shortest path by bidirectional BFS. Start here; see README.md."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence


def shortest_path(graph: Mapping[Hashable, Sequence[Hashable]],
                  source: Hashable, target: Hashable) -> list | None:
    """A shortest path ``[source, ..., target]`` in an undirected graph, by bidirectional BFS.

    - ``graph`` maps every node to the sequence of its neighbours; each edge is listed
      at both ends. Lists may repeat neighbours and hold self-loops.
    - Returns a ``list`` with the fewest edges, ``None`` if there is no path, and
      ``[source]`` if ``source == target``.
    - Raises ``KeyError`` if ``source`` or ``target`` is not a node (checked first).
    - Nodes are any hashable values (ints, strings, tuples, None): 1 and "1" differ.
    - Reads ``graph`` only, never recurses per node or level, and searches from both
      ends, stopping as soon as the shortest path is known.
    """
    raise NotImplementedError("shortest_path is not implemented yet")
