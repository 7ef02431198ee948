package io.cutover.engine.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.Operation;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import io.cutover.engine.event.Value;
import io.cutover.engine.sync.internal.RowState;
import io.cutover.engine.sync.internal.StateStore;
import io.cutover.journal.Journal;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sync state store: a batch is durable with its journal index, or not at all. */
class StateStoreTest {
  @TempDir Path dir;

  @Test
  void shouldDiscardAFailedBatchEvenBeforeTheFirstCommitAndKeepACommittedOne() throws Exception {
    Path file = dir.resolve("sync.mv.db");
    byte[] key = StateStore.rowKey("item", Row.of("id", Value.of(1L)));
    try (StateStore store = new StateStore(file, 10)) {
      assertEquals(Journal.NO_INDEX, store.position());
      store.put(key, RowState.existing(Row.of("id", Value.of(1L), "n", Value.of(1L)), 5));
      store.pause("item", "column x is not in the monolith's table item");
      store.rollback(); // the first batch failed: nothing of it stays, and the store still works
      assertNull(store.get(key));
      assertTrue(store.paused().isEmpty());
      store.put(key, RowState.existing(Row.of("id", Value.of(1L), "n", Value.of(2L)), 6));
      store.hold(42, ChangeEvent.builder(Side.MONOLITH, "note", Operation.DELETE).key(Row.of("id", Value.of(9L)))
          .build());
      store.commit(7, true);
    }
    try (StateStore store = new StateStore(file, 10)) {
      assertEquals(7, store.position());
      assertEquals(Value.of(2L), store.get(key).row().get("n"));
      assertEquals(1, store.heldCount());
      assertEquals(42L, store.held("note").firstKey());
      store.release(42);
      assertEquals(0, store.heldCount());
    }
  }

  /**
   * A batch is all or nothing even when it is big (the catch-up after a restart): the store must not write part of
   * it to the file by itself (H2's auto-commit buffer did, after about 20 MB of changes), or a rollback, or a kill
   * before the commit, leaves those rows' new positions behind with the old journal index, and their changes are
   * dropped as already applied when the batch is decided again (docs/defects/sync-crash-soak-2026-12-07.md,
   * cause 3).
   */
  @Test
  void aBigBatchRolledBackLeavesNothingOfItBehind() throws Exception {
    Path file = dir.resolve("big.mv.db");
    int rows = 40_000;
    String padding = "x".repeat(200);
    try (StateStore store = new StateStore(file, 10)) {
      for (long id = 0; id < rows; id++) {
        store.put(StateStore.rowKey("users", Row.of("id", Value.of(id))), RowState.existing(Row.of("id",
            Value.of(id), "name", Value.of(padding), "n", Value.of(1L)), 1));
        if (id % 5_000 == 4_999 && id < rows - 1) {
          store.commit(id, false);
        }
      }
      store.commit(rows, false);
      for (long id = 0; id < rows; id++) {
        store.put(StateStore.rowKey("users", Row.of("id", Value.of(id))), RowState.existing(Row.of("id",
            Value.of(id), "name", Value.of(padding + id), "n", Value.of(2L)), 2));
      }
      store.rollback();
      for (long id = 0; id < rows; id++) {
        assertEquals(Value.of(1L), store.get(StateStore.rowKey("users", Row.of("id", Value.of(id)))).row().get("n"),
            "row " + id + " as committed");
      }
    }
    try (StateStore store = new StateStore(file, 10)) {
      assertEquals(rows, store.position());
      for (long id = 0; id < rows; id++) {
        assertEquals(Value.of(1L), store.get(StateStore.rowKey("users", Row.of("id", Value.of(id)))).row().get("n"),
            "row " + id + " as committed, after reopening");
      }
    }
  }

  /**
   * A state file exactly as a SIGKILL left it (a child JVM committed nine batches of five rows and was killed): H2
   * 2.5.252 reopens such a file one commit back, and its first rollback (or a clean close and reopen) then fell
   * back to the maps' creation and forgot where the data lives: {@code Chunk N not found} on every read after,
   * for ever (the Kafka soak's apply instance stuck after its restart; docs/defects/sync-crash-soak-2026-12-07.md,
   * cause 5). The store copies such a file's live data into a fresh one when it opens it.
   */
  @Test
  void aFileLeftByAKillSurvivesARollbackAndAReopen() throws Exception {
    Path file = dir.resolve("sync-killed.mv.db");
    try (java.io.InputStream in = getClass().getResourceAsStream("/state/killed-after-9-commits.mv.db")) {
      java.nio.file.Files.copy(in, file);
    }
    long reopenedAt;
    try (StateStore store = new StateStore(file, 10)) {
      reopenedAt = store.position();
      assertTrue(reopenedAt >= 8, "the kill costs at most the last commit, which the journal replays: " + reopenedAt);
      store.rollback(); // a failed batch
      for (long id = 0; id < 5; id++) {
        assertEquals(Value.of("n" + reopenedAt), store.get(StateStore.rowKey("users", Row.of("id", Value.of(id))))
            .row().get("name"), "row " + id + " as of the last commit kept");
      }
      store.put(StateStore.rowKey("users", Row.of("id", Value.of(0L))), RowState.existing(Row.of("id",
          Value.of(0L)), 10));
      store.commit(10, false);
    }
    try (StateStore store = new StateStore(file, 10)) {
      assertEquals(10, store.position());
      assertEquals(Value.of("n" + reopenedAt), store.get(StateStore.rowKey("users", Row.of("id", Value.of(4L))))
          .row().get("name"));
    }
  }

  @Test
  void shouldRestoreEverythingFromItsChangesInAnotherStore() throws Exception {
    byte[] one = StateStore.rowKey("item", Row.of("id", Value.of(1L)));
    byte[] two = StateStore.rowKey("item", Row.of("id", Value.of(2L)));
    java.util.List<StateChangelog.Entry> log = new java.util.ArrayList<>();
    io.cutover.engine.sync.Conflict conflict;
    try (StateStore store = new StateStore(dir.resolve("a.mv.db"), 10)) {
      store.keepChanges();
      RowState parked = RowState.existing(Row.of("id", Value.of(2L), "n", Value.of(1L)), 3);
      store.put(one, RowState.existing(Row.of("id", Value.of(1L), "n", Value.of(1L)), 5));
      store.put(two, parked);
      store.pause("note", "column x is missing");
      store.hold(900, ChangeEvent.builder(Side.MONOLITH, "note", Operation.DELETE).key(Row.of("id", Value.of(8L)))
          .build());
      store.hold(901, ChangeEvent.builder(Side.MONOLITH, "note", Operation.DELETE).key(Row.of("id", Value.of(9L)))
          .build());
      store.pause("gone", "dropped");
      log.addAll(store.takeChanges());
      store.commit(901, false);
      store.release(900);
      store.hold(900, ChangeEvent.builder(Side.MONOLITH, "note", Operation.DELETE).key(Row.of("id", Value.of(8L)))
          .build());
      store.rollback(); // a failed batch: its changes never reach the log
      assertTrue(store.takeChanges().isEmpty());
      store.unpause("gone");
      conflict = new io.cutover.engine.sync.Conflict(77, "item", Row.of("id", Value.of(2L)),
          io.cutover.engine.sync.Conflict.Kind.UPDATE_UPDATE, Side.MONOLITH, null, 1, Side.service("s"), null, 2,
          java.util.List.of(), java.util.List.of("row: manual -> parked"), null,
          io.cutover.engine.sync.Conflict.Outcome.PARKED, 3, 4);
      store.record(conflict);
      store.put(two, RowState.existing(Row.of("id", Value.of(2L), "n", Value.of(2L)), 6));
      log.addAll(store.takeChanges());
      store.commit(902, false);
    }
    try (StateStore copy = new StateStore(dir.resolve("b.mv.db"), 10)) {
      copy.put(StateStore.rowKey("stale", Row.of("id", Value.of(5L))), RowState.deleted(1));
      copy.commit(5_000, false);
      copy.restore(log);
      assertEquals(Journal.NO_INDEX, copy.position(), "the journal position is this instance's own");
      assertNull(copy.get(StateStore.rowKey("stale", Row.of("id", Value.of(5L)))), "what was there is replaced");
      assertEquals(Value.of(1L), copy.get(one).row().get("n"));
      assertEquals(Value.of(2L), copy.get(two).row().get("n"));
      assertEquals(java.util.Map.of("note", "column x is missing"), copy.paused());
      assertEquals(java.util.List.of(1L, 2L), java.util.List.copyOf(copy.held("note").keySet()),
          "held changes keep their order under small keys");
      assertEquals(conflict, copy.conflict(77));
    }
  }

  @Test
  void shouldKeepItsFileNearItsLiveSizeThroughManyCommits() throws Exception {
    // Without reclaiming old chunks the file grew by about 100 KiB a batch: 300 MB for 3,000 batches.
    Path file = dir.resolve("busy.mv.db");
    try (StateStore store = new StateStore(file, 100)) {
      for (int batch = 0; batch < 2_000; batch++) {
        for (int i = 0; i < 50; i++) {
          long id = (batch * 50L + i) % 5_000;
          store.put(StateStore.rowKey("item", Row.of("id", Value.of(id))),
              RowState.existing(Row.of("id", Value.of(id), "n", Value.of((long) batch)), batch));
        }
        store.commit(batch, false);
      }
      assertTrue(store.fileBytes() < 16L << 20, "state file of " + store.fileBytes() + " bytes for 5,000 rows");
      assertEquals(1_999, store.position());
    }
  }

  /**
   * A batch that changed no state (rows mirrored one way, whose positions the databases keep) writes nothing here:
   * a commit per such batch cost the one-way path a chunk written per batch. The position still moves with the
   * next batch that changes something, at least once a second, and on a clean stop.
   */
  @Test
  void aBatchThatChangedNothingWritesNothingAndTheNextChangeMovesThePosition() throws Exception {
    Path file = dir.resolve("quiet.mv.db");
    byte[] key = StateStore.rowKey("item", Row.of("id", Value.of(1L)));
    try (StateStore store = new StateStore(file, 10)) {
      store.put(key, RowState.existing(Row.of("id", Value.of(1L)), 1));
      long before = System.nanoTime(); // the interval starts within this commit
      store.commit(5, false);
      long size = store.fileBytes();
      for (long batch = 6; batch < 200; batch++) {
        store.commit(batch, false);
      }
      boolean withinInterval = System.nanoTime() - before < StateStore.POSITION_EVERY_NANOS;
      if (withinInterval) {
        assertEquals(5, store.position(), "batches that changed nothing leave the position for later");
        assertEquals(size, store.fileBytes(), "and write nothing");
      }
    }
    try (StateStore store = new StateStore(file, 10)) {
      assertEquals(199, store.position(), "a clean stop writes the last batch's position");
      store.put(key, RowState.existing(Row.of("id", Value.of(1L)), 2));
      store.commit(200, false);
      assertEquals(200, store.position());
    }
    try (StateStore store = new StateStore(file, 10)) {
      assertEquals(200, store.position());
    }
  }

  /**
   * Batches decided from their changes and the state only may wait for a later store commit (one commit writes the
   * B-tree pages of many small batches at once). A failed batch then takes back its own changes only, not those of
   * the batches waiting before it; a clean stop writes them; a crash leaves the position of the last commit, from
   * which the journal replays the waiting batches.
   */
  @Test
  void batchesThatMayWaitAreWrittenTogetherAndAFailedOneTakesBackOnlyItsOwn() throws Exception {
    Path file = dir.resolve("waiting.mv.db");
    Path crashed = dir.resolve("crashed.mv.db");
    byte[] one = StateStore.rowKey("item", Row.of("id", Value.of(1L)));
    byte[] two = StateStore.rowKey("item", Row.of("id", Value.of(2L)));
    byte[] three = StateStore.rowKey("item", Row.of("id", Value.of(3L)));
    try (StateStore store = new StateStore(file, 10)) {
      store.put(one, RowState.existing(Row.of("id", Value.of(1L), "n", Value.of(1L)), 1));
      long before = System.nanoTime(); // the interval starts within this commit
      store.commit(1, false, true); // the first commit is written: nothing was written for a while
      store.put(two, RowState.existing(Row.of("id", Value.of(2L), "n", Value.of(1L)), 2));
      store.commit(2, false, true);
      store.put(two, RowState.existing(Row.of("id", Value.of(2L), "n", Value.of(2L)), 3));
      store.put(three, RowState.existing(Row.of("id", Value.of(3L)), 3));
      store.pause("item", "column x is not in the monolith's table item");
      store.rollback(); // this batch failed: it is decided again; batch 2 stays
      assertEquals(Value.of(1L), store.get(two).row().get("n"));
      assertNull(store.get(three));
      assertTrue(store.holdsNothing());
      store.put(one, RowState.existing(Row.of("id", Value.of(1L), "n", Value.of(3L)), 4));
      store.commit(3, false, true);
      if (System.nanoTime() - before < StateStore.POSITION_EVERY_NANOS) {
        assertEquals(1, store.position(), "batches 2 and 3 wait");
        java.nio.file.Files.copy(file, crashed); // the file as a kill now would leave it
      }
    }
    try (StateStore store = new StateStore(file, 10)) {
      assertEquals(3, store.position(), "a clean stop writes the waiting batches");
      assertEquals(Value.of(1L), store.get(two).row().get("n"));
      assertEquals(Value.of(3L), store.get(one).row().get("n"));
      assertNull(store.get(three));
      store.put(three, RowState.existing(Row.of("id", Value.of(3L)), 5));
      store.commit(4, false, false); // may not wait: written at once
      assertEquals(4, store.position());
    }
    if (java.nio.file.Files.exists(crashed)) {
      try (StateStore store = new StateStore(crashed, 10)) {
        assertEquals(1, store.position(), "after a kill the journal replays batches 2 and 3");
        assertNull(store.get(two));
        assertEquals(Value.of(1L), store.get(one).row().get("n"));
      }
    }
  }
}
