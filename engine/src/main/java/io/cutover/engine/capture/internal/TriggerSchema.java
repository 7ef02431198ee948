package io.cutover.engine.capture.internal;

/** Names and statements of trigger capture's objects in a captured database. */
public final class TriggerSchema {
  /** The change table: one row per captured change, in sequence order. */
  public static final String CHANGE_TABLE = "cutover_changes";
  /** The sequence that orders the change table. */
  public static final String SEQUENCE = "cutover_change_seq";
  /** One row: the side this database is, and the last change sequence number made durable in the journal. */
  public static final String CONFIG_TABLE = "cutover_capture_state";
  /** The prefix of every trigger Cutover installs. */
  public static final String TRIGGER_PREFIX = "cutover_capture_";

  static final String NEXT_SEQ = "SELECT NEXT VALUE FOR " + SEQUENCE;
  static final String INSERT_CHANGE = "INSERT INTO " + CHANGE_TABLE + " (seq, tbl, event) VALUES (?, ?, ?)";

  private TriggerSchema() {}
}
