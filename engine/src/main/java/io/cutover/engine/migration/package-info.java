/**
 * A running migration assembled from its configuration: capture of the monolith, the journaled pipeline, and one
 * applier per service ({@link io.cutover.engine.migration.Migration}).
 */
package io.cutover.engine.migration;
