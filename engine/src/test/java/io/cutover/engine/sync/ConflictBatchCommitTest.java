package io.cutover.engine.sync;

import static io.cutover.engine.testing.TestSupport.exec;
import static io.cutover.engine.testing.TestSupport.record;
import static io.cutover.engine.testing.TestSupport.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cutover.engine.apply.TableMapping;
import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.Operation;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import io.cutover.engine.event.SourcePosition;
import io.cutover.engine.event.Value;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A batch whose conflicts its tables' rules resolved may leave its state-store commit to a later batch: decided
 * again after a crash, it gives the same writes and replaces its conflict record rather than adding one. A batch
 * with a parked conflict commits at once.
 */
class ConflictBatchCommitTest {
  private static final Side SERVICE = Side.service("accounts");
  @TempDir Path dir;

  @Test
  void aBatchWhoseConflictItsRulesResolvedMayWaitAndIsDecidedAgainAlikeAfterACrash() throws Exception {
    DataSource monolith = sides("m");
    DataSource service = sides("s");
    Path copy = dir.resolve("copy");
    exec(monolith, "UPDATE account SET owner = 'b'"); // each side's application changed the row
    exec(service, "UPDATE account SET owner = 'c'");
    try (BidirectionalSync sync = sync(monolith, service, dir.resolve("run"), ConflictPolicy.LAST_WRITER_WINS)) {
      sync.onChange(record(1, owner(Side.MONOLITH, "a", "b", 10)));
      sync.onBatchEnd();
      assertEquals(1, sync.durablePosition());
      sync.onChange(record(2, owner(SERVICE, "a", "c", 11))); // the service changed it before seeing "b"
      sync.onBatchEnd();
      assertEquals(List.of("c"), rows(monolith, "SELECT owner FROM account"), "the later change won");
      assertEquals(1, sync.conflicts(10).size());
      assertEquals(1, sync.durablePosition(), "the batch's store commit waits");
      // the state as a kill now would leave it
      Files.createDirectories(copy);
      try (var files = Files.list(dir.resolve("run"))) {
        for (Path file : files.toList()) {
          Files.copy(file, copy.resolve(file.getFileName()));
        }
      }
    }
    try (BidirectionalSync again = sync(monolith, service, copy, ConflictPolicy.LAST_WRITER_WINS)) {
      assertEquals(1, again.durablePosition(), "the journal replays the batch that waited");
      again.onChange(record(2, owner(SERVICE, "a", "c", 11)));
      again.onBatchEnd();
      assertEquals(1, again.conflicts(10).size(), "decided again, its record replaced, not added");
      assertEquals(List.of("c"), rows(monolith, "SELECT owner FROM account"));
      assertEquals(List.of("c"), rows(service, "SELECT owner FROM account"));
    }
  }

  @Test
  void aBatchWithAParkedConflictCommitsAtOnce() throws Exception {
    DataSource monolith = sides("pm");
    DataSource service = sides("ps");
    exec(monolith, "UPDATE account SET owner = 'b'");
    exec(service, "UPDATE account SET owner = 'c'");
    try (BidirectionalSync sync = sync(monolith, service, dir.resolve("parked"), ConflictPolicy.of(Rule.MANUAL))) {
      sync.onChange(record(1, owner(Side.MONOLITH, "a", "b", 10)));
      sync.onBatchEnd();
      sync.onChange(record(2, owner(SERVICE, "a", "c", 11)));
      sync.onBatchEnd();
      assertEquals(1, sync.parked().size());
      assertEquals(2, sync.durablePosition());
    }
  }

  private static DataSource sides(String name) throws Exception {
    DataSource ds = H2SyncFixture.h2("conflict-commit-" + name);
    exec(ds, "CREATE TABLE account (id BIGINT PRIMARY KEY, owner VARCHAR(20) NOT NULL)",
        "INSERT INTO account VALUES (1, 'a')");
    return ds;
  }

  private static BidirectionalSync sync(DataSource monolith, DataSource service, Path state,
      ConflictPolicy policy) {
    return BidirectionalSync.builder("accounts", monolith, service, state).syncState(false)
        .table(TableMapping.identity("account"), policy).build();
  }

  private static ChangeEvent owner(Side side, String before, String after, long position) {
    return ChangeEvent.builder(side, "account", Operation.UPDATE).key(Row.of("id", Value.of(1L)))
        .before(Row.of("id", Value.of(1L), "owner", Value.of(before)))
        .after(Row.of("id", Value.of(1L), "owner", Value.of(after)))
        .changedColumns(List.of("owner")).position(SourcePosition.triggerSequence(position))
        .hlc(position << 16).commitTimeMicros(1_764_000_000_000_000L + position).build();
  }
}
