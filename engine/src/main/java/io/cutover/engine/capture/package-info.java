/**
 * Change capture: turns committed changes in a database into change events published to the pipeline.
 * {@link io.cutover.engine.capture.ChangeCapture} is the contract; {@link io.cutover.engine.capture.TriggerCapture}
 * captures through triggers and a change table (any database without logical decoding, the embedded H2 default
 * first). Database wiring lives in {@code internal}.
 */
package io.cutover.engine.capture;
