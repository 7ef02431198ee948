package io.cutover.engine.validate;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import javax.sql.DataSource;

/**
 * Proves that the pipeline has caught up with the databases: writes a mark no one else uses into a captured
 * table on every captured side, and waits for the marks to pass the checksum stage ({@link ChangeClock#expectMark}).
 * Once they have, every change either side committed before its mark has been applied, whatever the lag was: the
 * barrier eventual validation waits for before calling a difference a discrepancy.
 *
 * <p>Each side needs the mark table ({@code id INT PRIMARY KEY, mark VARCHAR(80)}) with this barrier's row, and its
 * capture must capture that table. Thread-safe.
 */
public final class PipelineMarks {
  private final ChangeClock clock;
  private final String table;
  private final int row;
  private final List<DataSource> sides;

  /**
   * A barrier over some sides.
   *
   * @param clock the checksum stage's clock, which sees the marks pass.
   * @param table the mark table (the same name on every side).
   * @param row the row this barrier writes (one per barrier, so two barriers never overwrite each other's mark).
   * @param sides every side whose capture feeds the pipeline (the monolith, and a service synced back).
   */
  public PipelineMarks(ChangeClock clock, String table, int row, List<DataSource> sides) {
    this.clock = Objects.requireNonNull(clock, "clock");
    this.table = Objects.requireNonNull(table, "table");
    this.row = row;
    this.sides = List.copyOf(sides);
    if (this.sides.isEmpty()) {
      throw new IllegalArgumentException("pipeline marks need at least one side");
    }
  }

  /** Marks written and not yet known to have passed. */
  public static final class Pending {
    private final long writtenMillis;
    private final List<String> marks;
    private final CompletableFuture<Void> passed;

    private Pending(long writtenMillis, List<String> marks, CompletableFuture<Void> passed) {
      this.writtenMillis = writtenMillis;
      this.marks = marks;
      this.passed = passed;
    }

    /**
     * When the marks were written.
     *
     * @return milliseconds since the epoch.
     */
    public long writtenMillis() {
      return writtenMillis;
    }

    /**
     * Completes once every mark has passed the checksum stage.
     *
     * @return the future.
     */
    public CompletableFuture<Void> passed() {
      return passed;
    }
  }

  /**
   * Writes one mark on every side (each in its own transaction).
   *
   * @return the marks, to wait for.
   * @throws SQLException if a side cannot be written (its mark row is missing, the database is down, ...).
   */
  public Pending write() throws SQLException {
    List<String> marks = new ArrayList<>();
    List<CompletableFuture<Long>> futures = new ArrayList<>();
    String id = UUID.randomUUID().toString();
    for (int i = 0; i < sides.size(); i++) {
      String mark = "validate:" + row + ":" + i + ":" + id;
      marks.add(mark);
      futures.add(clock.expectMark(table, mark)); // watched before written: the mark cannot pass unseen
    }
    long written = System.currentTimeMillis();
    Pending pending = new Pending(written, marks, CompletableFuture.allOf(futures.toArray(new CompletableFuture[0])));
    try {
      for (int i = 0; i < sides.size(); i++) {
        try (Connection c = sides.get(i).getConnection();
             PreparedStatement st = c.prepareStatement("UPDATE " + table + " SET " + ChangeClock.MARK_COLUMN
                 + " = ? WHERE id = ?")) {
          c.setAutoCommit(true);
          st.setString(1, marks.get(i));
          st.setInt(2, row);
          if (st.executeUpdate() != 1) {
            throw new SQLException("the validation mark row " + row + " of " + table + " is missing on side " + i
                + " (" + c.getMetaData().getURL() + "): start the migration again to install it");
          }
        }
      }
    } catch (SQLException | RuntimeException e) {
      forget(pending);
      throw e;
    }
    return pending;
  }

  /**
   * Stops watching for marks given up on.
   *
   * @param pending the marks.
   */
  public void forget(Pending pending) {
    pending.marks.forEach(clock::forgetMark);
  }
}
