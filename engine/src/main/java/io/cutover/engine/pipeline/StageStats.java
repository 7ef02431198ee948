package io.cutover.engine.pipeline;

/**
 * Latency from publish to the end of the batch in which a stage handled a change, since the pipeline started.
 *
 * @param stage the stage ({@code journal}, {@code resolve}, {@code apply}, {@code checksum}).
 * @param handler the handler's name ({@code journal} for the journal stage).
 * @param handled changes handled (replayed ones included, skipped ones not).
 * @param p50Micros median latency.
 * @param p95Micros 95th percentile.
 * @param p99Micros 99th percentile.
 * @param maxMicros the largest latency.
 * @param checkpoint the handler's last checkpointed journal index (the last appended, for the journal stage).
 */
public record StageStats(
    String stage, String handler, long handled, long p50Micros, long p95Micros, long p99Micros, long maxMicros,
    long checkpoint) {}
