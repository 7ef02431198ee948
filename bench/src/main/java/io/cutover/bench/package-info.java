/**
 * JMH benchmarks and load harnesses. Each benchmark has its baseline beside it, so a figure reads as a ratio:
 * {@link io.cutover.bench.RingThroughputBenchmark} (Disruptor vs ArrayBlockingQueue),
 * {@link io.cutover.bench.JournalAppendBenchmark} (Chronicle journal vs plain FileChannel writes),
 * {@link io.cutover.bench.PipelineThroughputBenchmark} (pipeline vs the same topology on BlockingQueues),
 * {@link io.cutover.bench.PipelineLatencyHarness} (p99 publish-to-applied at a fixed rate).
 */
package io.cutover.bench;
