/** LMAX Disruptor wiring behind {@link io.cutover.engine.pipeline.Pipeline}. Nothing outside the engine imports it. */
package io.cutover.engine.pipeline.internal;
