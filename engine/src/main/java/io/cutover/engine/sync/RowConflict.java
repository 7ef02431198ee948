package io.cutover.engine.sync;

import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;

/**
 * A row one side updated while the other deleted it.
 *
 * @param table the monolith's table.
 * @param key the row's primary key.
 * @param updater the side that updated it.
 * @param updated the updated row.
 * @param updateHlc the update's hybrid-logical-clock timestamp.
 * @param deleter the side that deleted it.
 * @param deleteHlc the delete's timestamp.
 */
public record RowConflict(String table, Row key, Side updater, Row updated, long updateHlc, Side deleter,
    long deleteHlc) {}
