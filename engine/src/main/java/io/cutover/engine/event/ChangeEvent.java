package io.cutover.engine.event;

import java.util.List;
import java.util.Objects;

/**
 * One change to one row. Immutable and thread-safe.
 *
 * @param side the database the change came from; never null.
 * @param table the logical table; never empty.
 * @param operation what happened; never null.
 * @param key the primary-key columns; never empty.
 * @param before the row before the change, or null when unknown (always null for INSERT and SNAPSHOT_READ).
 * @param after the row after the change; null for DELETE, never null otherwise.
 * @param changedColumns for UPDATE, the columns that changed; empty means unknown (treat all as changed).
 * @param position where the change sits in its source; never null.
 * @param transactionId the source transaction id, or empty.
 * @param commitTimeMicros the source commit time in microseconds since the epoch, or 0 when unknown.
 * @param hlc the hybrid-logical-clock timestamp (see {@link io.cutover.engine.clock.HybridLogicalClock}); 0
 *     means "not stamped yet": the pipeline stamps it on publish.
 * @param origin empty for an application write; Cutover's origin tag for a change Cutover itself applied.
 */
public record ChangeEvent(
    Side side,
    String table,
    Operation operation,
    Row key,
    Row before,
    Row after,
    List<String> changedColumns,
    SourcePosition position,
    String transactionId,
    long commitTimeMicros,
    long hlc,
    String origin) {

  /**
   * The origin tag of a repair made by validation: a change that carries the winning side's whole row (or its
   * delete), which sync writes to the other side unconditionally.
   */
  public static final String ORIGIN_REPAIR = "cutover-repair";

  /** Validates the event; the message names the field that is wrong. */
  public ChangeEvent {
    Objects.requireNonNull(side, "change event side");
    Objects.requireNonNull(operation, "change event operation");
    if (table == null || table.isEmpty()) {
      throw new IllegalArgumentException("change event table must not be empty");
    }
    if (key == null || key.size() == 0) {
      throw new IllegalArgumentException("change event for table " + table + " has no primary-key columns");
    }
    if (operation == Operation.DELETE && after != null) {
      throw new IllegalArgumentException("DELETE on table " + table + " must not carry an after image");
    }
    if (operation != Operation.DELETE && after == null) {
      throw new IllegalArgumentException(operation + " on table " + table + " needs an after image");
    }
    if ((operation == Operation.INSERT || operation == Operation.SNAPSHOT_READ) && before != null) {
      throw new IllegalArgumentException(operation + " on table " + table + " must not carry a before image");
    }
    changedColumns = changedColumns == null ? List.of() : List.copyOf(changedColumns);
    position = position == null ? SourcePosition.NONE : position;
    transactionId = transactionId == null ? "" : transactionId;
    origin = origin == null ? "" : origin;
  }

  /**
   * Starts an event.
   *
   * @param side where it came from.
   * @param table the logical table.
   * @param operation what happened.
   * @return a builder.
   */
  public static Builder builder(Side side, String table, Operation operation) {
    return new Builder(side, table, operation);
  }

  /**
   * A copy with another hybrid-logical-clock timestamp.
   *
   * @param newHlc the timestamp.
   * @return the copy.
   */
  public ChangeEvent withHlc(long newHlc) {
    return new ChangeEvent(side, table, operation, key, before, after, changedColumns, position, transactionId,
        commitTimeMicros, newHlc, origin);
  }

  /** Builds a {@link ChangeEvent}. Not thread-safe. */
  public static final class Builder {
    private final Side side;
    private final String table;
    private final Operation operation;
    private Row key;
    private Row before;
    private Row after;
    private List<String> changedColumns = List.of();
    private SourcePosition position = SourcePosition.NONE;
    private String transactionId = "";
    private long commitTimeMicros;
    private long hlc;
    private String origin = "";

    private Builder(Side side, String table, Operation operation) {
      this.side = side;
      this.table = table;
      this.operation = operation;
    }

    /**
     * Sets the primary key.
     *
     * @param value the key columns.
     * @return this builder.
     */
    public Builder key(Row value) {
      this.key = value;
      return this;
    }

    /**
     * Sets the before image.
     *
     * @param value the row, or null.
     * @return this builder.
     */
    public Builder before(Row value) {
      this.before = value;
      return this;
    }

    /**
     * Sets the after image.
     *
     * @param value the row, or null.
     * @return this builder.
     */
    public Builder after(Row value) {
      this.after = value;
      return this;
    }

    /**
     * Sets the changed columns.
     *
     * @param value the names.
     * @return this builder.
     */
    public Builder changedColumns(List<String> value) {
      this.changedColumns = value;
      return this;
    }

    /**
     * Sets the source position.
     *
     * @param value the position.
     * @return this builder.
     */
    public Builder position(SourcePosition value) {
      this.position = value;
      return this;
    }

    /**
     * Sets the source transaction id.
     *
     * @param value the id.
     * @return this builder.
     */
    public Builder transactionId(String value) {
      this.transactionId = value;
      return this;
    }

    /**
     * Sets the commit time.
     *
     * @param value microseconds since the epoch.
     * @return this builder.
     */
    public Builder commitTimeMicros(long value) {
      this.commitTimeMicros = value;
      return this;
    }

    /**
     * Sets the hybrid-logical-clock timestamp.
     *
     * @param value the timestamp.
     * @return this builder.
     */
    public Builder hlc(long value) {
      this.hlc = value;
      return this;
    }

    /**
     * Sets the origin tag.
     *
     * @param value the tag.
     * @return this builder.
     */
    public Builder origin(String value) {
      this.origin = value;
      return this;
    }

    /**
     * Validates and builds.
     *
     * @return the event.
     */
    public ChangeEvent build() {
      return new ChangeEvent(side, table, operation, key, before, after, changedColumns, position, transactionId,
          commitTimeMicros, hlc, origin);
    }
  }
}
