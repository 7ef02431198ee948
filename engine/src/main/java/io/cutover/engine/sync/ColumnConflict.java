package io.cutover.engine.sync;

import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import io.cutover.engine.event.Value;

/**
 * A column both sides changed since the version they agreed on.
 *
 * @param table the monolith's table.
 * @param key the row's primary key.
 * @param column the monolith's column name.
 * @param base the value both sides agreed on, when known (the incoming change's before image); else null.
 * @param held the version the engine holds (already synced), its side and timestamp.
 * @param heldSide the side that wrote it.
 * @param heldHlc its hybrid-logical-clock timestamp (0 when unknown).
 * @param incoming the incoming change's value.
 * @param incomingSide the side it comes from.
 * @param incomingHlc its hybrid-logical-clock timestamp.
 */
public record ColumnConflict(String table, Row key, String column, Value base, Value held, Side heldSide,
    long heldHlc, Value incoming, Side incomingSide, long incomingHlc) {}
