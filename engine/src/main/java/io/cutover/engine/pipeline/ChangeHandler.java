package io.cutover.engine.pipeline;

import io.cutover.journal.Journal;

/**
 * A stage handler: resolves, applies or checksums changes. Each handler runs on its own thread and sees every
 * change in journal order, so per-key order holds.
 *
 * <p><b>Delivery.</b> After {@link #onBatchEnd()} returns, the pipeline checkpoints the last journal index of
 * the batch under {@link #name()}. After a crash, changes after the checkpoint are handed over again (with
 * {@link ChangeRecord#replayed()} true). A handler whose effect is not naturally idempotent stores the journal
 * index it has applied together with its effect and returns it from {@link #durablePosition()}: the pipeline
 * then skips everything up to it, which makes the effect exactly once.
 *
 * <p><b>Failures.</b> If {@link #onChange} or {@link #onBatchEnd} throws, the pipeline logs it and calls it
 * again with back-off until it succeeds or the pipeline stops; nothing is skipped. Meanwhile the ring fills and
 * producers wait (back-pressure).
 */
public interface ChangeHandler {

  /**
   * The handler's name, unique within its pipeline; its checkpoint is kept under it.
   *
   * @return 1 to 48 characters from {@code [A-Za-z0-9._-]}.
   */
  String name();

  /**
   * The last journal index whose effect this handler holds durably in its own store, read once at start.
   *
   * @return an index, or {@link Journal#NO_INDEX} when the handler does not track one.
   * @throws Exception if the store cannot be read; the pipeline does not start.
   */
  default long durablePosition() throws Exception {
    return Journal.NO_INDEX;
  }

  /**
   * Whether the pipeline restarts this handler from its {@link #durablePosition()} alone, even where its journal
   * checkpoint is further: for a handler whose store lags its checkpoint after a power loss (it forces its writes
   * to disk now and then, not every batch) and re-handles changes identically.
   *
   * @return false by default: the later of the two.
   */
  default boolean resumesFromDurablePosition() {
    return false;
  }

  /**
   * Handles one change. The record is valid only during the call.
   *
   * @param change the change.
   * @throws Exception to have the change handed over again after a back-off.
   */
  void onChange(ChangeRecord change) throws Exception;

  /**
   * Ends a batch: make the effects of the batch's changes durable (commit, flush). Batch I/O belongs here.
   *
   * @throws Exception to have the end of batch retried after a back-off.
   */
  default void onBatchEnd() throws Exception {}

  /**
   * Why this handler refuses re-deliveries ({@link Pipeline#replay}), or null if it takes them (the default).
   *
   * @return the reason, e.g. that the handler decides each change once against state of its own.
   */
  default String refusesReplay() {
    return null;
  }
}
