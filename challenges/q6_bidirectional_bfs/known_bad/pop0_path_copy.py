"""Known bad: a correct bidirectional, level-synchronous search with list queues
(`list.pop(0)`, O(queue length) each) that stores a copy of the whole path to every
node it reaches (O(depth) each).

Every answer is right and its lookups are the reference's, but with a wide frontier
pop(0) makes a level quadratic in its width, and on a long shortest path the copies
make the search quadratic in its length: it fails the time metric.
"""


def shortest_path(graph, source, target):
    if source not in graph:
        raise KeyError(source)
    if target not in graph:
        raise KeyError(target)
    if source == target:
        return [source]
    forward_paths = {source: [source]}
    backward_paths = {target: [target]}
    forward_queue, backward_queue = [source], [target]
    while forward_queue and backward_queue:
        forward = len(forward_queue) <= len(backward_queue)
        if forward:
            queue, mine, other = forward_queue, forward_paths, backward_paths
        else:
            queue, mine, other = backward_queue, backward_paths, forward_paths
        for _ in range(len(queue)):  # one level
            node = queue.pop(0)
            for neighbour in graph[node]:
                if neighbour in mine:
                    continue
                mine[neighbour] = mine[node] + [neighbour]
                if neighbour in other:
                    head, tail = ((mine[neighbour], other[neighbour]) if forward
                                  else (other[neighbour], mine[neighbour]))
                    return head + tail[-2::-1]
                queue.append(neighbour)
    return None
