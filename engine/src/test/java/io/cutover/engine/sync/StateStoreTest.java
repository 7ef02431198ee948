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
}
