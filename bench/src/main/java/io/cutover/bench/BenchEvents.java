package io.cutover.bench;

import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.EventCodec;
import io.cutover.engine.event.Operation;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import io.cutover.engine.event.SourcePosition;
import io.cutover.engine.event.Value;
import io.cutover.engine.pipeline.ChangeHandler;
import io.cutover.engine.pipeline.ChangeRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.collections.Long2LongHashMap;

/** Shared fixtures: a typical encoded change and an idempotent in-memory sink. */
final class BenchEvents {
  private BenchEvents() {}

  /** A typical row change (an order update: 6 columns), encoded: 234 bytes. */
  static ExpandableArrayBuffer encodedOrderUpdate(long key) {
    ChangeEvent event = ChangeEvent.builder(Side.MONOLITH, "orders", Operation.UPDATE)
        .key(Row.of("id", Value.of(key)))
        .after(Row.of("id", Value.of(key), "customer_id", Value.of(key * 7), "status", Value.of("paid"),
            "total", Value.of(new java.math.BigDecimal("129.90")), "currency", Value.of("EUR"),
            "updated_at", Value.timestampMicros(1_760_000_000_000_000L)))
        .changedColumns(java.util.List.of("status", "updated_at"))
        .position(SourcePosition.lsn(0x16B3748L))
        .transactionId("7421")
        .build();
    ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(256);
    int length = EventCodec.encode(event, buffer, 0);
    ExpandableArrayBuffer exact = new ExpandableArrayBuffer(length);
    exact.putBytes(0, buffer, 0, length);
    return exact;
  }

  static int length(ExpandableArrayBuffer encoded) {
    return encoded.capacity();
  }

  /**
   * An idempotent sink: keeps the last applied journal index per key hash and ignores anything not newer, so
   * replays change nothing. No allocation per change once the map has grown.
   */
  static final class IdempotentMemorySink implements ChangeHandler {
    private final Long2LongHashMap lastIndexByKey = new Long2LongHashMap(1 << 16, 0.65f, -1L);
    volatile long applied;

    @Override
    public String name() {
      return "memory-sink";
    }

    @Override
    public void onChange(ChangeRecord change) {
      long key = change.keyHash();
      if (lastIndexByKey.get(key) < change.journalIndex()) {
        lastIndexByKey.put(key, change.journalIndex());
      }
      applied++;
    }
  }

  static Path tempDir(String prefix) {
    try {
      return Files.createTempDirectory(prefix);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void delete(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Starts the harnesses' PostgreSQL: embedded, logical decoding on, loopback only, data under {@code dir}, with
   * a {@code monolith} and a {@code service} database.
   *
   * @param dir the work directory.
   * @return the running server.
   * @throws IOException if it cannot start.
   * @throws java.sql.SQLException if the databases cannot be created.
   */
  static io.zonky.test.db.postgres.embedded.EmbeddedPostgres postgres(java.nio.file.Path dir)
      throws IOException, java.sql.SQLException {
    io.zonky.test.db.postgres.embedded.EmbeddedPostgres pg = io.zonky.test.db.postgres.embedded.EmbeddedPostgres
        .builder()
        .setServerConfig("wal_level", "logical")
        .setServerConfig("max_replication_slots", "8")
        .setServerConfig("max_wal_senders", "8")
        .setServerConfig("synchronous_commit", "on")
        .setServerConfig("listen_addresses", "127.0.0.1")
        .setServerConfig("max_wal_size", System.getProperty("cutover.bench.pg.maxWalSize", "1GB"))
        .setServerConfig("checkpoint_timeout", System.getProperty("cutover.bench.pg.checkpointTimeout", "5min"))
        .setDataDirectory(dir.resolve("pgdata"))
        .start();
    try (java.sql.Connection c = pg.getPostgresDatabase().getConnection();
         java.sql.Statement st = c.createStatement()) {
      st.execute("CREATE DATABASE monolith");
      st.execute("CREATE DATABASE service");
    }
    return pg;
  }

  /** Binds one row's parameters of a load generator's statement. */
  interface RowBinder {
    void bind(java.sql.PreparedStatement statement, long seq) throws java.sql.SQLException;
  }

  /**
   * Seconds of warm-up before measuring: {@code -Dcutover.bench.warmupSeconds}, else the harness's own default.
   *
   * @param fallback the harness's default.
   * @return the seconds.
   */
  static int warmupSeconds(int fallback) {
    return Integer.getInteger("cutover.bench.warmupSeconds", fallback);
  }

  /** The paced loads' warm-up: 3 s unless set. */
  static int warmupSeconds() {
    return warmupSeconds(3);
  }

  /**
   * The harnesses' load generator: transactions of {@code txRows} executions of one statement at a fixed rate,
   * for the warm-up ({@link #warmupSeconds()}) plus {@code seconds}; records when each row's transaction committed.
   *
   * @param c the connection (auto-commit is turned off).
   * @param statement the statement, executed once per row in a JDBC batch per transaction.
   * @param rate rows per second.
   * @param seconds seconds measured after the warm-up.
   * @param txRows rows per transaction.
   * @param committed filled with each row's commit time ({@code System.nanoTime()}), indexed by its seq.
   * @param warmedUp run once, when the warm-up ends.
   * @param binder binds row {@code seq}.
   * @return the rows written.
   * @throws java.sql.SQLException if the database fails.
   */
  static long pacedLoad(java.sql.Connection c, java.sql.PreparedStatement statement, int rate, int seconds,
      int txRows, long[] committed, Runnable warmedUp, RowBinder binder) throws java.sql.SQLException {
    c.setAutoCommit(false);
    long seq = 0;
    long intervalNanos = java.util.concurrent.TimeUnit.SECONDS.toNanos(1) * txRows / rate;
    // The warm-up may run slower (-Dcutover.bench.warmupRate=0.5: half the rate), so the JIT compiles the hot
    // paths without a backlog building up that the measured seconds would then inherit.
    double warmupRate = Double.parseDouble(System.getProperty("cutover.bench.warmupRate", "1"));
    long warmupInterval = (long) (intervalNanos / warmupRate);
    long start = System.nanoTime();
    long warmupEnd = start + java.util.concurrent.TimeUnit.SECONDS.toNanos(warmupSeconds());
    long end = warmupEnd + java.util.concurrent.TimeUnit.SECONDS.toNanos(seconds);
    long next = start;
    boolean warm = false;
    while (next < end && seq + txRows < committed.length) {
      long now = System.nanoTime();
      if (now < next) {
        java.util.concurrent.locks.LockSupport.parkNanos(Math.min(next - now, 200_000));
        continue;
      }
      if (!warm && now >= warmupEnd) {
        warm = true;
        next = Math.max(next, warmupEnd);
        warmedUp.run();
      }
      long first = seq;
      for (int i = 0; i < txRows; i++) {
        binder.bind(statement, seq);
        statement.addBatch();
        seq++;
      }
      statement.executeBatch();
      c.commit();
      long done = System.nanoTime();
      for (long s = first; s < seq; s++) {
        committed[(int) s] = done;
      }
      next += warm ? intervalNanos : warmupInterval;
    }
    return seq;
  }
}
