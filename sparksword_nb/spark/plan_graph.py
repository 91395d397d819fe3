"""Spark's SparkPlanGraph: the node ids, nodes and edges the SQL tab (and the History Server's sql answer) shows
for a query's physical plan (`SparkPlanInfo`), built as SparkPlanGraph.buildSparkPlanGraphNode builds it."""
from __future__ import annotations

from dataclasses import dataclass, field

# Plan nodes that SparkPlanGraph leaves out of the graph: it follows their (only) child instead.
_PASS_THROUGH_STAGES = ("ResultQueryStage", "TableCacheQueryStage")
_REUSABLE_STAGES = ("BroadcastQueryStage", "ShuffleQueryStage")


@dataclass
class GraphNode:
    """One node of Spark's SparkPlanGraph (a WholeStageCodegen node is a cluster of its members)."""

    node_id: int
    plan: dict
    depth: int
    parent_id: int | None
    cluster_id: int | None
    out_edges: list[dict] = field(default_factory=list)


def _plan_keys(plan: dict) -> dict[int, int]:
    """id(plan node) -> a number equal for equal subtrees, as SparkPlanInfo.equals compares them
    (node name, simpleString and children; metrics and metadata do not count)."""
    keys: dict[int, int] = {}
    interned: dict[tuple, int] = {}
    stack: list[tuple[dict, bool]] = [(plan, False)]
    while stack:  # iterative post-order: plans can be deeper than Python's recursion limit
        node, children_done = stack.pop()
        children = [c for c in node.get("children") or [] if isinstance(c, dict)]
        if not children_done:
            stack.append((node, True))
            stack.extend((c, False) for c in children)
            continue
        signature = (node.get("nodeName"), node.get("simpleString"), tuple(keys[id(c)] for c in children))
        keys[id(node)] = interned.setdefault(signature, len(interned))
    return keys


def spark_plan_graph(plan: dict) -> list[GraphNode]:
    """The nodes of SparkPlanGraph.apply(plan), with Spark's node ids and edges (in Spark's edge order).

    Follows SparkPlanGraph.buildSparkPlanGraphNode: WholeStageCodegen nodes become clusters holding the
    nodes below them down to the next InputAdapter; InputAdapter and query stages are skipped; a reused
    exchange or subquery is not repeated but gets one more edge from the node first built for it.
    """
    keys = _plan_keys(plan)
    graph: list[GraphNode] = []
    reusable: dict[int, GraphNode] = {}  # plan key -> node of an Exchange or Subquery already built
    edge_count = 0

    def add_edge(from_node: GraphNode, to_node: GraphNode | None) -> None:
        nonlocal edge_count
        # a subquery reused by the same node (each ReusedSubquery reference) is one edge, as Spark lists it
        if to_node is None or any(e["to_node_id"] == to_node.node_id for e in from_node.out_edges):
            return
        from_node.out_edges.append({"to_node_id": to_node.node_id, "edge_order": edge_count})
        edge_count += 1

    # (plan node, tree depth, graph parent, enclosing codegen cluster); a stack reproduces Spark's recursion order
    stack: list[tuple[dict, int, GraphNode | None, GraphNode | None]] = [(plan, 0, None, None)]
    while stack:
        info, depth, parent, cluster = stack.pop()
        name = info.get("nodeName") or ""
        children = [c for c in info.get("children") or [] if isinstance(c, dict)]
        first = children[0] if children else None
        if name.startswith("WholeStageCodegen"):
            node = GraphNode(len(graph), info, depth, None, None)
            graph.append(node)
            if first is not None:
                stack.append((first, depth + 1, parent, node))
        elif name == "InputAdapter" or name in _PASS_THROUGH_STAGES:
            if first is not None:
                stack.append((first, depth + 1, parent, None))
        elif name in _REUSABLE_STAGES:
            if first is not None and keys[id(first)] in reusable:
                add_edge(reusable[keys[id(first)]], parent)
            elif first is not None:
                stack.append((first, depth + 1, parent, None))
        elif name == "Subquery" and cluster is not None:
            stack.append((info, depth, parent, None))  # a subquery is never inside a codegen cluster
        elif name == "Subquery" and keys[id(info)] in reusable:
            add_edge(reusable[keys[id(info)]], parent)
        elif name == "ReusedSubquery":
            if first is not None:
                stack.append((first, depth + 1, parent, cluster))
        elif name == "ReusedExchange" and first is not None and keys[id(first)] in reusable:
            add_edge(reusable[keys[id(first)]], parent)
        else:
            node = GraphNode(len(graph), info, depth, parent.node_id if parent else None,
                              cluster.node_id if cluster else None)
            graph.append(node)
            if "Exchange" in name or name == "Subquery":
                reusable[keys[id(info)]] = node
            add_edge(node, parent)
            stack.extend((c, depth + 1, node, cluster) for c in reversed(children))
    return graph
