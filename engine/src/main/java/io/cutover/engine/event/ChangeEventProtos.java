package io.cutover.engine.event;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import io.cutover.proto.v1.Column;
import io.cutover.proto.v1.KafkaOffset;
import io.cutover.proto.v1.NullValue;
import java.math.BigDecimal;
import java.util.Map;
import java.util.UUID;

/**
 * Maps {@link ChangeEvent} to and from the public protobuf schema {@code cutover.v1.ChangeEvent}. Thread-safe.
 */
public final class ChangeEventProtos {
  private ChangeEventProtos() {}

  /**
   * The protobuf form of an event.
   *
   * @param event the event.
   * @return the message.
   */
  public static io.cutover.proto.v1.ChangeEvent toProto(ChangeEvent event) {
    io.cutover.proto.v1.ChangeEvent.Builder out = io.cutover.proto.v1.ChangeEvent.newBuilder()
        .setSide(toProto(event.side()))
        .setTable(event.table())
        .setOperation(switch (event.operation()) {
          case INSERT -> io.cutover.proto.v1.Operation.INSERT;
          case UPDATE -> io.cutover.proto.v1.Operation.UPDATE;
          case DELETE -> io.cutover.proto.v1.Operation.DELETE;
          case SNAPSHOT_READ -> io.cutover.proto.v1.Operation.SNAPSHOT_READ;
        })
        .setKey(toProto(event.key()))
        .addAllChangedColumns(event.changedColumns())
        .setTransactionId(event.transactionId())
        .setHlc(event.hlc())
        .setOrigin(event.origin());
    if (event.before() != null) {
      out.setBefore(toProto(event.before()));
    }
    if (event.after() != null) {
      out.setAfter(toProto(event.after()));
    }
    if (event.commitTimeMicros() != 0) {
      out.setCommitTime(timestamp(event.commitTimeMicros()));
    }
    SourcePosition position = event.position();
    switch (position.kind()) {
      case LSN -> out.setPosition(io.cutover.proto.v1.SourcePosition.newBuilder().setLsn(position.value()));
      case TRIGGER_SEQUENCE -> out.setPosition(
          io.cutover.proto.v1.SourcePosition.newBuilder().setTriggerSequence(position.value()));
      case KAFKA -> out.setPosition(io.cutover.proto.v1.SourcePosition.newBuilder().setKafka(
          KafkaOffset.newBuilder().setTopic(position.topic()).setPartition(position.partition())
              .setOffset(position.value())));
      case NONE -> { }
    }
    return out.build();
  }

  /**
   * The event of a protobuf message.
   *
   * @param message the message.
   * @return the event.
   * @throws IllegalArgumentException naming the field that is missing or wrong.
   */
  public static ChangeEvent fromProto(io.cutover.proto.v1.ChangeEvent message) {
    Side side = switch (message.getSide().getKindCase()) {
      case MONOLITH -> Side.MONOLITH;
      case SERVICE -> Side.service(message.getSide().getService());
      case KIND_NOT_SET -> throw new IllegalArgumentException("change event field 'side' is not set");
    };
    Operation operation = switch (message.getOperation()) {
      case INSERT -> Operation.INSERT;
      case UPDATE -> Operation.UPDATE;
      case DELETE -> Operation.DELETE;
      case SNAPSHOT_READ -> Operation.SNAPSHOT_READ;
      default -> throw new IllegalArgumentException("change event field 'operation' is not set");
    };
    io.cutover.proto.v1.SourcePosition p = message.getPosition();
    SourcePosition position = switch (p.getKindCase()) {
      case LSN -> SourcePosition.lsn(p.getLsn());
      case TRIGGER_SEQUENCE -> SourcePosition.triggerSequence(p.getTriggerSequence());
      case KAFKA -> SourcePosition.kafka(p.getKafka().getTopic(), p.getKafka().getPartition(),
          p.getKafka().getOffset());
      case KIND_NOT_SET -> SourcePosition.NONE;
    };
    long commitMicros = message.hasCommitTime()
        ? message.getCommitTime().getSeconds() * 1_000_000L + message.getCommitTime().getNanos() / 1_000 : 0L;
    return new ChangeEvent(side, message.getTable(), operation, fromProto(message.getKey()),
        message.hasBefore() ? fromProto(message.getBefore()) : null,
        message.hasAfter() ? fromProto(message.getAfter()) : null,
        message.getChangedColumnsList(), position, message.getTransactionId(), commitMicros, message.getHlc(),
        message.getOrigin());
  }

  /**
   * A row as its protobuf message.
   *
   * @param row the row.
   * @return the message.
   */
  public static io.cutover.proto.v1.Row toProto(Row row) {
    io.cutover.proto.v1.Row.Builder out = io.cutover.proto.v1.Row.newBuilder();
    for (Map.Entry<String, Value> column : row.columns().entrySet()) {
      out.addColumns(Column.newBuilder().setName(column.getKey()).setValue(toProto(column.getValue())));
    }
    return out.build();
  }

  /**
   * A row from its protobuf message.
   *
   * @param row the message.
   * @return the row.
   * @throws IllegalArgumentException naming the column whose value is malformed.
   */
  public static Row fromProto(io.cutover.proto.v1.Row row) {
    Row.Builder out = Row.builder();
    for (Column column : row.getColumnsList()) {
      if (!column.hasValue()) {
        throw new IllegalArgumentException("column '" + column.getName() + "' has no value (use null_value)");
      }
      out.put(column.getName(), fromProto(column.getName(), column.getValue()));
    }
    return out.build();
  }

  /**
   * A side as its protobuf message.
   *
   * @param side the side.
   * @return the message.
   */
  public static io.cutover.proto.v1.Side toProto(Side side) {
    return side.isMonolith() ? io.cutover.proto.v1.Side.newBuilder().setMonolith(true).build()
        : io.cutover.proto.v1.Side.newBuilder().setService(side.service()).build();
  }

  /**
   * A side from its protobuf message.
   *
   * @param side the message.
   * @return the side.
   */
  public static Side fromProto(io.cutover.proto.v1.Side side) {
    return side.getKindCase() == io.cutover.proto.v1.Side.KindCase.SERVICE ? Side.service(side.getService())
        : Side.MONOLITH;
  }

  private static io.cutover.proto.v1.Value toProto(Value value) {
    io.cutover.proto.v1.Value.Builder out = io.cutover.proto.v1.Value.newBuilder();
    return switch (value.type()) {
      case NULL -> out.setNullValue(NullValue.NULL_VALUE).build();
      case BOOL -> out.setBoolValue(value.asBoolean()).build();
      case INT -> out.setIntValue(value.asLong()).build();
      case DOUBLE -> out.setDoubleValue(value.asDouble()).build();
      case DECIMAL -> out.setDecimalValue(value.asDecimal().toPlainString()).build();
      case STRING -> out.setStringValue(value.asString()).build();
      case JSON -> out.setJsonValue(value.asString()).build();
      case BYTES -> out.setBytesValue(ByteString.copyFrom(value.bytesNoCopy())).build();
      case TIMESTAMP -> out.setTimestampValue(timestamp(value.asLong())).build();
      case LOCAL_TIMESTAMP -> out.setLocalTimestampMicros(value.asLong()).build();
      case DATE -> out.setDateValue((int) value.asLong()).build();
      case UUID -> out.setUuidValue(value.asUuid().toString()).build();
    };
  }

  private static Value fromProto(String column, io.cutover.proto.v1.Value value) {
    return switch (value.getKindCase()) {
      case NULL_VALUE -> Value.NULL;
      case BOOL_VALUE -> Value.of(value.getBoolValue());
      case INT_VALUE -> Value.of(value.getIntValue());
      case DOUBLE_VALUE -> Value.of(value.getDoubleValue());
      case DECIMAL_VALUE -> {
        try {
          yield Value.of(new BigDecimal(value.getDecimalValue()));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("column '" + column + "': '" + value.getDecimalValue()
              + "' is not a decimal");
        }
      }
      case STRING_VALUE -> Value.of(value.getStringValue());
      case JSON_VALUE -> Value.json(value.getJsonValue());
      case BYTES_VALUE -> Value.of(value.getBytesValue().toByteArray());
      case TIMESTAMP_VALUE -> Value.timestampMicros(
          value.getTimestampValue().getSeconds() * 1_000_000L + value.getTimestampValue().getNanos() / 1_000);
      case LOCAL_TIMESTAMP_MICROS -> Value.localTimestampMicros(value.getLocalTimestampMicros());
      case DATE_VALUE -> Value.date(value.getDateValue());
      case UUID_VALUE -> {
        try {
          yield Value.of(UUID.fromString(value.getUuidValue()));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("column '" + column + "': '" + value.getUuidValue()
              + "' is not a UUID");
        }
      }
      case KIND_NOT_SET -> throw new IllegalArgumentException("column '" + column + "' has an empty value");
    };
  }

  private static Timestamp timestamp(long micros) {
    return Timestamp.newBuilder().setSeconds(Math.floorDiv(micros, 1_000_000L))
        .setNanos((int) Math.floorMod(micros, 1_000_000L) * 1_000).build();
  }
}
