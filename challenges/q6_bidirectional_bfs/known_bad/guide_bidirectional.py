"""Known bad: the interview guide's Q6 answer, KnowledgeGraph.bidirectional_search.

Adapted to the contract's function as faithfully as possible: the method becomes
`shortest_path(graph, source, target)`, and the guide's adjacency entries
(neighbour, weight, relationship) become plain neighbours, so `for neighbor, _, _
in self.graph[node]` reads `for neighbor in graph[node]`. Nothing else changed.

Bugs a suite should catch: the join `path + backward_path[::-1][1:]` drops the
meeting node (and returns [source] for adjacent ends), so the returned list is
not a path; it alternates one node at a time and returns at the first contact,
which can be longer than a shortest path; unknown nodes are not checked first
(source == target returns [source] even for an unknown node).
"""

from collections import deque


def shortest_path(graph, source, target):
    """
    Bidirectional BFS for unweighted graphs

    Time: O(b^(d/2)) vs O(b^d) for unidirectional
    Where b=branching factor, d=depth

    ~100x faster for large graphs
    """
    start, end = source, target
    if start == end:
        return [start]

    # Search from both ends
    forward_queue = deque([(start, [start])])
    backward_queue = deque([(end, [end])])

    forward_visited = {start: [start]}
    backward_visited = {end: [end]}

    while forward_queue and backward_queue:
        # Expand forward
        if forward_queue:
            node, path = forward_queue.popleft()
            for neighbor in graph[node]:
                if neighbor in backward_visited:
                    # Paths meet!
                    backward_path = backward_visited[neighbor]
                    return path + backward_path[::-1][1:]

                if neighbor not in forward_visited:
                    new_path = path + [neighbor]
                    forward_visited[neighbor] = new_path
                    forward_queue.append((neighbor, new_path))

        # Expand backward
        if backward_queue:
            node, path = backward_queue.popleft()
            for neighbor in graph[node]:
                if neighbor in forward_visited:
                    # Paths meet!
                    forward_path = forward_visited[neighbor]
                    return forward_path + path[::-1][1:]

                if neighbor not in backward_visited:
                    new_path = path + [neighbor]
                    backward_visited[neighbor] = new_path
                    backward_queue.append((neighbor, new_path))

    return None
