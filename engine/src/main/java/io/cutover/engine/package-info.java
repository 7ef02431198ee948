/**
 * The Cutover engine, one package per capability: {@code event} (the change-event model and its codecs),
 * {@code clock} (hybrid logical clocks), {@code pipeline} (the Disruptor ring journaled to Chronicle Queue).
 * Each package's public contract sits at its root; library wiring lives in its {@code internal} sub-package.
 */
package io.cutover.engine;
