# ruff: noqa
# A known public answer, compared with every submission by `grade batch`
# (graders/similarity.py); never graded. The interview guide's code for
# Question 6 (KnowledgeGraph.bidirectional_search), verbatim: lines 1115-1463 of the guide
# (AI Engineer Interview Preparation Guide 2025).

from typing import Dict, List, Set, Tuple, Optional
from heapq import heappush, heappop
from collections import defaultdict, deque
import numpy as np

class KnowledgeGraph:
    """
    Knowledge graph for AI agent reasoning

    Supports:
    - Entity relationships
    - Weighted edges (relationship strength)
    - Bidirectional search
    - Caching for frequent queries
    """
    def __init__(self):
        # Adjacency list: entity -> [(neighbor, weight, relationship)]
        self.graph: Dict[str, List[Tuple[str, float, str]]] = defaultdict(list)
        self.entities: Set[str] = set()
        # Cache for frequently queried paths
        self._path_cache: Dict[Tuple[str, str], List[str]] = {}

    def add_edge(self, entity1: str, entity2: str,
                 relationship: str, weight: float = 1.0,
                 bidirectional: bool = True):
        """Add relationship between entities"""
        self.entities.add(entity1)
        self.entities.add(entity2)
        self.graph[entity1].append((entity2, weight, relationship))
        if bidirectional:
            self.graph[entity2].append((entity1, weight, relationship))

    def dijkstra_shortest_path(
        self,
        start: str,
        end: str
    ) -> Optional[Tuple[List[str], float]]:
        """
        Find shortest path using Dijkstra's algorithm

        Time: O((V + E) log V) with binary heap
        Space: O(V)

        Returns:
            (path, total_cost) or None if no path exists
        """
        if start not in self.entities or end not in self.entities:
            return None

        # Priority queue: (cost, node, path)
        pq = [(0, start, [start])]
        visited = set()

        while pq:
            cost, node, path = heappop(pq)

            if node in visited:
                continue

            if node == end:
                return (path, cost)

            visited.add(node)

            for neighbor, weight, _ in self.graph[node]:
                if neighbor not in visited:
                    new_cost = cost + weight
                    new_path = path + [neighbor]
                    heappush(pq, (new_cost, neighbor, new_path))

        return None  # No path found

    def bidirectional_search(
        self,
        start: str,
        end: str
    ) -> Optional[List[str]]:
        """
        Bidirectional BFS for unweighted graphs

        Time: O(b^(d/2)) vs O(b^d) for unidirectional
        Where b=branching factor, d=depth

        ~100x faster for large graphs
        """
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
                for neighbor, _, _ in self.graph[node]:
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
                for neighbor, _, _ in self.graph[node]:
                    if neighbor in forward_visited:
                        # Paths meet!
                        forward_path = forward_visited[neighbor]
                        return forward_path + path[::-1][1:]

                    if neighbor not in backward_visited:
                        new_path = path + [neighbor]
                        backward_visited[neighbor] = new_path
                        backward_queue.append((neighbor, new_path))

        return None

    def a_star_search(
        self,
        start: str,
        end: str,
        heuristic_fn: Optional[callable] = None
    ) -> Optional[Tuple[List[str], float]]:
        """
        A* search with heuristic for faster pathfinding

        Time: O(E log V) - often much better with good heuristic

        For knowledge graphs, heuristic could be:
        - Embedding similarity between entities
        - Number of shared relationships
        """
        if heuristic_fn is None:
            # Default: BFS (h=0)
            heuristic_fn = lambda x, y: 0

        # Priority queue: (f_score, node, g_score, path)
        # f_score = g_score + h_score
        h_start = heuristic_fn(start, end)
        pq = [(h_start, start, 0, [start])]
        visited = set()

        while pq:
            f_score, node, g_score, path = heappop(pq)

            if node in visited:
                continue

            if node == end:
                return (path, g_score)

            visited.add(node)

            for neighbor, weight, _ in self.graph[node]:
                if neighbor not in visited:
                    new_g = g_score + weight
                    new_h = heuristic_fn(neighbor, end)
                    new_f = new_g + new_h
                    new_path = path + [neighbor]
                    heappush(pq, (new_f, neighbor, new_g, new_path))

        return None

    def find_path_cached(self, start: str, end: str) -> Optional[List[str]]:
        """
        Cached path finding for frequent queries

        Critical for production: ~90% of queries are repeated
        """
        # Check cache
        cache_key = (start, end)
        if cache_key in self._path_cache:
            return self._path_cache[cache_key]

        # Compute path
        result = self.bidirectional_search(start, end)

        # Cache result
        if result:
            self._path_cache[cache_key] = result

        return result

# ===== OPTIMIZATIONS FOR 10M NODE GRAPH =====

class ScalableKnowledgeGraph:
    """
    Optimizations for massive graphs (10M+ nodes)

    Techniques:
    1. Graph partitioning
    2. Hierarchical indexing
    3. Approximate algorithms
    4. Distributed graph storage
    """
    def __init__(self, num_partitions: int = 100):
        self.num_partitions = num_partitions
        # Partition graphs by entity ID hash
        self.partitions: List[KnowledgeGraph] = [
            KnowledgeGraph() for _ in range(num_partitions)
        ]
        # Entity to partition mapping
        self.entity_partition: Dict[str, int] = {}

    def _get_partition(self, entity: str) -> int:
        """Hash entity to partition"""
        if entity not in self.entity_partition:
            partition_id = hash(entity) % self.num_partitions
            self.entity_partition[entity] = partition_id
        return self.entity_partition[entity]

    def add_edge(self, entity1: str, entity2: str,
                 relationship: str, weight: float = 1.0):
        """Add edge to appropriate partition(s)"""
        p1 = self._get_partition(entity1)
        p2 = self._get_partition(entity2)

        # Add to entity1's partition
        self.partitions[p1].add_edge(entity1, entity2, relationship, weight)

        # If cross-partition, add to entity2's partition too
        if p1 != p2:
            self.partitions[p2].add_edge(entity1, entity2, relationship, weight)

    def shortest_path_partitioned(
        self,
        start: str,
        end: str
    ) -> Optional[List[str]]:
        """
        Find shortest path across partitions

        For same partition: Fast local search
        For cross-partition: Use partition boundaries
        """
        p_start = self._get_partition(start)
        p_end = self._get_partition(end)

        if p_start == p_end:
            # Same partition - fast local search
            return self.partitions[p_start].bidirectional_search(start, end)
        else:
            # Cross-partition - more complex
            # In production: Use graph database (Neo4j, Neptune)
            return self._cross_partition_search(start, end)

    def _cross_partition_search(
        self,
        start: str,
        end: str
    ) -> Optional[List[str]]:
        """
        Search across partitions

        Strategy:
        1. Find boundary nodes (entities with cross-partition edges)
        2. Search start -> boundary, boundary -> end
        3. Combine paths
        """
        # Simplified implementation
        # Production: Use distributed graph algorithm
        pass

# ===== EMBEDDING-BASED HEURISTIC FOR A* =====

class EmbeddingKnowledgeGraph(KnowledgeGraph):
    """
    Knowledge graph with entity embeddings for intelligent search
    """
    def __init__(self, embedding_dim: int = 768):
        super().__init__()
        # Entity embeddings for semantic similarity
        self.embeddings: Dict[str, np.ndarray] = {}
        self.embedding_dim = embedding_dim

    def add_entity_embedding(self, entity: str, embedding: np.ndarray):
        """Add semantic embedding for entity"""
        self.embeddings[entity] = embedding

    def embedding_similarity_heuristic(
        self,
        entity1: str,
        entity2: str
    ) -> float:
        """
        Heuristic based on embedding similarity

        Higher similarity = likely closer in graph
        Returns distance estimate (inverse of similarity)
        """
        if entity1 not in self.embeddings or entity2 not in self.embeddings:
            return 0  # No information

        emb1 = self.embeddings[entity1]
        emb2 = self.embeddings[entity2]

        # Cosine similarity
        similarity = np.dot(emb1, emb2) / (
            np.linalg.norm(emb1) * np.linalg.norm(emb2)
        )

        # Convert to distance (lower = closer)
        distance = 1 - similarity
        return distance

    def smart_shortest_path(
        self,
        start: str,
        end: str
    ) -> Optional[Tuple[List[str], float]]:
        """
        A* with embedding-based heuristic

        Typically 5-10x faster than Dijkstra for large graphs
        """
        return self.a_star_search(
            start,
            end,
            heuristic_fn=self.embedding_similarity_heuristic
        )

# Usage example for AI agent reasoning
if __name__ == "__main__":
    # Build knowledge graph
    kg = EmbeddingKnowledgeGraph()

    # Add relationships
    kg.add_edge("Python", "Programming Language", "IS_A")
    kg.add_edge("Python", "AI Development", "USED_FOR")
    kg.add_edge("AI Development", "Machine Learning", "INCLUDES")
    kg.add_edge("Machine Learning", "TensorFlow", "USES_FRAMEWORK")
    kg.add_edge("TensorFlow", "Google", "DEVELOPED_BY")

    # Add entity embeddings (from embedding model)
    kg.add_entity_embedding("Python", np.random.rand(768))
    kg.add_entity_embedding("Google", np.random.rand(768))

    # Find shortest path for agent reasoning
    path, cost = kg.smart_shortest_path("Python", "Google")
    print(f"Path: {' -> '.join(path)}, Cost: {cost}")
