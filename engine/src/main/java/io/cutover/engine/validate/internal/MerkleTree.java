package io.cutover.engine.validate.internal;

import io.cutover.engine.event.XxHash64;
import java.util.Arrays;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A Merkle tree over one table's primary-key space: {@code 2^depth} leaves, each a bucket of the rows whose key
 * hash falls in it, summarised as the row count and the sums of both 128-bit row-hash lanes. Sums make a leaf
 * order-independent and updatable in place: adding or removing a row changes it without a rescan. Inner nodes
 * hash their two children; two trees are compared from the root down, visiting only differing subtrees. Memory
 * is fixed by the depth (24 bytes per leaf, 8 per node), whatever the table's size. Not thread-safe.
 */
public final class MerkleTree {
  /** The deepest tree allowed (16 M leaves). */
  public static final int MAX_DEPTH = 24;
  private final int depth;
  private final long[] counts;
  private final long[] laneA;
  private final long[] laneB;
  private final long[] nodes;
  private final UnsafeBuffer scratch = new UnsafeBuffer(new byte[24]);
  private boolean dirty = true;

  /**
   * An empty tree.
   *
   * @param depth 1 to {@link #MAX_DEPTH}: the tree has {@code 2^depth} leaves.
   * @throws IllegalArgumentException naming the depth when out of range.
   */
  public MerkleTree(int depth) {
    if (depth < 1 || depth > MAX_DEPTH) {
      throw new IllegalArgumentException("tree depth must be 1 to " + MAX_DEPTH + ", was " + depth);
    }
    this.depth = depth;
    int leaves = 1 << depth;
    counts = new long[leaves];
    laneA = new long[leaves];
    laneB = new long[leaves];
    nodes = new long[2 * leaves];
  }

  /**
   * The leaf a key hash falls in (its top bits).
   *
   * @param keyHash from {@link RowHasher#keyHash}.
   * @return 0 to {@code 2^depth - 1}.
   */
  public int leaf(long keyHash) {
    return (int) (keyHash >>> (64 - depth));
  }

  /**
   * Adds a row.
   *
   * @param keyHash the key's hash.
   * @param a lane A of the row's hash.
   * @param b lane B of the row's hash.
   */
  public void add(long keyHash, long a, long b) {
    int leaf = leaf(keyHash);
    counts[leaf]++;
    laneA[leaf] += a;
    laneB[leaf] += b;
    dirty = true;
  }

  /**
   * Removes a row added before (its old version, when a change replaces it).
   *
   * @param keyHash the key's hash.
   * @param a lane A of the row's hash.
   * @param b lane B of the row's hash.
   */
  public void remove(long keyHash, long a, long b) {
    int leaf = leaf(keyHash);
    counts[leaf]--;
    laneA[leaf] -= a;
    laneB[leaf] -= b;
    dirty = true;
  }

  /**
   * A tree whose leaves are this tree's minus another's (counts and both lanes), for a difference tree that is
   * all zeros exactly when the two trees are equal.
   *
   * @param other a tree of the same depth.
   * @return a new tree.
   */
  public MerkleTree minus(MerkleTree other) {
    if (other.depth != depth) {
      throw new IllegalArgumentException("trees of depth " + depth + " and " + other.depth + " cannot be subtracted");
    }
    MerkleTree out = new MerkleTree(depth);
    for (int leaf = 0; leaf < counts.length; leaf++) {
      out.counts[leaf] = counts[leaf] - other.counts[leaf];
      out.laneA[leaf] = laneA[leaf] - other.laneA[leaf];
      out.laneB[leaf] = laneB[leaf] - other.laneB[leaf];
    }
    return out;
  }

  /**
   * The depth.
   *
   * @return the depth.
   */
  public int depth() {
    return depth;
  }

  /**
   * The rows in a leaf.
   *
   * @param leaf a leaf.
   * @return the count.
   */
  public long count(int leaf) {
    return counts[leaf];
  }

  /**
   * The rows in the tree.
   *
   * @return the count.
   */
  public long rows() {
    long sum = 0;
    for (long count : counts) {
      sum += count;
    }
    return sum;
  }

  /**
   * The root hash: equal trees have equal roots.
   *
   * @return 64 bits.
   */
  public long root() {
    build();
    return nodes[1];
  }

  /**
   * The leaves where two trees differ, found from the root down.
   *
   * @param other a tree of the same depth.
   * @return the differing leaves, ascending.
   * @throws IllegalArgumentException if the depths differ.
   */
  public int[] differingLeaves(MerkleTree other) {
    if (other.depth != depth) {
      throw new IllegalArgumentException("trees of depth " + depth + " and " + other.depth + " cannot be compared");
    }
    build();
    other.build();
    int[] out = new int[16];
    int found = 0;
    int[] stack = new int[2 * depth + 2];
    int top = 0;
    stack[top++] = 1;
    int leaves = 1 << depth;
    while (top > 0) {
      int node = stack[--top];
      if (nodes[node] == other.nodes[node] && !leafDiffers(node, other)) {
        continue;
      }
      if (node >= leaves) {
        int leaf = node - leaves;
        if (counts[leaf] != other.counts[leaf] || laneA[leaf] != other.laneA[leaf]
            || laneB[leaf] != other.laneB[leaf]) {
          if (found == out.length) {
            out = Arrays.copyOf(out, found * 2);
          }
          out[found++] = leaf;
        }
      } else {
        stack[top++] = 2 * node + 1;
        stack[top++] = 2 * node;
      }
    }
    int[] leavesFound = Arrays.copyOf(out, found);
    Arrays.sort(leavesFound);
    return leavesFound;
  }

  /** Leaves are compared exactly (not only by their 64-bit node hash). */
  private boolean leafDiffers(int node, MerkleTree other) {
    int leaves = 1 << depth;
    if (node < leaves) {
      return false;
    }
    int leaf = node - leaves;
    return counts[leaf] != other.counts[leaf] || laneA[leaf] != other.laneA[leaf] || laneB[leaf] != other.laneB[leaf];
  }

  private void build() {
    if (!dirty) {
      return;
    }
    int leaves = 1 << depth;
    for (int leaf = 0; leaf < leaves; leaf++) {
      scratch.putLong(0, counts[leaf]);
      scratch.putLong(8, laneA[leaf]);
      scratch.putLong(16, laneB[leaf]);
      nodes[leaves + leaf] = XxHash64.hash(scratch, 0, 24, depth);
    }
    for (int node = leaves - 1; node >= 1; node--) {
      scratch.putLong(0, nodes[2 * node]);
      scratch.putLong(8, nodes[2 * node + 1]);
      nodes[node] = XxHash64.hash(scratch, 0, 16, node);
    }
    dirty = false;
  }
}
