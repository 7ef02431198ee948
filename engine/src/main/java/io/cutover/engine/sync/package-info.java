/**
 * Bi-directional sync between the monolith and one service: both directions at once through the mapping, no
 * echo, conflicts detected per column against the version both sides last agreed on, and resolved by a
 * {@link io.cutover.engine.sync.ConflictPolicy}: last writer wins on hybrid-logical-clock timestamps, a side's
 * priority, max/min/counter-delta merges, a {@link io.cutover.engine.sync.ConflictResolver} plug-in, or parking
 * for an operator. {@link io.cutover.engine.sync.BidirectionalSync} is the pipeline handler.
 */
package io.cutover.engine.sync;
