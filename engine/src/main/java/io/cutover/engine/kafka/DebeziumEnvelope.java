package io.cutover.engine.kafka;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.EventCodec;
import io.cutover.engine.event.Operation;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import io.cutover.engine.event.SourcePosition;
import io.cutover.engine.event.Value;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.Iterator;
import java.util.Map;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Change events as Debezium's JSON envelope (schemas disabled): {@code before}, {@code after}, {@code source}
 * (connector, db, table, position, transaction id, {@code ts_ms}), {@code op} ({@code c u d r}) and {@code ts_ms},
 * values written as Debezium writes them (dates as days, {@code timestamp} as epoch microseconds,
 * {@code timestamptz} as ISO strings, decimals as strings, bytes as base64). Cutover's own fields travel in a
 * {@code cutover} object Debezium consumers ignore: the side, the hybrid clock, the origin and the exact event,
 * so a Cutover consumer reads its own topics losslessly. Foreign (Debezium-written) envelopes are read by value:
 * integers, exact decimals, text, booleans, JSON; the appliers convert them to the target columns' types.
 * Stateless.
 */
public final class DebeziumEnvelope {
  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

  private DebeziumEnvelope() {}

  /**
   * The record key: the key columns as a JSON object, as Debezium keys its records.
   *
   * @param event the change.
   * @return UTF-8 JSON.
   */
  public static byte[] key(ChangeEvent event) {
    return row(event.key()).toString().getBytes(StandardCharsets.UTF_8);
  }

  /**
   * The record value: the envelope.
   *
   * @param event the change.
   * @param database the source database's name, for {@code source.db}.
   * @return UTF-8 JSON.
   */
  public static byte[] value(ChangeEvent event, String database) {
    ObjectNode root = JsonNodeFactory.instance.objectNode();
    root.set("before", event.before() == null ? null : row(event.before()));
    root.set("after", event.after() == null ? null : row(event.after()));
    ObjectNode source = root.putObject("source");
    source.put("version", "cutover");
    source.put("connector", "cutover");
    source.put("name", event.side().isMonolith() ? "monolith" : event.side().service());
    source.put("db", database);
    source.put("table", event.table());
    source.put("ts_ms", event.commitTimeMicros() / 1_000);
    source.put("pos", event.position().value());
    if (event.transactionId() != null && !event.transactionId().isEmpty()) {
      source.put("txId", event.transactionId());
    }
    root.put("op", switch (event.operation()) {
      case INSERT -> "c";
      case UPDATE -> "u";
      case DELETE -> "d";
      case SNAPSHOT_READ -> "r";
    });
    root.put("ts_ms", System.currentTimeMillis());
    ObjectNode cutover = root.putObject("cutover");
    cutover.put("side", event.side().isMonolith() ? "monolith" : event.side().service());
    cutover.put("hlc", event.hlc());
    if (event.origin() != null && !event.origin().isEmpty()) {
      cutover.put("origin", event.origin());
    }
    UnsafeBuffer buffer = new UnsafeBuffer(new byte[64 * 1024]);
    int length = EventCodec.encode(event, buffer, 0);
    byte[] exact = new byte[length];
    buffer.getBytes(0, exact);
    cutover.put("event", Base64.getEncoder().encodeToString(exact));
    return root.toString().getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Reads a record back into a change event: exactly when Cutover wrote it, by value when Debezium did.
   *
   * @param key the record key (JSON of the key columns), or null.
   * @param value the record value (the envelope); a null value (a tombstone) yields null.
   * @param topic the topic.
   * @param partition the partition.
   * @param offset the offset (the position of a foreign record without an LSN).
   * @param side the side foreign envelopes come from.
   * @return the change, or null for a tombstone.
   * @throws IllegalArgumentException naming what is wrong with the record.
   */
  public static ChangeEvent parse(byte[] key, byte[] value, String topic, int partition, long offset, Side side) {
    if (value == null) {
      return null;
    }
    JsonNode root;
    try {
      root = JSON.readTree(value);
    } catch (IOException e) {
      throw new IllegalArgumentException("record " + topic + "/" + partition + "@" + offset + " is not JSON: "
          + e.getMessage(), e);
    }
    if (root.has("payload") && root.has("schema")) {
      root = root.get("payload"); // a converter with schemas enabled
    }
    SourcePosition position = SourcePosition.kafka(topic, partition, offset);
    String exact = root.path("cutover").path("event").asText("");
    if (!exact.isEmpty()) {
      byte[] bytes = Base64.getDecoder().decode(exact);
      ChangeEvent e = EventCodec.decode(new UnsafeBuffer(bytes), 0, bytes.length);
      // The source's own position (LSN, trigger sequence) travels with the change: a change published twice
      // (a capture instance that crashed between Kafka's acknowledgement and its checkpoint) has two offsets but
      // one source position, and sync drops the second per row.
      ChangeEvent.Builder b = ChangeEvent.builder(e.side(), e.table(), e.operation()).key(e.key())
          .changedColumns(e.changedColumns()).position(e.position()).transactionId(e.transactionId())
          .commitTimeMicros(e.commitTimeMicros()).hlc(e.hlc()).origin(e.origin());
      if (e.before() != null) {
        b.before(e.before());
      }
      if (e.after() != null) {
        b.after(e.after());
      }
      return b.build();
    }
    String op = root.path("op").asText("");
    Operation operation = switch (op) {
      case "c" -> Operation.INSERT;
      case "u" -> Operation.UPDATE;
      case "d" -> Operation.DELETE;
      case "r" -> Operation.SNAPSHOT_READ;
      default -> throw new IllegalArgumentException("record " + topic + "/" + partition + "@" + offset
          + " has op '" + op + "', not one of c, u, d, r");
    };
    JsonNode source = root.path("source");
    String table = source.path("table").asText("");
    if (table.isEmpty()) {
      throw new IllegalArgumentException("record " + topic + "/" + partition + "@" + offset + " names no "
          + "source.table");
    }
    Row before = row(root.get("before"));
    Row after = row(root.get("after"));
    Row keyRow;
    if (key != null) {
      try {
        JsonNode k = JSON.readTree(key);
        keyRow = row(k.has("payload") && k.has("schema") ? k.get("payload") : k);
      } catch (IOException e) {
        throw new IllegalArgumentException("record key " + topic + "/" + partition + "@" + offset + " is not JSON",
            e);
      }
    } else {
      throw new IllegalArgumentException("record " + topic + "/" + partition + "@" + offset + " has no key: "
          + "Cutover needs the key columns (Debezium keys records by primary key)");
    }
    if (source.hasNonNull("lsn") && source.get("lsn").canConvertToLong()) {
      // Debezium's PostgreSQL connector: the LSN, the same when the connector publishes a change twice
      position = SourcePosition.lsn(source.get("lsn").asLong());
    }
    ChangeEvent.Builder b = ChangeEvent.builder(side, table.toLowerCase(java.util.Locale.ROOT), operation)
        .key(keyRow).position(position).commitTimeMicros(source.path("ts_ms").asLong(0) * 1_000)
        .transactionId(source.path("txId").asText(""));
    if (before != null) {
      b.before(before);
    }
    if (after != null) {
      b.after(after);
    }
    return b.build();
  }

  private static ObjectNode row(Row row) {
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    for (Map.Entry<String, Value> column : row.columns().entrySet()) {
      Value v = column.getValue();
      String name = column.getKey();
      switch (v.type()) {
        case NULL -> out.putNull(name);
        case BOOL -> out.put(name, v.asBoolean());
        case INT -> out.put(name, v.asLong());
        case DOUBLE -> out.put(name, v.asDouble());
        case DECIMAL -> out.put(name, v.asDecimal().toPlainString());
        case STRING, JSON -> out.put(name, v.asString());
        case BYTES -> out.put(name, Base64.getEncoder().encodeToString(v.asBytes()));
        case UUID -> out.put(name, v.asUuid().toString());
        case DATE -> out.put(name, v.asLong());
        case LOCAL_TIMESTAMP -> out.put(name, v.asLong());
        case TIMESTAMP -> out.put(name, Instant.EPOCH.plus(v.asLong(), ChronoUnit.MICROS).toString());
      }
    }
    return out;
  }

  private static Row row(JsonNode node) {
    if (node == null || node.isNull() || !node.isObject()) {
      return null;
    }
    Row.Builder row = Row.builder();
    Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> f = fields.next();
      JsonNode v = f.getValue();
      Value value;
      if (v == null || v.isNull()) {
        value = Value.NULL;
      } else if (v.isBoolean()) {
        value = Value.of(v.booleanValue());
      } else if (v.isIntegralNumber() && v.canConvertToLong()) {
        value = Value.of(v.longValue());
      } else if (v.isNumber()) {
        value = Value.of(v.decimalValue());
      } else if (v.isTextual()) {
        value = Value.of(v.textValue());
      } else {
        value = Value.json(v.toString());
      }
      row.put(f.getKey().toLowerCase(java.util.Locale.ROOT), value);
    }
    return row.build();
  }
}
