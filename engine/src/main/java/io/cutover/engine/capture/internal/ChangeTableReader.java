package io.cutover.engine.capture.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.LongSupplier;

/**
 * Reads a change table in sequence order without skipping a change whose transaction commits after one with a
 * higher sequence number (the gap problem): a sequence number not yet visible while a higher one is becomes a
 * gap, and the reader keeps looking for it until it appears or the gap times out (a rolled-back transaction
 * leaves a gap forever). Not thread-safe.
 */
public final class ChangeTableReader {
  /** Receives one change row. */
  @FunctionalInterface
  public interface RowSink {
    /**
     * Called for a change not handed over before.
     *
     * @param seq its sequence number.
     * @param event its encoded change event.
     * @throws SQLException to stop the poll.
     */
    void onChange(long seq, byte[] event) throws SQLException;
  }

  /** Turns one change row (its columns after {@code seq}) into an encoded change event. */
  @FunctionalInterface
  public interface RowDecoder {
    /**
     * Decodes the current row.
     *
     * @param rs the result set, on the row; column 1 is {@code seq}.
     * @return the encoded event.
     * @throws SQLException if a column cannot be read.
     */
    byte[] decode(ResultSet rs) throws SQLException;
  }

  private final long gapTimeoutMillis;
  private final String columns;
  private final RowDecoder decoder;
  private final LongSupplier clock;
  private final int batchSize;
  /** Every sequence number up to this one is handed over or a timed-out gap. */
  private long contiguous;
  /** Handed over, above {@link #contiguous}. */
  private final TreeSet<Long> handedOver = new TreeSet<>();
  /** Not yet seen, below the highest seen; with the time it was first noticed. */
  private final TreeMap<Long, Long> gaps = new TreeMap<>();
  private long highestSeen;

  /**
   * Creates a reader.
   *
   * @param startAfter the last sequence number durably handled before (0 for none).
   * @param gapTimeoutMillis how long to wait for a missing sequence number.
   * @param batchSize the most rows read in one poll.
   * @param clock milliseconds.
   */
  public ChangeTableReader(long startAfter, long gapTimeoutMillis, int batchSize, LongSupplier clock) {
    this(startAfter, gapTimeoutMillis, batchSize, clock, "event", rs -> rs.getBytes(2));
  }

  /**
   * Creates a reader of a change table whose rows are decoded from other columns.
   *
   * @param startAfter the last sequence number durably handled before (0 for none).
   * @param gapTimeoutMillis how long to wait for a missing sequence number.
   * @param batchSize the most rows read in one poll.
   * @param clock milliseconds.
   * @param columns the columns read after {@code seq}, as SQL.
   * @param decoder turns a row into an encoded change event.
   */
  public ChangeTableReader(long startAfter, long gapTimeoutMillis, int batchSize, LongSupplier clock, String columns,
      RowDecoder decoder) {
    this.columns = columns;
    this.decoder = decoder;
    this.contiguous = startAfter;
    this.highestSeen = startAfter;
    this.gapTimeoutMillis = gapTimeoutMillis;
    this.batchSize = batchSize;
    this.clock = clock;
  }

  /**
   * Hands over every change committed and not handed over yet (at most one batch).
   *
   * @param connection a connection to the captured database.
   * @param sink receives the changes in sequence order.
   * @return how many were handed over.
   * @throws SQLException if reading fails.
   */
  public int poll(Connection connection, RowSink sink) throws SQLException {
    int count = 0;
    long now = clock.getAsLong();
    try (PreparedStatement ps = connection.prepareStatement("SELECT seq, " + columns + " FROM "
        + TriggerSchema.CHANGE_TABLE + " WHERE seq > ? ORDER BY seq")) {
      ps.setLong(1, contiguous);
      ps.setMaxRows(batchSize + handedOver.size());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next() && count < batchSize) {
          long seq = rs.getLong(1);
          if (handedOver.contains(seq)) {
            continue;
          }
          for (long missing = highestSeen + 1; missing < seq; missing++) {
            gaps.putIfAbsent(missing, now);
          }
          gaps.remove(seq);
          highestSeen = Math.max(highestSeen, seq);
          sink.onChange(seq, decoder.decode(rs));
          handedOver.add(seq);
          count++;
        }
      }
    }
    advance(now);
    return count;
  }

  private void advance(long now) {
    while (true) {
      long next = contiguous + 1;
      if (handedOver.remove(next)) {
        contiguous = next;
        continue;
      }
      Long noticed = gaps.get(next);
      if (noticed != null && now - noticed >= gapTimeoutMillis) {
        gaps.remove(next);
        contiguous = next;
        continue;
      }
      return;
    }
  }

  /**
   * Every sequence number up to this one is handed over (or a gap given up on).
   *
   * @return a sequence number.
   */
  public long contiguous() {
    return contiguous;
  }

}
