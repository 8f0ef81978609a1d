"""Known bad: a bidirectional search that expands one node at a time, alternating
sides, and returns at the first contact.

Its paths are real paths, but not always shortest: the first contact can come
through a node the other side reached at a greater depth than a contact the same
level would have found next.
"""

from collections import deque

_END = object()


def shortest_path(graph, source, target):
    if source not in graph:
        raise KeyError(source)
    if target not in graph:
        raise KeyError(target)
    if source == target:
        return [source]
    forward, backward = {source: _END}, {target: _END}
    forward_queue, backward_queue = deque([source]), deque([target])
    while True:
        for queue, mine, other in ((forward_queue, forward, backward),
                                   (backward_queue, backward, forward)):
            node = queue.popleft()
            for neighbour in graph[node]:
                if neighbour in mine:
                    continue
                mine[neighbour] = node
                if neighbour in other:
                    return _join(forward, backward, neighbour)
                queue.append(neighbour)
            if not queue:  # this side's component is exhausted: no contact
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
