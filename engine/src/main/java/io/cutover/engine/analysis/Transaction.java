package io.cutover.engine.analysis;

import java.util.Objects;
import java.util.Set;

/**
 * One kind of transaction the application runs, from an access log: the tables it reads and writes, and how
 * often it ran.
 *
 * @param id an identifier (a transaction name, a statement id).
 * @param reads tables only read.
 * @param writes tables written.
 * @param count how many times it ran (at least 1).
 */
public record Transaction(String id, Set<String> reads, Set<String> writes, long count) {

  /** Copies the sets, checks the count. */
  public Transaction {
    Objects.requireNonNull(id, "transaction id");
    reads = Set.copyOf(reads);
    writes = Set.copyOf(writes);
    if (count < 1) {
      throw new IllegalArgumentException("transaction " + id + " has count " + count + "; it must be at least 1");
    }
  }

  /**
   * Every table the transaction touches.
   *
   * @return reads and writes together.
   */
  public Set<String> tables() {
    java.util.Set<String> all = new java.util.TreeSet<>(reads);
    all.addAll(writes);
    return all;
  }
}
