package io.cutover.engine.capture.internal;

import io.cutover.engine.db.ApplySessions;
import io.cutover.engine.db.JdbcValues;
import io.cutover.engine.db.RowVersions;
import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.EventCodec;
import io.cutover.engine.event.Operation;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import io.cutover.engine.event.SourcePosition;
import io.cutover.engine.event.Value;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.agrona.ExpandableArrayBuffer;
import org.h2.api.Trigger;

/**
 * The H2 row trigger that trigger capture installs: in the writer's own transaction it encodes the change (both
 * row images, the changed columns) with {@link EventCodec} and inserts it into the change table under the next
 * change sequence number, and records that number as the row's version ({@link RowVersions}). Rows written by
 * Cutover's own apply sessions are skipped (loop prevention).
 */
public final class H2ChangeTrigger implements Trigger {
  private String table;
  private String[] columns;
  private int[] keyIndexes;
  private Side side;
  /** Whether the database keeps row versions (capture installed them; see {@link RowVersions}). */
  private boolean versioned;
  /** One trigger instance serves every session writing the table, concurrently: a buffer per thread. */
  private static final ThreadLocal<ExpandableArrayBuffer> BUFFER =
      ThreadLocal.withInitial(() -> new ExpandableArrayBuffer(256));

  @Override
  public void init(Connection conn, String schemaName, String triggerName, String tableName, boolean before,
      int type) throws SQLException {
    // The trigger's name carries the table's: during ALTER TABLE, H2 initialises the triggers of a temporary copy
    // of the table (ITEM_COPY_21_0, trigger ITEM_COPY_21_0_CUTOVER_CAPTURE_ITEM) that it then renames, so the
    // table name given here can be the copy's.
    String prefix = TriggerSchema.TRIGGER_PREFIX.toUpperCase(java.util.Locale.ROOT);
    int at = triggerName.toUpperCase(java.util.Locale.ROOT).lastIndexOf(prefix);
    this.table = (at >= 0 ? triggerName.substring(at + prefix.length()) : tableName).toLowerCase(java.util.Locale.ROOT);
    List<String> names = new ArrayList<>();
    try (ResultSet rs = conn.getMetaData().getColumns(null, schemaName, tableName, null)) {
      while (rs.next()) {
        names.add(rs.getString("COLUMN_NAME"));
      }
    }
    List<String> keys = new ArrayList<>();
    try (ResultSet rs = conn.getMetaData().getPrimaryKeys(null, schemaName, tableName)) {
      while (rs.next()) {
        keys.add(rs.getString("COLUMN_NAME"));
      }
    }
    columns = names.stream().map(n -> n.toLowerCase(java.util.Locale.ROOT)).toArray(String[]::new);
    keyIndexes = keys.stream().mapToInt(names::indexOf).toArray();
    try (PreparedStatement ps = conn.prepareStatement("SELECT side FROM " + TriggerSchema.CONFIG_TABLE);
         ResultSet rs = ps.executeQuery()) {
      String name = rs.next() ? rs.getString(1) : null;
      side = name == null || name.equals("monolith") ? Side.MONOLITH : Side.service(name);
    }
    try (ResultSet rs = conn.getMetaData().getTables(null, schemaName,
        RowVersions.TABLE.toUpperCase(java.util.Locale.ROOT), null)) {
      versioned = rs.next();
    }
  }

  @Override
  public void fire(Connection conn, Object[] oldRow, Object[] newRow) throws SQLException {
    if (ApplySessions.isApplySession(conn)) {
      return;
    }
    Operation operation = oldRow == null ? Operation.INSERT : newRow == null ? Operation.DELETE : Operation.UPDATE;
    Object[] keySource = newRow != null ? newRow : oldRow;
    Row.Builder key = Row.builder();
    for (int index : keyIndexes) {
      key.put(columns[index], JdbcValues.fromJdbc(columns[index], keySource[index]));
    }
    Row keyRow = key.build();
    ChangeEvent.Builder event = ChangeEvent.builder(side, table, operation)
        .key(keyRow)
        .position(SourcePosition.triggerSequence(0))
        .commitTimeMicros(System.currentTimeMillis() * 1_000L);
    if (oldRow != null) {
      event.before(row(oldRow));
    }
    if (newRow != null) {
      event.after(row(newRow));
    }
    if (operation == Operation.UPDATE) {
      List<String> changed = new ArrayList<>();
      for (int i = 0; i < columns.length; i++) {
        if (!sameValue(oldRow[i], newRow[i])) {
          changed.add(columns[i]);
        }
      }
      event.changedColumns(changed);
    }
    ExpandableArrayBuffer buffer = BUFFER.get();
    int length = EventCodec.encode(event.build(), buffer, 0);
    byte[] bytes = new byte[length];
    buffer.getBytes(0, bytes);
    long seq;
    try (PreparedStatement next = conn.prepareStatement(TriggerSchema.NEXT_SEQ); ResultSet rs = next.executeQuery()) {
      rs.next();
      seq = rs.getLong(1);
    }
    try (PreparedStatement insert = conn.prepareStatement(TriggerSchema.INSERT_CHANGE)) {
      insert.setLong(1, seq);
      insert.setString(2, table);
      insert.setBytes(3, bytes);
      insert.executeUpdate();
    }
    if (versioned) {
      try (PreparedStatement version = conn.prepareStatement(RowVersions.MERGE_H2)) {
        version.setString(1, table);
        version.setString(2, RowVersions.key(keyRow.columns()));
        version.setLong(3, seq);
        version.executeUpdate();
      }
    }
  }

  private Row row(Object[] values) {
    Row.Builder row = Row.builder();
    for (int i = 0; i < columns.length; i++) {
      Value value = JdbcValues.fromJdbc(columns[i], values[i]);
      row.put(columns[i], value);
    }
    return row.build();
  }

  private static boolean sameValue(Object a, Object b) {
    if (a instanceof byte[] x && b instanceof byte[] y) {
      return Arrays.equals(x, y);
    }
    return Objects.equals(a, b);
  }

  @Override
  public void close() {}

  @Override
  public void remove() {}
}
