"""Known bad: a correct one-sided BFS from the source, stopping when it reaches the target.

Every answer is right, but it explores the whole ball around the source out to the
target's distance (and a whole component when there is no path), where searching from
both ends explores two balls of half that radius: it fails the lookup metric.
"""

from collections import deque


def shortest_path(graph, source, target):
    if source not in graph:
        raise KeyError(source)
    if target not in graph:
        raise KeyError(target)
    if source == target:
        return [source]
    parent = {source: source}
    queue = deque([source])
    while queue:
        node = queue.popleft()
        for neighbour in graph[node]:
            if neighbour in parent:
                continue
            parent[neighbour] = node
            if neighbour == target:
                path = [target]
                while path[-1] != source:
                    path.append(parent[path[-1]])
                path.reverse()
                return path
            queue.append(neighbour)
    return None
