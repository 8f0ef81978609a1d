"""Reference solution for q6_bidirectional_bfs: shortest path by bidirectional BFS.

Design:

- Two level-synchronous searches, one from each end. Each keeps a parent map
  (node -> the node it was discovered from; the end itself maps to ``_END``, a
  private sentinel, because ``None`` may be a node) and its frontier: the nodes
  of its last complete level.
- Each step expands the whole frontier of the side with fewer frontier nodes,
  one adjacency lookup (``graph[node]``) per node. On random graphs the two
  balls then grow alike and meet in the middle, so each explores about the
  square root of what a one-sided search would.
- It returns at the first contact: a neighbour already reached by the other
  side. That is a shortest path. Before the step, the two sides' parent maps
  are disjoint, so the distance d between the ends is at least
  ``df + db + 1`` (their depths). A node ``v`` the other side reached lies on
  its frontier (at depth ``db``): had it been expanded, ``u`` would be in the
  other side's map too. The path through ``u`` and ``v`` has ``df + 1 + db``
  edges: the least possible.
- When either frontier empties, that side's whole component is explored
  without contact: there is no path.
- Iterative throughout (no recursion), and the graph is only read.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

__all__ = ["shortest_path"]

_END = object()  # the parent of each search's own end; None may be a node


def shortest_path(graph: Mapping[Hashable, Sequence[Hashable]],
                  source: Hashable, target: Hashable) -> list | None:
    """A shortest path ``[source, ..., target]``, ``None`` if there is none.

    Raises KeyError if ``source`` or ``target`` is not a node of ``graph``.
    """
    if source not in graph:
        raise KeyError(source)
    if target not in graph:
        raise KeyError(target)
    if source == target:
        return [source]
    forward: dict[Hashable, object] = {source: _END}
    backward: dict[Hashable, object] = {target: _END}
    front: list[Hashable] = [source]
    back: list[Hashable] = [target]
    while front and back:
        forward_step = len(front) <= len(back)
        if forward_step:
            frontier, mine, other = front, forward, backward
        else:
            frontier, mine, other = back, backward, forward
        level: list[Hashable] = []
        for node in frontier:
            for neighbour in graph[node]:
                if neighbour in mine:
                    continue
                mine[neighbour] = node
                if neighbour in other:
                    return _join(forward, backward, neighbour)
                level.append(neighbour)
        if forward_step:
            front = level
        else:
            back = level
    return None


def _join(forward: dict[Hashable, object], backward: dict[Hashable, object],
          meeting: Hashable) -> list:
    """The path through `meeting`: up the forward parents, reversed, then down the backward."""
    path = []
    node: object = meeting
    while node is not _END:
        path.append(node)
        node = forward[node]
    path.reverse()
    node = backward[meeting]
    while node is not _END:
        path.append(node)
        node = backward[node]
    return path
