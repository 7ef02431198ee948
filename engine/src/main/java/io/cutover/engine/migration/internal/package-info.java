/** Wiring of a migration out of the engine's parts (Kafka). */
package io.cutover.engine.migration.internal;
