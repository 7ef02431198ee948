/**
 * Online backfill: copies a mapped table's existing rows into the change stream while changes keep flowing, in
 * key-ordered chunks bracketed by watermarks written to the source (Netflix's DBLog algorithm, also behind
 * Debezium's incremental snapshots), so a row changed during the copy is never overwritten by its older snapshot.
 * {@link io.cutover.engine.backfill.Backfill} runs it; {@link io.cutover.engine.backfill.BackfillProgress} reports
 * it; the watermark handling sits between a capture and the pipeline ({@code internal}).
 */
package io.cutover.engine.backfill;
