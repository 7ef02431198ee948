package io.cutover.engine.validate;

import static io.cutover.engine.testing.TestSupport.exec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import io.cutover.engine.apply.TableMapping;
import io.cutover.engine.testing.Postgres;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The validator reports exactly the discrepancies injected, nothing missed and nothing invented: the monolith on
 * real PostgreSQL, the service on H2, equal data written in each database's own way (numeric scale, a time zone
 * offset, the JVM's text), then random damage of every kind: rows missing on either side, a changed value in any
 * column type, NULL against the empty string, a precision change, a time-zone shift.
 */
@Timeout(600)
class ValidatorPropertiesTest {
  private static final String[] COLUMNS = {"name", "note", "amount", "ratio", "active", "born", "seen", "local_at",
      "ref", "data"};
  private static final DataSource PG = Postgres.newDatabase("validate_prop");
  private static final JdbcDataSource H2 = h2();

  private static JdbcDataSource h2() {
    JdbcDataSource ds = new JdbcDataSource();
    ds.setURL("jdbc:h2:mem:validate-prop-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
    return ds;
  }

  /** One row's values, in the model. */
  record Account(long id, String name, String note, BigDecimal amount, double ratio, boolean active, LocalDate born,
      OffsetDateTime seen, LocalDateTime localAt, UUID ref, byte[] data) {

    Account with(int column, Random random) {
      return switch (column) {
        case 0 -> new Account(id, name == null ? "" : name.isEmpty() ? null : name + "x", note, amount, ratio, active,
            born, seen, localAt, ref, data);
        case 1 -> new Account(id, name, note == null ? "" : null, amount, ratio, active, born, seen, localAt, ref,
            data);
        case 2 -> new Account(id, name, note, amount.add(new BigDecimal("0.01")), ratio, active, born, seen, localAt,
            ref, data);
        case 3 -> new Account(id, name, note, amount, Math.nextUp(ratio), active, born, seen, localAt, ref, data);
        case 4 -> new Account(id, name, note, amount, ratio, !active, born, seen, localAt, ref, data);
        case 5 -> new Account(id, name, note, amount, ratio, active, born.plusDays(1), seen, localAt, ref, data);
        // the same wall-clock time read in another zone: a different instant
        case 6 -> new Account(id, name, note, amount, ratio, active, born,
            seen.withOffsetSameLocal(ZoneOffset.ofHours(random.nextBoolean() ? 1 : -3)), localAt, ref, data);
        case 7 -> new Account(id, name, note, amount, ratio, active, born, seen, localAt.plusNanos(1_000), ref,
            data);
        case 8 -> new Account(id, name, note, amount, ratio, active, born, seen, localAt, UUID.randomUUID(), data);
        default -> {
          byte[] copy = data.clone();
          copy[random.nextInt(copy.length)] ^= 1;
          yield new Account(id, name, note, amount, ratio, active, born, seen, localAt, ref, copy);
        }
      };
    }
  }

  @Test
  void reportsExactlyTheInjectedDiscrepancies() {
    qt().withExamples(25).withShrinkCycles(0).forAll(longs().all(), integers().between(1, 120))
        .checkAssert(ValidatorPropertiesTest::check);
  }

  private static void check(long seed, int rows) {
    Random random = new Random(seed);
    try {
      exec(PG, "DROP TABLE IF EXISTS account", "CREATE TABLE account (id BIGINT PRIMARY KEY, name TEXT, "
          + "note VARCHAR(50), amount NUMERIC(12,2), ratio DOUBLE PRECISION, active BOOLEAN, born DATE, "
          + "seen TIMESTAMPTZ, local_at TIMESTAMP, ref UUID, data BYTEA)");
      exec(H2, "DROP TABLE IF EXISTS account", "CREATE TABLE account (id BIGINT PRIMARY KEY, name VARCHAR(100), "
          + "note VARCHAR(50), amount NUMERIC(14,4), ratio DOUBLE PRECISION, active BOOLEAN, born DATE, "
          + "seen TIMESTAMP(6) WITH TIME ZONE, local_at TIMESTAMP(6), ref UUID, data VARBINARY(64))");
      Set<String> expected = new TreeSet<>();
      List<Account> monolith = new ArrayList<>();
      List<Account> service = new ArrayList<>();
      for (int i = 0; i < rows; i++) {
        Account base = account(i + 1, random);
        int damage = random.nextInt(10);
        if (damage == 0) {
          service.add(base);
          expected.add(base.id() + " MISSING_ON_MONOLITH");
        } else if (damage == 1) {
          monolith.add(base);
          expected.add(base.id() + " MISSING_ON_SERVICE");
        } else if (damage <= 3) {
          Account changed = base;
          Set<String> columns = new TreeSet<>();
          int first = random.nextInt(COLUMNS.length);
          int second = random.nextBoolean() ? first : (first + 1 + random.nextInt(COLUMNS.length - 1)) % COLUMNS.length;
          for (int column : new TreeSet<>(List.of(first, second))) {
            changed = changed.with(column, random);
            columns.add(COLUMNS[column]);
          }
          monolith.add(random.nextBoolean() ? base : changed);
          service.add(monolith.get(monolith.size() - 1) == base ? changed : base);
          expected.add(base.id() + " COLUMNS_DIFFER " + columns);
        } else {
          monolith.add(base);
          service.add(base);
        }
      }
      insert(PG, monolith, ZoneOffset.ofHours(2));
      insert(H2, service, ZoneOffset.UTC);
      ValidationReport report;
      try (Validator validator = Validator.builder("accounts", PG, H2).depth(1 + random.nextInt(10))
          .batchRows(1 + random.nextInt(50)).build()) {
        report = validator.validate(TableMapping.identity("account"));
      }
      Set<String> found = new TreeSet<>();
      for (Discrepancy d : report.discrepancies()) {
        found.add(d.key().get("id").asLong() + " " + d.kind()
            + (d.kind() == Discrepancy.Kind.COLUMNS_DIFFER ? " " + new TreeSet<>(d.columns()) : ""));
      }
      assertEquals(expected, found, "seed " + seed + ", " + rows + " rows");
      assertEquals(expected.size(), report.discrepancyCount());
      assertEquals(monolith.size(), report.monolithRows());
      assertEquals(service.size(), report.serviceRows());
    } catch (SQLException | RuntimeException e) {
      throw new AssertionError("seed " + seed, e);
    } catch (Exception e) {
      throw new AssertionError("seed " + seed, e);
    }
  }

  private static Account account(long id, Random random) {
    int nameKind = random.nextInt(4);
    String name = nameKind == 0 ? null : nameKind == 1 ? "" : "név-" + Long.toString(random.nextLong(), 36);
    String note = random.nextBoolean() ? null : "n" + random.nextInt(100);
    BigDecimal amount = BigDecimal.valueOf(random.nextInt(2_000_000) - 1_000_000, 2);
    double ratio = random.nextDouble() * 1000;
    LocalDate born = LocalDate.of(1950, 1, 1).plusDays(random.nextInt(25_000));
    OffsetDateTime seen = OffsetDateTime.of(2020, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC)
        .plusSeconds(random.nextInt(100_000_000)).plusNanos(random.nextInt(1_000_000) * 1_000L);
    LocalDateTime localAt = LocalDateTime.of(2021, 6, 1, 12, 0).plusSeconds(random.nextInt(50_000_000))
        .plusNanos(random.nextInt(1_000_000) * 1_000L);
    byte[] data = new byte[1 + random.nextInt(16)];
    random.nextBytes(data);
    return new Account(id, name, note, amount, ratio, random.nextBoolean(), born, seen, localAt,
        new UUID(random.nextLong(), random.nextLong()), data);
  }

  /** Inserts rows, writing instants at the given offset (same instant, the database's own representation). */
  private static void insert(DataSource ds, List<Account> accounts, ZoneOffset offset) throws SQLException {
    try (Connection c = ds.getConnection(); PreparedStatement st = c.prepareStatement(
        "INSERT INTO account VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
      for (Account a : accounts) {
        st.setLong(1, a.id());
        st.setString(2, a.name());
        st.setString(3, a.note());
        st.setBigDecimal(4, a.amount());
        st.setDouble(5, a.ratio());
        st.setBoolean(6, a.active());
        st.setObject(7, a.born());
        st.setObject(8, a.seen().withOffsetSameInstant(offset).equals(a.seen()) ? a.seen()
            : a.seen().withOffsetSameInstant(offset), Types.TIMESTAMP_WITH_TIMEZONE);
        st.setObject(9, a.localAt());
        st.setObject(10, a.ref());
        st.setBytes(11, a.data());
        st.addBatch();
      }
      st.executeBatch();
    }
  }
}
