/**
 * The cluster graph: sigma.js over graphology. Nodes are members coloured by platform; each edge is
 * labelled with the signal types that make the link and its weight, and drawn thicker when stronger.
 * The layout is computed here (platforms in sectors, then a short force pass), deterministic per report.
 */
import { UndirectedGraph } from 'graphology';
import Sigma from 'sigma';
import type { ClusterReport } from '../../lib/graph/cluster-repository.js';
import { platformColor } from './dom.js';

const keyOf = (ref: { platform: string; account: string }) => `${ref.platform}#${ref.account}`;

/** A force pass over at most this many nodes; larger clusters keep the sector layout (still readable, and instant). */
const MAX_FORCE_NODES = 600;
const FORCE_ITERATIONS = 150;

function layout(graph: UndirectedGraph): void {
  const platforms = [...new Set(graph.mapNodes((_node, attributes) => attributes.platform as string))].sort();
  const nodes = graph.nodes();
  nodes.forEach((node, index) => {
    const sector = platforms.indexOf(graph.getNodeAttribute(node, 'platform'));
    const angle = (2 * Math.PI * (sector + (index % 7) / 8)) / platforms.length;
    const radius = 1 + ((index * 0.618) % 1);
    graph.mergeNodeAttributes(node, { x: Math.cos(angle) * radius, y: Math.sin(angle) * radius });
  });
  if (nodes.length > MAX_FORCE_NODES) return;
  const position = new Map(nodes.map((node) => [node, { x: graph.getNodeAttribute(node, 'x') as number, y: graph.getNodeAttribute(node, 'y') as number }]));
  const ideal = 1 / Math.sqrt(Math.max(nodes.length, 1));
  for (let iteration = 0; iteration < FORCE_ITERATIONS; iteration++) {
    const temperature = 0.1 * (1 - iteration / FORCE_ITERATIONS);
    const shift = new Map(nodes.map((node) => [node, { x: 0, y: 0 }]));
    for (let i = 0; i < nodes.length; i++) {
      for (let j = i + 1; j < nodes.length; j++) {
        const p = position.get(nodes[i])!;
        const q = position.get(nodes[j])!;
        const dx = p.x - q.x || 1e-3;
        const dy = p.y - q.y || 1e-3;
        const distance = Math.max(Math.hypot(dx, dy), 1e-3);
        const push = (ideal * ideal) / distance;
        shift.get(nodes[i])!.x += (dx / distance) * push;
        shift.get(nodes[i])!.y += (dy / distance) * push;
        shift.get(nodes[j])!.x -= (dx / distance) * push;
        shift.get(nodes[j])!.y -= (dy / distance) * push;
      }
    }
    graph.forEachEdge((_edge, attributes, source, target) => {
      const p = position.get(source)!;
      const q = position.get(target)!;
      const dx = p.x - q.x;
      const dy = p.y - q.y;
      const distance = Math.max(Math.hypot(dx, dy), 1e-3);
      const pull = ((distance * distance) / ideal) * Math.min(1, 0.3 + (attributes.weight as number) / 3);
      shift.get(source)!.x -= (dx / distance) * pull;
      shift.get(source)!.y -= (dy / distance) * pull;
      shift.get(target)!.x += (dx / distance) * pull;
      shift.get(target)!.y += (dy / distance) * pull;
    });
    for (const node of nodes) {
      const s = shift.get(node)!;
      const length = Math.max(Math.hypot(s.x, s.y), 1e-9);
      const p = position.get(node)!;
      p.x += (s.x / length) * Math.min(length, temperature);
      p.y += (s.y / length) * Math.min(length, temperature);
    }
  }
  for (const [node, p] of position) graph.mergeNodeAttributes(node, p);
}

export interface ClusterGraphView {
  /** Highlights a path (member keys in order), or clears the highlight with []. */
  highlight(path: string[]): void;
  destroy(): void;
}

/**
 * Draws the report's graph into `container`; `onPick` gets a member key when a node is clicked.
 *
 * @throws {Error} when the browser cannot draw WebGL (the caller shows the link table instead).
 */
export function drawClusterGraph(container: HTMLElement, report: ClusterReport, onPick: (member: string) => void): ClusterGraphView {
  const graph = new UndirectedGraph();
  for (const member of report.members) {
    graph.mergeNode(keyOf(member), { label: `${member.platform}/${member.account}`, platform: member.platform, color: platformColor(member.platform), size: 9 });
  }
  const maxWeight = Math.max(...report.links.map((link) => link.weight), 1e-9);
  for (const link of report.links) {
    const [a, b] = [keyOf(link.a), keyOf(link.b)];
    if (!graph.hasNode(a) || !graph.hasNode(b) || graph.hasEdge(a, b)) continue;
    graph.addEdge(a, b, { weight: link.weight, label: `${link.types.join(' + ')} · ${link.weight.toFixed(2)}`, size: 1.5 + 5 * (link.weight / maxWeight), color: '#8a94a6' });
  }
  layout(graph);
  let highlighted = new Set<string>();
  let highlightedEdges = new Set<string>();
  const renderer = new Sigma(graph, container, {
    renderEdgeLabels: true,
    labelDensity: 1,
    labelRenderedSizeThreshold: 0,
    edgeLabelSize: 12,
    labelSize: 13,
    defaultEdgeColor: '#8a94a6',
    nodeReducer: (node, data) => (highlighted.size === 0 || highlighted.has(node) ? data : { ...data, color: '#d5d9e0', label: '' }),
    edgeReducer: (edge, data) => (highlighted.size === 0 ? data : highlightedEdges.has(edge) ? { ...data, color: '#c2185b', size: (data.size ?? 2) + 2 } : { ...data, color: '#eceff3', label: '' }),
  });
  renderer.on('clickNode', ({ node }) => onPick(node));
  renderer.on('enterNode', () => container.classList.add('pointer'));
  renderer.on('leaveNode', () => container.classList.remove('pointer'));
  return {
    highlight(path) {
      highlighted = new Set(path);
      highlightedEdges = new Set();
      for (let i = 1; i < path.length; i++) {
        const edge = graph.edge(path[i - 1], path[i]);
        if (edge) highlightedEdges.add(edge);
      }
      renderer.refresh();
    },
    destroy: () => renderer.kill(),
  };
}
