package io.cutover.engine.capture.internal;

import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.Operation;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import io.cutover.engine.event.SourcePosition;
import io.cutover.engine.event.Value;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;

/**
 * Decodes PostgreSQL's {@code pgoutput} logical replication messages (protocol version 1) into change events.
 * Keeps the relation cache and the current transaction. Not thread-safe.
 */
public final class PgOutputDecoder {
  /** PostgreSQL's epoch, 2000-01-01, in microseconds since 1970-01-01. */
  private static final long PG_EPOCH_MICROS = 946_684_800_000_000L;
  private static final LocalDateTime EPOCH = LocalDateTime.of(1970, 1, 1, 0, 0);

  /** What a message meant. */
  public enum Kind {
    /** A transaction began. */
    BEGIN,
    /** A row change; {@link #event()} holds it. */
    CHANGE,
    /** The transaction committed; {@link #commitEndLsn()} holds the LSN to confirm once it is durable. */
    COMMIT,
    /** Anything else (relation, type, origin, truncate, message): nothing to publish. */
    OTHER
  }

  private record Column(String name, int typeOid) {}

  private record Relation(String table, List<Column> columns) {}

  private final Side side;
  private final Map<String, Set<String>> primaryKeys;
  private final Map<Integer, Relation> relations = new HashMap<>();
  private long commitLsn;
  private long messageLsn;
  private boolean fromOrigin;
  private long commitMicros;
  private String xid = "";
  private ChangeEvent event;
  private long commitEndLsn;

  /**
   * Creates a decoder.
   *
   * @param side the side the database is.
   * @param primaryKeys primary-key columns per captured table (lower case).
   */
  public PgOutputDecoder(Side side, Map<String, Set<String>> primaryKeys) {
    this.side = side;
    this.primaryKeys = primaryKeys;
  }

  /**
   * Decodes one message.
   *
   * @param buffer the message, from its position.
   * @return what it meant.
   * @throws IllegalArgumentException if the message is malformed or names an unknown relation.
   */
  public Kind decode(ByteBuffer buffer) {
    return decode(buffer, 0);
  }

  /**
   * Decodes one message that starts at a known WAL position.
   *
   * @param buffer the message, from its position.
   * @param lsn the WAL position of the message (for a change: its own record, unique and increasing per row,
   *     which the change carries as its source position), or 0 when unknown (the transaction's commit is used).
   * @return what it meant.
   * @throws IllegalArgumentException if the message is malformed or names an unknown relation.
   */
  public Kind decode(ByteBuffer buffer, long lsn) {
    messageLsn = lsn;
    byte type = buffer.get();
    switch (type) {
      case 'B' -> {
        fromOrigin = false;
        commitLsn = buffer.getLong();
        commitMicros = buffer.getLong() + PG_EPOCH_MICROS;
        xid = Integer.toUnsignedString(buffer.getInt());
        return Kind.BEGIN;
      }
      case 'C' -> {
        buffer.get();
        buffer.getLong();
        commitEndLsn = buffer.getLong();
        return Kind.COMMIT;
      }
      case 'R' -> {
        int id = buffer.getInt();
        String namespace = string(buffer);
        String name = string(buffer);
        buffer.get();
        int count = buffer.getShort();
        List<Column> columns = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
          buffer.get();
          String column = string(buffer);
          int oid = buffer.getInt();
          buffer.getInt();
          columns.add(new Column(column, oid));
        }
        relations.put(id, new Relation("public".equals(namespace) ? name : namespace + "." + name, columns));
        return Kind.OTHER;
      }
      case 'O' -> {
        // The transaction was replayed under a replication origin: Cutover's own apply (or another replicator).
        // PostgreSQL 16+ filters these out with origin 'none'; older servers send them marked, and they are
        // skipped here, so Cutover's writes never come back as changes (no echo).
        fromOrigin = true;
        return Kind.OTHER;
      }
      case 'I' -> {
        Relation relation = relation(buffer.getInt());
        expect(buffer.get(), 'N');
        Row after = tuple(buffer, relation);
        event = change(relation, Operation.INSERT, null, after);
        return fromOrigin ? Kind.OTHER : Kind.CHANGE;
      }
      case 'U' -> {
        Relation relation = relation(buffer.getInt());
        byte next = buffer.get();
        Row before = null;
        if (next == 'K' || next == 'O') {
          before = tuple(buffer, relation);
          next = buffer.get();
        }
        expect(next, 'N');
        Row after = tuple(buffer, relation);
        event = change(relation, Operation.UPDATE, before, after);
        return fromOrigin ? Kind.OTHER : Kind.CHANGE;
      }
      case 'D' -> {
        Relation relation = relation(buffer.getInt());
        buffer.get();
        Row before = tuple(buffer, relation);
        event = change(relation, Operation.DELETE, before, null);
        return fromOrigin ? Kind.OTHER : Kind.CHANGE;
      }
      default -> {
        return Kind.OTHER;
      }
    }
  }

  private static void expect(byte actual, char expected) {
    if (actual != expected) {
      throw new IllegalArgumentException("pgoutput: expected tuple tag '" + expected + "', found '" + (char) actual
          + "'");
    }
  }

  private Relation relation(int id) {
    Relation relation = relations.get(id);
    if (relation == null) {
      throw new IllegalArgumentException("pgoutput: change for relation " + id + " before its Relation message");
    }
    return relation;
  }

  private ChangeEvent change(Relation relation, Operation operation, Row before, Row after) {
    Set<String> keys = primaryKeys.get(relation.table());
    if (keys == null) {
      throw new IllegalArgumentException("pgoutput: table " + relation.table() + " is published but not captured");
    }
    Row source = after != null ? after : before;
    Row.Builder key = Row.builder();
    for (Column column : relation.columns()) {
      if (keys.contains(column.name())) {
        Value value = source.get(column.name());
        if (value == null) {
          throw new IllegalArgumentException("pgoutput: " + operation + " on " + relation.table()
              + " lacks key column " + column.name() + " (set REPLICA IDENTITY to the primary key or FULL)");
        }
        key.put(column.name(), value);
      }
    }
    List<String> changed = new ArrayList<>();
    if (operation == Operation.UPDATE && before != null && before.size() == after.size()) {
      for (String column : after.names()) {
        if (!Objects.equals(before.get(column), after.get(column))) {
          changed.add(column);
        }
      }
    }
    return ChangeEvent.builder(side, relation.table(), operation)
        .key(key.build())
        .before(operation == Operation.INSERT ? null : before)
        .after(after)
        .changedColumns(changed)
        .position(SourcePosition.lsn(messageLsn != 0 ? messageLsn : commitLsn))
        .transactionId(xid)
        .commitTimeMicros(commitMicros)
        .build();
  }

  private static Row tuple(ByteBuffer buffer, Relation relation) {
    int count = buffer.getShort();
    Row.Builder row = Row.builder();
    for (int i = 0; i < count; i++) {
      Column column = relation.columns().get(i);
      byte kind = buffer.get();
      switch (kind) {
        case 'n' -> row.put(column.name(), Value.NULL);
        case 'u' -> { } // unchanged TOASTed value: absent, not NULL
        case 't' -> {
          int length = buffer.getInt();
          byte[] bytes = new byte[length];
          buffer.get(bytes);
          row.put(column.name(), parse(column, new String(bytes, StandardCharsets.UTF_8)));
        }
        default -> throw new IllegalArgumentException("pgoutput: unknown tuple value kind '" + (char) kind + "'");
      }
    }
    return row.build();
  }

  private static String string(ByteBuffer buffer) {
    int start = buffer.position();
    int end = start;
    while (buffer.get(end) != 0) {
      end++;
    }
    byte[] bytes = new byte[end - start];
    buffer.get(bytes);
    buffer.get();
    return new String(bytes, StandardCharsets.UTF_8);
  }

  /**
   * Parses PostgreSQL's text output of a value of a given type.
   *
   * @param column the column (name and type OID).
   * @param text the text.
   * @return the value; types not listed are carried as text.
   */
  private static Value parse(Column column, String text) {
    try {
      return switch (column.typeOid()) {
        case 16 -> Value.of("t".equals(text));
        case 20, 21, 23 -> Value.of(Long.parseLong(text));
        case 700, 701 -> Value.of(Double.parseDouble(text));
        case 1700 -> Value.of(new BigDecimal(text));
        case 17 -> Value.of(HexFormat.of().parseHex(text.substring(2)));
        case 1082 -> Value.date((int) LocalDate.parse(text).toEpochDay());
        case 1114 -> Value.localTimestampMicros(timestampMicros(text, false));
        case 1184 -> Value.timestampMicros(timestampMicros(text, true));
        case 2950 -> Value.of(UUID.fromString(text));
        case 114, 3802 -> Value.json(text);
        default -> Value.of(text);
      };
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("pgoutput: column " + column.name() + " (type oid " + column.typeOid()
          + ") has a value Cutover cannot read: '" + text + "'", e);
    }
  }

  /**
   * Microseconds since the epoch of PostgreSQL's ISO text of a timestamp ({@code 2026-01-02 03:04:05.123456+01}),
   * the common form read by hand: java.time's parser cost more than the rest of a row on the capture's thread.
   * Anything else (BC, infinity, years past 9999, offsets with seconds) goes to java.time, as before.
   *
   * @param text the text.
   * @param zoned whether it ends with an offset ({@code timestamptz}).
   * @return the microseconds (local ones for a {@code timestamp} without time zone).
   */
  static long timestampMicros(String text, boolean zoned) {
    long micros = commonTimestamp(text, zoned);
    if (micros != Long.MIN_VALUE) {
      return micros;
    }
    // from seconds and nanoseconds: ChronoUnit.MICROS.between overflows for years before 1678 and after 2261
    java.time.Instant instant = zoned ? OffsetDateTime.parse(isoOffset(text)).toInstant()
        : LocalDateTime.parse(text.replace(' ', 'T')).toInstant(java.time.ZoneOffset.UTC);
    return Value.epochMicros(instant);
  }

  /** {@code yyyy-MM-dd HH:mm:ss[.f{1,6}][(+|-)HH[:mm]]}, or {@link Long#MIN_VALUE} for any other form. */
  private static long commonTimestamp(String s, boolean zoned) {
    int n = s.length();
    if (n < 19 || s.charAt(4) != '-' || s.charAt(7) != '-' || s.charAt(10) != ' ' || s.charAt(13) != ':'
        || s.charAt(16) != ':') {
      return Long.MIN_VALUE;
    }
    int year = digits(s, 0, 4);
    int month = digits(s, 5, 2);
    int day = digits(s, 8, 2);
    int hour = digits(s, 11, 2);
    int minute = digits(s, 14, 2);
    int second = digits(s, 17, 2);
    if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0
        || minute > 59 || second < 0 || second > 59) {
      return Long.MIN_VALUE;
    }
    int i = 19;
    long fraction = 0;
    if (i < n && s.charAt(i) == '.') {
      int start = ++i;
      while (i < n && i - start < 7 && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
        fraction = fraction * 10 + (s.charAt(i++) - '0');
      }
      int places = i - start;
      if (places == 0 || places > 6) {
        return Long.MIN_VALUE;
      }
      for (int p = places; p < 6; p++) {
        fraction *= 10;
      }
    }
    long offsetSeconds = 0;
    if (zoned) {
      if (i + 3 > n || (s.charAt(i) != '+' && s.charAt(i) != '-')) {
        return Long.MIN_VALUE;
      }
      int sign = s.charAt(i) == '-' ? -1 : 1;
      int offsetHours = digits(s, i + 1, 2);
      int offsetMinutes = 0;
      i += 3;
      if (i < n) {
        if (i + 3 != n || s.charAt(i) != ':' || (offsetMinutes = digits(s, i + 1, 2)) < 0 || offsetMinutes > 59) {
          return Long.MIN_VALUE;
        }
        i = n;
      }
      if (offsetHours < 0 || offsetHours > 15) {
        return Long.MIN_VALUE;
      }
      offsetSeconds = sign * (offsetHours * 3600L + offsetMinutes * 60L);
    }
    if (i != n) {
      return Long.MIN_VALUE;
    }
    long epochDay;
    try {
      epochDay = LocalDate.of(year, month, day).toEpochDay();
    } catch (java.time.DateTimeException e) {
      return Long.MIN_VALUE; // no such day: java.time says why
    }
    return ((epochDay * 86_400L + hour * 3_600L + minute * 60L + second - offsetSeconds) * 1_000_000L) + fraction;
  }

  /** The value of {@code count} decimal digits at {@code from}; -1 if any is not a digit or the text ends. */
  private static int digits(String s, int from, int count) {
    if (from + count > s.length()) {
      return -1;
    }
    int value = 0;
    for (int i = from; i < from + count; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      value = value * 10 + (c - '0');
    }
    return value;
  }

  private static String isoOffset(String text) {
    String iso = text.replace(' ', 'T');
    int n = iso.length();
    // PostgreSQL writes a whole-hour offset as +01; ISO-8601 wants +01:00
    boolean hoursOnly = n >= 3 && (iso.charAt(n - 3) == '+' || iso.charAt(n - 3) == '-')
        && Character.isDigit(iso.charAt(n - 2)) && Character.isDigit(iso.charAt(n - 1));
    return hoursOnly ? iso + ":00" : iso;
  }

  /**
   * The change decoded by the last {@link Kind#CHANGE}.
   *
   * @return the event.
   */
  public ChangeEvent event() {
    return event;
  }

  /**
   * The end LSN of the transaction decoded by the last {@link Kind#COMMIT}.
   *
   * @return the LSN.
   */
  public long commitEndLsn() {
    return commitEndLsn;
  }
}
