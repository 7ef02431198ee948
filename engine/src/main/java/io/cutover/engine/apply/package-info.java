/**
 * Apply: writes journaled changes into a target database, batched, idempotent and exactly once in effect
 * ({@link io.cutover.engine.apply.JdbcApplier}), through a {@link io.cutover.engine.apply.TableMapping} from the
 * source's tables and columns to the target's.
 */
package io.cutover.engine.apply;
