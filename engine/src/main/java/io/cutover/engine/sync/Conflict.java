package io.cutover.engine.sync;

import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import java.util.List;

/**
 * One detected conflict, as recorded in the audit log: both versions, the columns involved and the decision.
 *
 * @param id unique id (the incoming change's hybrid-logical-clock timestamp).
 * @param table the monolith's table.
 * @param key the row's primary key.
 * @param kind what collided.
 * @param heldSide the side whose version the engine held.
 * @param held that version (null if it was a delete).
 * @param heldHlc its timestamp.
 * @param incomingSide the side of the change that collided with it.
 * @param incoming that change's row (null for a delete).
 * @param incomingHlc its timestamp.
 * @param columns the columns both sides changed (empty for a row-level conflict).
 * @param decisions per column (or "row"), the rule applied and the result.
 * @param resolved the row both sides hold afterwards; null if deleted or parked.
 * @param outcome resolved by policy, parked, or resolved by an operator.
 * @param detectedMicros when it was detected (wall clock, microseconds since the epoch).
 * @param incomingCommitMicros when the incoming change committed at its source (0 if unknown).
 */
public record Conflict(long id, String table, Row key, Kind kind, Side heldSide, Row held, long heldHlc,
    Side incomingSide, Row incoming, long incomingHlc, List<String> columns, List<String> decisions, Row resolved,
    Outcome outcome, long detectedMicros, long incomingCommitMicros) {

  /** What collided. */
  public enum Kind {
    /** Both sides updated the row. */
    UPDATE_UPDATE,
    /** Both sides inserted a row with one key. */
    INSERT_INSERT,
    /** The incoming change updates a row the other side deleted. */
    UPDATE_DELETE,
    /** The incoming change deletes a row the other side updated. */
    DELETE_UPDATE
  }

  /** What became of it. */
  public enum Outcome {
    /** Decided by the table's policy and applied to both sides. */
    RESOLVED,
    /** Parked for an operator; each side keeps its values. */
    PARKED,
    /** An operator chose. */
    RESOLVED_BY_OPERATOR
  }

  /** Copies the lists. */
  public Conflict {
    columns = List.copyOf(columns);
    decisions = List.copyOf(decisions);
  }
}
