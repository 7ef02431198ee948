package io.cutover.engine.capture.internal;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cutover.engine.analysis.Schema;
import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.EventCodec;
import io.cutover.engine.event.Operation;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import io.cutover.engine.event.Value;
import java.math.BigDecimal;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Trigger capture on PostgreSQL: the trigger function and the decoding of its change rows. The trigger stores each
 * row image as {@code to_jsonb(OLD/NEW)}; the capture turns the JSON back into typed values by the column types
 * the catalog gives, with the same canonical types the other capture paths produce (instants for
 * {@code timestamptz}, wall clocks for {@code timestamp}, exact decimals, UUIDs, JSON). Not thread-safe: the
 * capture thread owns it.
 */
public final class PgChangeRows {
  /**
   * The trigger function, installed in {@code schema}: skips Cutover's own apply sessions (no echo), records the
   * change in the writer's transaction, and the row's version ({@link io.cutover.engine.db.RowVersions}). It runs
   * as its owner (Cutover's role, {@code SECURITY DEFINER}) with a fixed {@code search_path} and qualified names,
   * so an application role needs no privilege on Cutover's tables and cannot redirect its writes; Cutover's
   * sessions are told apart by their replication origin, which an application role cannot set up.
   *
   * @param schema the schema of Cutover's tables (the installing session's current schema).
   * @return the statements creating the function and taking it from {@code PUBLIC}.
   */
  public static java.util.List<String> function(String schema) {
    String q = io.cutover.engine.db.RowVersions.quote(schema) + ".";
    String name = q + "cutover_capture()";
    return java.util.List.of("CREATE OR REPLACE FUNCTION " + name + " RETURNS trigger "
        + "LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$ DECLARE s BIGINT; r JSONB; "
        + "BEGIN " + io.cutover.engine.db.RowVersions.PG_SKIP_APPLY
        + "s := nextval('" + q.replace("'", "''") + TriggerSchema.SEQUENCE + "'); "
        + "INSERT INTO " + q + TriggerSchema.CHANGE_TABLE + " (seq, tbl, op, old_row, new_row, at_micros, xid) VALUES ("
        + "s, TG_TABLE_NAME, left(TG_OP, 1), "
        + "CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END, CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END, "
        + "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint, txid_current()); "
        // the row's version, under its key's text: the key's columns are the trigger's arguments
        + io.cutover.engine.db.RowVersions.pgRecordSequence(q)
        + "RETURN NULL; END $$",
        "REVOKE ALL ON FUNCTION " + name + " FROM PUBLIC");
  }

  /** The change table. */
  public static final String CHANGE_TABLE = "CREATE TABLE IF NOT EXISTS " + TriggerSchema.CHANGE_TABLE
      + " (seq BIGINT PRIMARY KEY, tbl VARCHAR(128) NOT NULL, op CHAR(1) NOT NULL, old_row JSONB, new_row JSONB, "
      + "at_micros BIGINT NOT NULL, xid BIGINT NOT NULL)";
  /** The columns the reader reads after {@code seq}. */
  public static final String COLUMNS = "tbl, op, old_row::text, new_row::text, at_micros, xid";
  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
  private static final LocalDateTime EPOCH = LocalDateTime.of(1970, 1, 1, 0, 0);
  private final Side side;
  private final Map<String, Schema.Table> tables;
  private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[64 * 1024]);

  /**
   * A decoder for the captured tables.
   *
   * @param side the captured side.
   * @param tables the captured tables' columns and keys, by name.
   */
  public PgChangeRows(Side side, Map<String, Schema.Table> tables) {
    this.side = side;
    this.tables = tables;
  }

  /**
   * Decodes the current change row into an encoded change event.
   *
   * @param rs the reader's result set ({@link #COLUMNS} after {@code seq}).
   * @return the encoded event (position and clock are stamped by the capture).
   * @throws SQLException if a column cannot be read or a value cannot be decoded.
   */
  public byte[] decode(ResultSet rs) throws SQLException {
    String tableName = rs.getString(2);
    Schema.Table table = tables.get(tableName);
    if (table == null) {
      throw new SQLException("change of table " + tableName + ", which this capture does not know");
    }
    Operation op = switch (rs.getString(3)) {
      case "I" -> Operation.INSERT;
      case "U" -> Operation.UPDATE;
      case "D" -> Operation.DELETE;
      default -> throw new SQLException("unknown change kind '" + rs.getString(3) + "'");
    };
    Row before = row(table, rs.getString(4));
    Row after = row(table, rs.getString(5));
    Row image = after != null ? after : before;
    Row.Builder key = Row.builder();
    for (String column : table.primaryKey()) {
      Value v = image.get(column);
      if (v == null) {
        throw new SQLException("change of " + tableName + " lacks key column " + column);
      }
      key.put(column, v);
    }
    ChangeEvent.Builder event = ChangeEvent.builder(side, tableName, op).key(key.build())
        .commitTimeMicros(rs.getLong(6)).transactionId(Long.toString(rs.getLong(7)))
        .position(io.cutover.engine.event.SourcePosition.triggerSequence(rs.getLong(1)));
    if (before != null) {
      event.before(before);
    }
    if (before != null && after != null) {
      java.util.List<String> changed = new java.util.ArrayList<>();
      for (String column : after.names()) {
        if (!java.util.Objects.equals(before.get(column), after.get(column))) {
          changed.add(column);
        }
      }
      event.changedColumns(changed);
    }
    if (after != null) {
      event.after(after);
    }
    ChangeEvent built = event.build();
    int length;
    while (true) {
      try {
        length = EventCodec.encode(built, buffer, 0);
        break;
      } catch (IndexOutOfBoundsException tooSmall) {
        buffer.wrap(new byte[buffer.capacity() * 2]);
      }
    }
    byte[] out = new byte[length];
    buffer.getBytes(0, out);
    return out;
  }

  private static Row row(Schema.Table table, String json) throws SQLException {
    if (json == null) {
      return null;
    }
    JsonNode node;
    try {
      node = JSON.readTree(json);
    } catch (java.io.IOException e) {
      throw new SQLException("change row of " + table.name() + " is not JSON: " + e.getMessage(), e);
    }
    Row.Builder row = Row.builder();
    for (Schema.Column column : table.columns()) { // in the table's order (jsonb sorts its keys)
      JsonNode value = node.get(column.name());
      if (value != null) {
        row.put(column.name(), value(column.type().toLowerCase(Locale.ROOT), value, table.name(), column.name()));
      }
    }
    Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> field = fields.next();
      if (table.column(field.getKey()) == null) { // a column added since the capture read the catalog
        row.put(field.getKey(), value("", field.getValue(), table.name(), field.getKey()));
      }
    }
    return row.build();
  }

  /**
   * A JSON value of a column as the canonical {@link Value}.
   *
   * @param type the column's type name (lower case).
   * @param v the JSON value.
   * @param table the table, for errors.
   * @param column the column, for errors.
   * @return the value.
   * @throws SQLException naming the column when the value does not parse.
   */
  static Value value(String type, JsonNode v, String table, String column) throws SQLException {
    if (v == null || v.isNull()) {
      return Value.NULL;
    }
    try {
      return switch (type) {
        case "int2", "int4", "int8", "serial", "bigserial", "smallserial", "smallint", "integer", "bigint" ->
            Value.of(v.asLong());
        case "float4", "float8", "real", "double precision" -> Value.of(v.asDouble());
        case "numeric", "decimal" -> Value.of(v.isNumber() ? v.decimalValue() : new BigDecimal(v.asText()));
        case "bool", "boolean" -> Value.of(v.asBoolean());
        case "date" -> Value.date((int) LocalDate.parse(v.asText()).toEpochDay());
        case "timestamp" -> Value.localTimestampMicros(ChronoUnit.MICROS.between(EPOCH,
            LocalDateTime.parse(v.asText())));
        case "timestamptz" -> Value.timestampMicros(Value.epochMicros(
            OffsetDateTime.parse(v.asText()).toInstant()));
        case "uuid" -> Value.of(UUID.fromString(v.asText()));
        case "json", "jsonb" -> Value.json(v.toString());
        case "bytea" -> Value.of(HexFormat.of().parseHex(v.asText().substring(2)));
        default -> Value.of(v.isTextual() ? v.asText() : v.toString());
      };
    } catch (RuntimeException e) {
      throw new SQLException("value of " + table + "." + column + " (" + type + ") cannot be read: " + e.getMessage(),
          e);
    }
  }
}
