/**
 * The pipeline: change events flow through an LMAX Disruptor ring, are journaled to Chronicle Queue before
 * anything acknowledges them, and are handed to the resolve, apply and checksum stages in that order.
 *
 * <pre>
 * producers --publish--&gt; [ring] --&gt; journal --&gt; resolve --&gt; apply --&gt; checksum
 *                                     |  ack (future completes when durable)
 * </pre>
 *
 * <p>Every stage handler ({@link io.cutover.engine.pipeline.ChangeHandler}) keeps a durable checkpoint in the
 * journal; on start the pipeline replays what each handler had not checkpointed, so an acknowledged event
 * reaches every handler at least once, and an idempotent handler makes the effect exactly once.
 *
 * <p>Public contract: {@link io.cutover.engine.pipeline.Pipeline}, {@link io.cutover.engine.pipeline.PipelineConfig},
 * {@link io.cutover.engine.pipeline.ChangeHandler}, {@link io.cutover.engine.pipeline.ChangeRecord}. The
 * Disruptor wiring lives in {@code internal}.
 */
package io.cutover.engine.pipeline;
