package io.cutover.engine.analysis.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Louvain community detection (Blondel et al. 2008) on a weighted undirected graph, with a resolution parameter
 * and hard constraints: nodes that start together stay together, pairs that must be apart never share a
 * community, and no community grows past a size cap. Deterministic for a given seed (the seed orders the nodes
 * each pass visits). Not thread-safe.
 */
public final class Louvain {
  private static final double EPSILON = 1e-12;
  private final int n;
  private final Map<Long, Double> edges;
  private final int[][] apartOf;
  private final int maxSize;

  /**
   * A graph.
   *
   * @param n the number of nodes.
   * @param edges undirected edge weights keyed by {@link #key}.
   * @param apartOf for each node, the nodes it must not share a community with.
   * @param maxSize the most nodes in one community (0: no cap).
   */
  public Louvain(int n, Map<Long, Double> edges, int[][] apartOf, int maxSize) {
    this.n = n;
    this.edges = edges;
    this.apartOf = apartOf;
    this.maxSize = maxSize;
  }

  /**
   * The key of the edge between two nodes (order does not matter).
   *
   * @param a a node.
   * @param b another.
   * @return the key.
   */
  public static long key(int a, int b) {
    int lo = Math.min(a, b);
    int hi = Math.max(a, b);
    return ((long) lo << 32) | hi;
  }

  /**
   * Finds communities.
   *
   * @param initial each node's starting group (nodes of one group are never separated).
   * @param resolution higher finds more, smaller communities (1: classic modularity).
   * @param seed orders the passes.
   * @return each node's community, numbered from 0 in order of first appearance.
   */
  public int[] run(int[] initial, double resolution, long seed) {
    Random random = new Random(seed);
    // level 0: one aggregated node per initial group
    int groups = 0;
    Map<Integer, Integer> groupIndex = new HashMap<>();
    int[] nodeOf = new int[n];
    for (int i = 0; i < n; i++) {
      Integer g = groupIndex.get(initial[i]);
      if (g == null) {
        g = groups++;
        groupIndex.put(initial[i], g);
      }
      nodeOf[i] = g;
    }
    Level level = aggregate(nodeOf, groups);
    while (true) {
      int[] community = level.move(resolution, random);
      int count = renumber(community);
      if (count == level.size) {
        break;
      }
      for (int i = 0; i < n; i++) {
        nodeOf[i] = community[nodeOf[i]];
      }
      level = aggregate(nodeOf, count);
    }
    int[] out = nodeOf.clone();
    renumber(out);
    return out;
  }

  /** Numbers the values 0.. in order of first appearance; returns how many there are. */
  static int renumber(int[] values) {
    Map<Integer, Integer> index = new HashMap<>();
    for (int i = 0; i < values.length; i++) {
      Integer v = index.get(values[i]);
      if (v == null) {
        v = index.size();
        index.put(values[i], v);
      }
      values[i] = v;
    }
    return index.size();
  }

  /**
   * Modularity of a partition (resolution 1).
   *
   * @param community each node's community.
   * @return Q, from -0.5 to 1.
   */
  public double modularity(int[] community) {
    double total = 0;
    int communities = Arrays.stream(community).max().orElse(-1) + 1;
    double[] inside = new double[communities];
    double[] degree = new double[communities];
    for (Map.Entry<Long, Double> e : edges.entrySet()) {
      int a = (int) (e.getKey() >>> 32);
      int b = (int) (long) e.getKey();
      double w = e.getValue();
      total += w;
      degree[community[a]] += w;
      degree[community[b]] += w;
      if (community[a] == community[b]) {
        inside[community[a]] += w;
      }
    }
    if (total == 0) {
      return 0;
    }
    double q = 0;
    for (int c = 0; c < communities; c++) {
      q += inside[c] / total - Math.pow(degree[c] / (2 * total), 2);
    }
    return q;
  }

  /** The graph of the current aggregated nodes. */
  private Level aggregate(int[] nodeOf, int size) {
    Level level = new Level(size, nodeOf);
    Map<Long, Double> between = new HashMap<>();
    for (Map.Entry<Long, Double> e : edges.entrySet()) {
      int a = nodeOf[(int) (e.getKey() >>> 32)];
      int b = nodeOf[(int) (long) e.getKey()];
      double w = e.getValue();
      if (a == b) {
        level.self[a] += w;
        level.degree[a] += 2 * w;
      } else {
        between.merge(key(a, b), w, Double::sum);
        level.degree[a] += w;
        level.degree[b] += w;
      }
      level.total += 2 * w;
    }
    List<List<int[]>> adjacency = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      adjacency.add(new ArrayList<>());
    }
    List<Long> keys = new ArrayList<>(between.keySet());
    keys.sort(null); // deterministic neighbour order
    level.neighbours = new int[size][];
    level.weights = new double[size][];
    List<List<Double>> ws = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      ws.add(new ArrayList<>());
    }
    for (long k : keys) {
      int a = (int) (k >>> 32);
      int b = (int) k;
      double w = between.get(k);
      adjacency.get(a).add(new int[] {b});
      ws.get(a).add(w);
      adjacency.get(b).add(new int[] {a});
      ws.get(b).add(w);
    }
    for (int i = 0; i < size; i++) {
      level.neighbours[i] = adjacency.get(i).stream().mapToInt(x -> x[0]).toArray();
      level.weights[i] = ws.get(i).stream().mapToDouble(Double::doubleValue).toArray();
    }
    for (int i = 0; i < n; i++) {
      level.sizeOf[nodeOf[i]]++;
    }
    return level;
  }

  /** One level of aggregation. */
  private final class Level {
    final int size;
    final int[] originalToNode;
    final double[] self;
    final double[] degree;
    final int[] sizeOf;
    int[][] neighbours;
    double[][] weights;
    double total;

    Level(int size, int[] originalToNode) {
      this.size = size;
      this.originalToNode = originalToNode.clone();
      this.self = new double[size];
      this.degree = new double[size];
      this.sizeOf = new int[size];
    }

    /** Local moving until no node moves; returns each node's community. */
    int[] move(double resolution, Random random) {
      int[] community = new int[size];
      double[] tot = new double[size];
      int[] members = new int[size];
      List<List<Integer>> originals = new ArrayList<>();
      for (int i = 0; i < size; i++) {
        community[i] = i;
        tot[i] = degree[i];
        members[i] = sizeOf[i];
        originals.add(new ArrayList<>());
      }
      for (int o = 0; o < n; o++) {
        originals.get(originalToNode[o]).add(o);
      }
      Integer[] order = new Integer[size];
      for (int i = 0; i < size; i++) {
        order[i] = i;
      }
      java.util.Collections.shuffle(Arrays.asList(order), random);
      double[] toCommunity = new double[size];
      int[] touched = new int[size];
      boolean moved;
      int passes = 0;
      do {
        moved = false;
        for (int i : order) {
          int current = community[i];
          int count = 0;
          for (int e = 0; e < neighbours[i].length; e++) {
            int c = community[neighbours[i][e]];
            if (toCommunity[c] == 0) {
              touched[count++] = c;
            }
            toCommunity[c] += weights[i][e];
          }
          tot[current] -= degree[i];
          members[current] -= sizeOf[i];
          int best = current;
          double bestGain = toCommunity[current] - resolution * tot[current] * degree[i] / Math.max(total, EPSILON);
          for (int t = 0; t < count; t++) {
            int c = touched[t];
            if (c == current) {
              continue;
            }
            double gain = toCommunity[c] - resolution * tot[c] * degree[i] / Math.max(total, EPSILON);
            if (gain > bestGain + EPSILON && (maxSize == 0 || members[c] + sizeOf[i] <= maxSize)
                && allowed(originals.get(i), c, community)) {
              best = c;
              bestGain = gain;
            }
          }
          tot[best] += degree[i];
          members[best] += sizeOf[i];
          community[i] = best;
          if (best != current) {
            moved = true;
          }
          for (int t = 0; t < count; t++) {
            toCommunity[touched[t]] = 0;
          }
        }
        passes++;
      } while (moved && passes < 1_000);
      return community;
    }

    private boolean allowed(List<Integer> originals, int target, int[] community) {
      for (int o : originals) {
        for (int p : apartOf[o]) {
          if (community[originalToNode[p]] == target) {
            return false;
          }
        }
      }
      return true;
    }
  }
}
