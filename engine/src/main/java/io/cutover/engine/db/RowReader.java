package io.cutover.engine.db;

import io.cutover.engine.event.Value;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Types;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;

/**
 * Reads result-set rows into {@link Value}s with one canonical type per kind of column, whatever the driver hands
 * over: instants for {@code timestamptz}, wall clocks for {@code timestamp}, days for dates, JSON and the database's
 * text for types it prints (enums, intervals). Validation, backfill and capture thus agree on what a value is.
 * Not thread-safe: one per result set.
 */
public final class RowReader {
  private static final LocalDateTime EPOCH = LocalDateTime.of(1970, 1, 1, 0, 0);
  private static final int OTHER = 0;
  private static final int INSTANT = 1;
  private static final int WALL_CLOCK = 2;
  private static final int DAY = 3;
  private static final int JSON = 4;
  private static final int TEXT = 5;
  private final ResultSet rs;
  private final List<String> columns;
  private final int[] kinds;

  /**
   * A reader of a result set's rows.
   *
   * @param rs the result set.
   * @param columns its columns' names, in order (for error messages).
   * @throws SQLException if its metadata cannot be read.
   */
  public RowReader(ResultSet rs, List<String> columns) throws SQLException {
    this.rs = rs;
    this.columns = columns;
    ResultSetMetaData meta = rs.getMetaData();
    kinds = new int[columns.size()];
    for (int i = 0; i < kinds.length; i++) {
      int type = meta.getColumnType(i + 1);
      String name = String.valueOf(meta.getColumnTypeName(i + 1)).toLowerCase(Locale.ROOT);
      if (type == Types.TIMESTAMP_WITH_TIMEZONE || name.contains("timestamptz") || name.contains("with time zone")) {
        kinds[i] = INSTANT;
      } else if (type == Types.TIMESTAMP) {
        kinds[i] = WALL_CLOCK;
      } else if (type == Types.DATE) {
        kinds[i] = DAY;
      } else if (name.startsWith("json")) {
        kinds[i] = JSON;
      } else if (type == Types.OTHER && !name.equals("uuid")) {
        kinds[i] = TEXT; // enums, intervals and the like: compared as the database prints them
      } else {
        kinds[i] = OTHER;
      }
    }
  }

  /**
   * Reads the current row.
   *
   * @param values where the row's values go, one per column.
   * @throws SQLException if a value cannot be read.
   * @throws IllegalArgumentException naming a column whose type Cutover cannot map.
   */
  public void read(Value[] values) throws SQLException {
    for (int i = 0; i < kinds.length; i++) {
      int column = i + 1;
      values[i] = switch (kinds[i]) {
        case INSTANT -> {
          OffsetDateTime time = rs.getObject(column, OffsetDateTime.class);
          yield time == null ? Value.NULL
              : Value.timestampMicros(Value.epochMicros(time.toInstant()));
        }
        case WALL_CLOCK -> {
          LocalDateTime time = rs.getObject(column, LocalDateTime.class);
          yield time == null ? Value.NULL : Value.localTimestampMicros(ChronoUnit.MICROS.between(EPOCH, time));
        }
        case DAY -> {
          LocalDate day = rs.getObject(column, LocalDate.class);
          yield day == null ? Value.NULL : Value.date((int) day.toEpochDay());
        }
        case JSON -> {
          String text = rs.getString(column);
          yield text == null ? Value.NULL : Value.json(text);
        }
        case TEXT -> {
          String text = rs.getString(column);
          yield text == null ? Value.NULL : Value.of(text);
        }
        default -> JdbcValues.fromJdbc(columns.get(i), rs.getObject(column));
      };
    }
  }
}
