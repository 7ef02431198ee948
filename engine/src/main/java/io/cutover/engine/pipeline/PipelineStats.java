package io.cutover.engine.pipeline;

import java.util.List;

/**
 * A snapshot of a pipeline.
 *
 * @param published changes published since start (replayed ones not counted).
 * @param replayed changes replayed from the journal at start.
 * @param durable changes published since start that are durable in the journal.
 * @param inFlight changes claimed by producers and not yet handled by every stage: at most the ring size plus
 *     one per producer waiting for a free slot (the ring's slots are pre-allocated, so memory stays bounded).
 * @param journalLastIndex the journal's last index.
 * @param stages per stage and handler, in pipeline order.
 */
public record PipelineStats(
    long published, long replayed, long durable, long inFlight, long journalLastIndex, List<StageStats> stages) {

  /** Copies the list. */
  public PipelineStats {
    stages = List.copyOf(stages);
  }

  /**
   * The statistics of one handler.
   *
   * @param handler a handler's name, or {@code journal}.
   * @return its statistics.
   * @throws IllegalArgumentException if there is no such handler.
   */
  public StageStats stage(String handler) {
    return stages.stream().filter(s -> s.handler().equals(handler)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no pipeline handler named " + handler));
  }
}
