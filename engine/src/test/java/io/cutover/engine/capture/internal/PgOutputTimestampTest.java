package io.cutover.engine.capture.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import org.junit.jupiter.api.Test;

/** Timestamps as PostgreSQL writes them in pgoutput's text, read by hand, equal java.time's reading. */
class PgOutputTimestampTest {
  private static final DateTimeFormatter PG = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");
  private static final long MIN = LocalDateTime.of(1, 1, 1, 0, 0).toEpochSecond(ZoneOffset.UTC) * 1_000_000L;
  private static final long MAX = LocalDateTime.of(9999, 12, 31, 23, 59, 59).toEpochSecond(ZoneOffset.UTC)
      * 1_000_000L;

  /** The text PostgreSQL writes: trailing zeros of the fraction dropped, the offset as +HH or +HH:MM. */
  private static String text(long micros, int offsetMinutes, boolean zoned) {
    long seconds = Math.floorDiv(micros, 1_000_000L);
    long fraction = Math.floorMod(micros, 1_000_000L);
    LocalDateTime local = LocalDateTime.ofEpochSecond(seconds + offsetMinutes * 60L, 0, ZoneOffset.UTC);
    StringBuilder out = new StringBuilder(PG.format(local));
    if (fraction != 0) {
      out.append('.').append(String.format("%06d", fraction).replaceAll("0+$", ""));
    }
    if (zoned) {
      int abs = Math.abs(offsetMinutes);
      out.append(offsetMinutes < 0 ? '-' : '+').append(String.format("%02d", abs / 60));
      if (abs % 60 != 0) {
        out.append(String.format(":%02d", abs % 60));
      }
    }
    return out.toString();
  }

  @Test
  void everyCommonFormReadsAsJavaTimeReadsIt() {
    qt().withExamples(20_000).forAll(longs().between(MIN + 86_400_000_000L, MAX - 86_400_000_000L),
        integers().between(-15 * 60, 15 * 60)).checkAssert((micros, offset) -> {
          int minutes = offset % 4 == 0 ? (offset / 60) * 60 : offset; // whole hours often, odd minutes too
          String zoned = text(micros, minutes, true);
          assertEquals(micros, PgOutputDecoder.timestampMicros(zoned, true), zoned);
          String local = text(micros, 0, false);
          assertEquals(micros, PgOutputDecoder.timestampMicros(local, false), local);
          Instant parsed = OffsetDateTime.parse(zoned.replace(' ', 'T') + (zoned.matches(".*[+-]\\d\\d$") ? ":00"
              : "")).toInstant();
          assertEquals(parsed.getEpochSecond() * 1_000_000L + parsed.getNano() / 1_000, micros,
              "java.time agrees: " + zoned);
        });
  }

  @Test
  void otherFormsGoToJavaTimeAndBadDaysAreRefused() {
    // offset with seconds (a local mean time): java.time reads it
    assertEquals(ChronoUnit.MICROS.between(Instant.EPOCH, OffsetDateTime.parse("1890-01-01T00:00:00+00:53:28")
        .toInstant()), PgOutputDecoder.timestampMicros("1890-01-01 00:00:00+00:53:28", true));
    // before 1678 (and after 2261) java.time's microsecond difference overflows: read from seconds instead
    assertEquals(LocalDateTime.of(1500, 6, 1, 12, 0).toEpochSecond(ZoneOffset.UTC) * 1_000_000L - 3_600_000_000L
        + 5, PgOutputDecoder.timestampMicros("1500-06-01 12:00:00.000005+01:00:00", true), "the slow path too");
    assertEquals(0L, PgOutputDecoder.timestampMicros("1970-01-01 01:00:00+01", true));
    assertEquals(-1L, PgOutputDecoder.timestampMicros("1969-12-31 23:59:59.999999", false));
    assertThrows(RuntimeException.class, () -> PgOutputDecoder.timestampMicros("2026-02-30 00:00:00+00", true));
    assertThrows(RuntimeException.class, () -> PgOutputDecoder.timestampMicros("infinity", true));
  }
}
