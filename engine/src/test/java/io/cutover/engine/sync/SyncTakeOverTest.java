package io.cutover.engine.sync;

import static io.cutover.engine.testing.TestSupport.exec;
import static io.cutover.engine.testing.TestSupport.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.apply.TableMapping;
import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.Operation;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import io.cutover.engine.event.SourcePosition;
import io.cutover.engine.event.Value;
import io.cutover.engine.pipeline.ChangeRecord;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A service's sync taken over by another instance from its state changelog, deterministically: the first owner
 * appends a batch to the changelog and dies before its write reaches the service; the successor finishes that
 * write exactly once, drops the re-delivered change, fences the first owner, and carries on.
 */
class SyncTakeOverTest {
  @TempDir Path dir;

  /** A changelog shared by the instances in memory; the last to take over is its only writer. */
  private static final class Log {
    final List<StateChangelog.Entry> entries = new ArrayList<>();
    int epoch;
  }

  private static final class Handle implements StateChangelog {
    private final Log log;
    private int epoch = -1;
    /** Dies right after the next append: the batch is in the changelog, none of its writes in a database. */
    boolean dieAfterAppend;

    Handle(Log log) {
      this.log = log;
    }

    @Override
    public void takeOver(Consumer<Entry> into) {
      epoch = ++log.epoch;
      log.entries.forEach(into);
    }

    @Override
    public void append(List<Entry> entries) {
      if (epoch != log.epoch) {
        throw new StateChangelog.Fenced("fenced: another instance took the service over", null);
      }
      log.entries.addAll(entries);
      if (dieAfterAppend) {
        dieAfterAppend = false;
        throw new IllegalStateException("died after the write-ahead");
      }
    }

    @Override
    public void close() {
      // nothing held
    }
  }

  private static ChangeRecord record(long index, ChangeEvent event) {
    return io.cutover.engine.testing.TestSupport.record(index, event);
  }

  private static ChangeEvent visits(long before, long after, long position) {
    return ChangeEvent.builder(Side.MONOLITH, "account", Operation.UPDATE).key(Row.of("id", Value.of(1L)))
        .before(Row.of("id", Value.of(1L), "owner", Value.of("a"), "visits", Value.of(before)))
        .after(Row.of("id", Value.of(1L), "owner", Value.of("a"), "visits", Value.of(after)))
        .changedColumns(List.of("visits")).position(SourcePosition.triggerSequence(position))
        .hlc(position << 16).commitTimeMicros(1_764_000_000_000_000L + position).build();
  }

  private BidirectionalSync sync(String name, DataSource monolith, DataSource service, StateChangelog changelog) {
    return sync("accounts", name, monolith, service, changelog);
  }

  private BidirectionalSync sync(String serviceName, String name, DataSource monolith, DataSource service,
      StateChangelog changelog) {
    return BidirectionalSync.builder(serviceName, monolith, service, dir.resolve(name)).syncState(false)
        .table(TableMapping.identity("account"), ConflictPolicy.LAST_WRITER_WINS.column("visits", Rule.COUNTER))
        .changelog(changelog).build();
  }

  private static long serviceVisits(DataSource service) throws SQLException {
    return Long.parseLong(rows(service, "SELECT visits FROM account WHERE id = 1").get(0));
  }

  @Test
  void theSuccessorFinishesTheLastBatchOnceAndFencesTheDeadOwner() throws Exception {
    DataSource monolith = H2SyncFixture.h2("takeover-m");
    DataSource service = H2SyncFixture.h2("takeover-s");
    for (DataSource ds : List.of(monolith, service)) {
      exec(ds, "CREATE TABLE account (id BIGINT PRIMARY KEY, owner VARCHAR(20) NOT NULL, visits BIGINT NOT NULL)",
          "INSERT INTO account VALUES (1, 'a', 0)");
    }
    Log log = new Log();
    Handle firstLog = new Handle(log);
    try (BidirectionalSync first = sync("first", monolith, service, firstLog)) {
      first.onChange(record(1, BidirectionalSync.takeOver("accounts")));
      first.onBatchEnd();
      first.onChange(record(2, visits(0, 3, 10)));
      first.onBatchEnd();
      assertEquals(3, serviceVisits(service));
      firstLog.dieAfterAppend = true;
      first.onChange(record(3, visits(3, 5, 11)));
      assertThrows(IllegalStateException.class, first::onBatchEnd, "its write never reaches the service");
      assertEquals(3, serviceVisits(service));
      assertTrue(log.entries.stream().anyMatch(e -> e.map().equals("batch")), "but the batch is in the changelog");

      try (BidirectionalSync second = sync("second", monolith, service, new Handle(log))) {
        second.onChange(record(1, BidirectionalSync.takeOver("accounts")));
        second.onBatchEnd();
        assertEquals(5, serviceVisits(service), "the successor finished the dead owner's last batch");
        second.onChange(record(2, visits(3, 5, 11)));
        second.onBatchEnd();
        assertEquals(5, serviceVisits(service), "the change re-delivered from Kafka counts once");
        second.onChange(record(3, BidirectionalSync.takeOver("elsewhere")));
        second.onBatchEnd();

        first.onChange(record(4, visits(5, 9, 12)));
        first.onBatchEnd(); // fenced: it stands down instead of failing the batch for ever
        assertEquals(5, serviceVisits(service), "a fenced owner writes nothing");
        first.onChange(record(5, visits(9, 10, 13)));
        first.onBatchEnd();
        assertEquals(5, serviceVisits(service), "nor later");

        second.onChange(record(4, visits(5, 6, 12)));
        second.onBatchEnd();
        assertEquals(6, serviceVisits(service));
        second.onChange(record(5, BidirectionalSync.takeOver("accounts")));
        second.onBatchEnd();
        assertEquals(6, serviceVisits(service), "taking over again from its own log changes nothing");
        assertEquals(2, rows(service, "SELECT applier FROM cutover_apply_position WHERE applier LIKE "
            + "'sync-accounts#%'").size(), "each incarnation records its positions under its own name");

        // the service comes back to the instance that stood down: the take-over behind its dropped changes is
        // reached, and it carries on from the changelog
        first.onChange(record(6, BidirectionalSync.takeOver("accounts")));
        first.onChange(record(7, visits(6, 8, 13)));
        first.onBatchEnd();
        assertEquals(8, serviceVisits(service));
        second.onChange(record(6, visits(8, 9, 14)));
        second.onBatchEnd();
        assertEquals(8, serviceVisits(service), "and the other one stands down in its turn");
      }
    }
  }

  /**
   * On PostgreSQL each side's apply sessions are marked with a replication origin named after the sync, which only
   * one session at a time may hold. The previous owner here is alive and idle, still holding the origin on its
   * session (it learns it was fenced only at its next batch, perhaps never): the successor ends that session and
   * carries on, instead of failing to mark its own sessions for as long as the previous owner lives.
   */
  @Test
  void onPostgresTheSuccessorTakesTheReplicationOriginFromAPreviousOwnerStillHoldingIt() throws Exception {
    DataSource monolith = io.cutover.engine.testing.Postgres.newDatabase("takeover_m");
    DataSource service = io.cutover.engine.testing.Postgres.newDatabase("takeover_s");
    for (DataSource ds : List.of(monolith, service)) {
      exec(ds, "CREATE TABLE account (id BIGINT PRIMARY KEY, owner VARCHAR(20) NOT NULL, visits BIGINT NOT NULL)",
          "INSERT INTO account VALUES (1, 'a', 0)");
    }
    String origin = io.cutover.engine.db.ApplySessions.origin("sync-originheld_service");
    String holders = "SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + origin + "'";
    Log log = new Log();
    try (BidirectionalSync first = sync("originheld", "pg-first", monolith, service, new Handle(log));
        BidirectionalSync second = sync("originheld", "pg-second", monolith, service, new Handle(log))) {
      first.onChange(record(1, BidirectionalSync.takeOver("originheld")));
      first.onBatchEnd();
      first.onChange(record(2, visits(0, 3, 10)));
      first.onBatchEnd();
      assertEquals(3, serviceVisits(service));
      assertEquals(List.of("1"), rows(service, holders), "the owner's idle session holds the origin, under its name");

      second.onChange(record(1, BidirectionalSync.takeOver("originheld")));
      second.onBatchEnd();
      second.onChange(record(2, visits(0, 3, 10)));
      second.onChange(record(3, visits(3, 5, 11)));
      second.onBatchEnd();
      assertEquals(5, serviceVisits(service), "the successor writes, on the origin it took; each change once");
      assertEquals(List.of("1"), rows(service, holders));

      first.onChange(record(3, visits(5, 9, 12)));
      first.onBatchEnd(); // fenced: stands down
      assertEquals(5, serviceVisits(service), "the previous owner writes nothing more");
      first.onChange(record(4, BidirectionalSync.takeOver("originheld")));
      first.onChange(record(5, visits(5, 9, 12)));
      first.onBatchEnd();
      assertEquals(9, serviceVisits(service), "the first owner took the service and the origin back");
      second.onChange(record(4, visits(9, 10, 13)));
      second.onBatchEnd();
      assertEquals(9, serviceVisits(service), "the successor stood down in its turn");
    }
    try (java.sql.Connection c = service.getConnection()) {
      io.cutover.engine.db.ApplySessions.dropOrigin(c, "sync-originheld_service"); // origins are a limited resource
    }
  }

  /** Without a changelog, a second Cutover applying under the same name is refused, clearly, and nothing is ended. */
  @Test
  void onPostgresASecondSessionOfTheSameApplierIsRefusedWithoutATakeOver() throws Exception {
    DataSource db = io.cutover.engine.testing.Postgres.newDatabase("origin_busy");
    try (java.sql.Connection holder = db.getConnection(); java.sql.Connection other = db.getConnection()) {
      io.cutover.engine.db.ApplySessions.mark(holder, "sync-busy_service");
      SQLException busy = assertThrows(SQLException.class, () -> io.cutover.engine.db.ApplySessions.mark(other,
          "sync-busy_service"));
      assertTrue(busy.getMessage().contains("another Cutover instance applies as this one"), busy.getMessage());
      assertTrue(holder.isValid(2), "the holder goes on");
    }
    try (java.sql.Connection c = db.getConnection()) {
      io.cutover.engine.db.ApplySessions.dropOrigin(c, "sync-busy_service");
    }
  }
}
