package io.cutover.engine.event;

import static org.quicktheories.generators.SourceDSL.booleans;
import static org.quicktheories.generators.SourceDSL.doubles;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;
import static org.quicktheories.generators.SourceDSL.strings;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

/** QuickTheories generators for change events. */
public final class ChangeEvents {
  private ChangeEvents() {}

  /** Any value of any type. */
  public static Gen<Value> values() {
    // Valid UTF-16 only: text columns cannot hold lone surrogates.
    Gen<String> text = strings().betweenCodePoints(0, 0xD7FF).ofLengthBetween(0, 20)
        .zip(strings().betweenCodePoints(0x1F600, 0x1F64F).ofLengthBetween(0, 2), (a, b) -> a + b);
    return integers().between(0, ValueType.values().length - 1).flatMap(code -> switch (ValueType.values()[code]) {
      case NULL -> Generate.constant(Value.NULL);
      case BOOL -> booleans().all().map(Value::of);
      case INT -> longs().all().map(Value::of);
      case DOUBLE -> doubles().any().map(Value::of);
      case DECIMAL -> longs().all().zip(integers().between(-5, 12),
          (unscaled, scale) -> Value.of(new BigDecimal(BigInteger.valueOf(unscaled), scale)));
      case STRING -> text.map(Value::of);
      case JSON -> text.map(s -> Value.json("{\"s\":\"" + s.length() + "\"}"));
      case BYTES -> text.map(s -> Value.of(s.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
      case TIMESTAMP -> longs().between(-10_000_000_000_000_000L, 10_000_000_000_000_000L).map(Value::timestampMicros);
      case LOCAL_TIMESTAMP -> longs().all().map(Value::localTimestampMicros);
      case DATE -> integers().between(-1_000_000, 1_000_000).map(Value::date);
      case UUID -> longs().all().zip(longs().all(), (a, b) -> Value.of(new UUID(a, b)));
    });
  }

  /** A row of 1 to 5 columns named c0..c4 (some absent). */
  public static Gen<Row> rows() {
    return Generate.intArrays(integers().between(0, 5), integers().between(0, 1)).zip(
        values().zip(values(), values(), (a, b, c) -> List.of(a, b, c)),
        values().zip(values(), (a, b) -> List.of(a, b)),
        (present, vs1, vs2) -> {
          List<Value> vs = new ArrayList<>(vs1);
          vs.addAll(vs2);
          Row.Builder row = Row.builder().put("id", vs.get(0));
          for (int i = 0; i < present.length; i++) {
            if (present[i] == 1) {
              row.put("c" + i, vs.get(i % vs.size()));
            }
          }
          return row.build();
        });
  }

  /** Any valid change event. */
  public static Gen<ChangeEvent> events() {
    Gen<Operation> ops = integers().between(0, 3).map(i -> Operation.values()[i]);
    Gen<Side> sides = integers().between(0, 2).map(i -> i == 0 ? Side.MONOLITH : Side.service("svc-" + i));
    Gen<SourcePosition> positions = integers().between(0, 3).zip(longs().all(), (k, v) -> switch (k) {
      case 0 -> SourcePosition.NONE;
      case 1 -> SourcePosition.lsn(v);
      case 2 -> SourcePosition.triggerSequence(v);
      default -> SourcePosition.kafka("topic-" + (v & 7), (int) (v & 3), v);
    });
    return ops.zip(sides, positions, rows(), rows(), (op, side, position, r1, r2) -> {
      ChangeEvent.Builder b = ChangeEvent.builder(side, "orders_" + (r1.size() % 3), op)
          .key(Row.of("id", r1.get("id")))
          .position(position)
          .transactionId("tx" + r2.size())
          .commitTimeMicros(position.value() >>> 8)
          .hlc(position.value() & 0x7fffffffffffL)
          .origin(r2.size() % 2 == 0 ? "" : "cutover:svc");
      switch (op) {
        case INSERT, SNAPSHOT_READ -> b.after(r1);
        case UPDATE -> b.before(r2).after(r1).changedColumns(r1.names());
        case DELETE -> b.before(r2.size() % 2 == 0 ? null : r2);
      }
      return b.build();
    });
  }
}
