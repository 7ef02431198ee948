/**
 * Apply: the one writer of changes into a database, {@link io.cutover.engine.apply.SideWriter}, used by tables
 * synced one way, by bi-directional sync and by the engine API's handler
 * ({@link io.cutover.engine.apply.JdbcApplier}). It writes a batch in one transaction with its journal position
 * ({@code cutover_apply_position}, exactly once in effect), on a session capture does not echo, through a
 * {@link io.cutover.engine.apply.TableMapping} from the source's tables and columns to the target's (and back, for
 * changes captured at the target). {@link io.cutover.engine.apply.Mirror} turns a change of a table whose source
 * is its only writer into the writes that mirror it.
 */
package io.cutover.engine.apply;
