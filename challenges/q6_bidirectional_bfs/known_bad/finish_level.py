"""Known good: the reference's level-synchronous search, except that at a contact it
finishes expanding the level before it returns (any contact of that level gives a
shortest path, so it keeps the first).

Correct, and a sound constant factor slower: it must pass.
"""

_END = object()
_NONE = object()  # no contact yet (None may be a node)


def shortest_path(graph, source, target):
    if source not in graph:
        raise KeyError(source)
    if target not in graph:
        raise KeyError(target)
    if source == target:
        return [source]
    forward, backward = {source: _END}, {target: _END}
    front, back = [source], [target]
    while front and back:
        forward_step = len(front) <= len(back)
        frontier, mine, other = ((front, forward, backward) if forward_step
                                 else (back, backward, forward))
        level, meeting = [], _NONE
        for node in frontier:
            for neighbour in graph[node]:
                if neighbour in mine:
                    continue
                mine[neighbour] = node
                if neighbour in other and meeting is _NONE:
                    meeting = neighbour
                level.append(neighbour)
        if meeting is not _NONE:
            return _join(forward, backward, meeting)
        if forward_step:
            front = level
        else:
            back = level
    return None


def _join(forward, backward, meeting):
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
