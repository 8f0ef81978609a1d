"""Known bad: a correct bidirectional, level-synchronous search written recursively.

Each level is one recursive call, so a shortest path of more than about a thousand
edges (the default recursion limit) raises RecursionError: it fails on long paths.
"""

_END = object()
_NO_PATH = object()


def shortest_path(graph, source, target):
    if source not in graph:
        raise KeyError(source)
    if target not in graph:
        raise KeyError(target)
    if source == target:
        return [source]
    forward, backward = {source: _END}, {target: _END}
    meeting = _grow(graph, [source], [target], forward, backward)
    if meeting is _NO_PATH:
        return None
    path, node = [], meeting
    while node is not _END:
        path.append(node)
        node = forward[node]
    path.reverse()
    node = backward[meeting]
    while node is not _END:
        path.append(node)
        node = backward[node]
    return path


def _grow(graph, frontier, other_frontier, mine, other):
    """Expand the smaller frontier by one level, then recurse; the meeting node or _NO_PATH."""
    if not frontier or not other_frontier:
        return _NO_PATH
    if len(frontier) > len(other_frontier):
        return _grow(graph, other_frontier, frontier, other, mine)
    level = []
    for node in frontier:
        for neighbour in graph[node]:
            if neighbour in mine:
                continue
            mine[neighbour] = node
            if neighbour in other:
                return neighbour
            level.append(neighbour)
    return _grow(graph, level, other_frontier, mine, other)
