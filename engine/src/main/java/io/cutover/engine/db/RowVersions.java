package io.cutover.engine.db;

import io.cutover.engine.event.Value;
import io.cutover.engine.event.ValueType;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Row versions: on a database captured by triggers (H2, or PostgreSQL's trigger capture), the capture trigger
 * also records, per row, the change
 * sequence number of the application's last change to it, in the same transaction. Sync's writes to that side
 * set a column only where the row's version is one sync has already reconciled: a row the application changed
 * since is left alone, however its values compare (its change is on the way and is reconciled when it arrives).
 * Comparing values alone cannot tell the application's write of a value from sync's write of the same value, so
 * a write could overwrite an application's newer value when the two happened to be equal (the ABA race).
 *
 * <p>One row per application row ever changed: its table, its key in a canonical text form, and the sequence
 * number. Dropped with the rest of capture's objects by {@code cutover cleanup}.
 */
public final class RowVersions {
  /** The version table. */
  public static final String TABLE = "cutover_row_versions";
  /** Its definition. */
  public static final String CREATE = "CREATE TABLE IF NOT EXISTS " + TABLE + " (table_name VARCHAR(128) NOT NULL,"
      + " row_key VARCHAR(1024) NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY (table_name, row_key))";
  /** The trigger's statement: table, key, sequence number. */
  public static final String MERGE_H2 = "MERGE INTO " + TABLE + " (table_name, row_key, seq) KEY (table_name, row_key)"
      + " VALUES (?, ?, ?)";
  /**
   * A condition that holds when the row's last application change is at or before a sequence number; its
   * parameters are the table, the key and that number.
   */
  public static final String AT_MOST = "COALESCE((SELECT seq FROM " + TABLE
      + " WHERE table_name = ? AND row_key = ?), 0) <= ?";

  private RowVersions() {}

  /**
   * A row's key in the version table's canonical text form: the key columns by name (lower case), each as
   * {@code name=value}, separated by a unit separator, so a key reads the same whichever side's types carried it.
   * PostgreSQL's trigger function builds the same text from the row's JSON: integer, text and UUID keys read
   * alike; a key of another type finds no version, and the write falls back to its value conditions.
   *
   * @param key the key columns, in the captured table's names.
   * @return the text.
   */
  public static String key(Map<String, Value> key) {
    Map<String, Value> sorted = new TreeMap<>();
    key.forEach((name, value) -> sorted.put(name.toLowerCase(Locale.ROOT), value));
    StringBuilder text = new StringBuilder();
    for (Map.Entry<String, Value> column : sorted.entrySet()) {
      if (text.length() > 0) {
        text.append('\u001f');
      }
      text.append(column.getKey()).append('=').append(text(column.getValue()));
    }
    return text.toString();
  }

  private static String text(Value value) {
    return switch (value.type()) {
      case INT -> Long.toString(value.asLong());
      case STRING -> value.asString();
      case DECIMAL -> value.asDecimal().stripTrailingZeros().toPlainString();
      default -> value.type() == ValueType.NULL ? "" : value.toString();
    };
  }
}
