/**
 * The journal: an append-only, replayable log of change events on Chronicle Queue.
 *
 * <p>Every change event is appended here before anything acknowledges it. Named consumers (pipeline stages)
 * keep a durable checkpoint of the last index they fully handled and resume after it on restart. Records
 * carry a CRC32C so a damaged record is reported, never silently skipped.
 *
 * <p>Public contract: {@link io.cutover.journal.Journal}, {@link io.cutover.journal.JournalConfig},
 * {@link io.cutover.journal.JournalReader}, {@link io.cutover.journal.ConsumerCheckpoint}. The Chronicle
 * wiring lives in {@code io.cutover.journal.internal}, which nothing outside this module imports.
 */
package io.cutover.journal;
