package io.cutover.engine.apply;

import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;

/**
 * One write sync makes to one side, in the monolith's table and column names (the side's writer maps them).
 * Writes are conditional so that replaying a batch after a crash, or racing an application write the engine has
 * not captured yet, never overwrites a newer value: the captured change arrives next and is reconciled.
 *
 * @param side the side written.
 * @param table the monolith's table.
 * @param type what to do.
 * @param key the primary key.
 * @param values UPDATE: the columns to set; INSERT, UPSERT: the whole row; DELETE: unused (null).
 * @param expected UPDATE, DELETE: the values the side should hold now (null: no condition).
 * @param deltas UPDATE: counter columns, each incremented by its value ({@code c = c + delta}) whatever value the
 *     side holds, so concurrent changes on that side are never overwritten (null or empty: none).
 * @param seen on a side that keeps row versions (all but the operator's UPSERT and FORCE_DELETE): the last of the
 *     side's changes to the row that sync has reconciled; the values are set, the deltas added (the row deleted,
 *     inserted) only if the side has not changed the row since ({@link io.cutover.engine.db.RowVersions}); that
 *     change, once reconciled, is answered with what it lacks. -1: no such condition.
 */
public record Write(Side side, String table, Type type, Row key, Row values, Row expected, Row deltas, long seen) {

  /** No row version condition. */
  public static final long UNSEEN = -1;

  /**
   * A write without a row version condition.
   *
   * @param side the side written.
   * @param table the monolith's table.
   * @param type what to do.
   * @param key the primary key.
   * @param values the values.
   * @param expected the expected values.
   * @param deltas the counter deltas.
   */
  public Write(Side side, String table, Type type, Row key, Row values, Row expected, Row deltas) {
    this(side, table, type, key, values, expected, deltas, UNSEEN);
  }

  /**
   * The same write, set only where the side has not changed the row since the given change.
   *
   * @param position the side's last change to the row that sync has reconciled.
   * @return the write.
   */
  public Write seen(long position) {
    return new Write(side, table, type, key, values, expected, deltas, position);
  }

  /**
   * A write without counter deltas.
   *
   * @param side the side written.
   * @param table the monolith's table.
   * @param type what to do.
   * @param key the primary key.
   * @param values the values.
   * @param expected the expected values.
   */
  public Write(Side side, String table, Type type, Row key, Row values, Row expected) {
    this(side, table, type, key, values, expected, null, UNSEEN);
  }

  /** What a write does. */
  public enum Type {
    /** Adds the counter deltas, and sets the other columns where the row still holds the expected values. A
     *  missing row is left missing: its delete is on the way and is reconciled when it arrives. */
    UPDATE,
    /** Inserts the row unless one with its key exists. */
    INSERT,
    /** Deletes the row if it still holds the expected values. */
    DELETE,
    /** Inserts or overwrites unconditionally (an operator's decision). */
    UPSERT,
    /** Deletes unconditionally (an operator's decision). */
    FORCE_DELETE,
    /** Inserts the row unless one with its key exists, without counting as a value sync sent: it fills in a row
     *  sync had never seen (copied by an online backfill later, or not at all when the change beat the copy), next
     *  to the update that finds it missing. */
    INSERT_MISSING
  }
}
