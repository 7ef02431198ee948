package io.cutover.engine.validate;

import io.cutover.engine.event.Row;

/**
 * One planned repair: which side's version of a row wins and what the other side gets.
 *
 * @param discrepancy the discrepancy repaired.
 * @param winner the side whose version is kept: {@link Authority#MONOLITH} or {@link Authority#SERVICE}.
 * @param action what the other side gets.
 * @param row the winner's row (service names) for {@link Action#COPY}; null for {@link Action#DELETE}.
 */
public record Repair(Discrepancy discrepancy, Authority winner, Action action, Row row) {

  /** What a repair does to the losing side. */
  public enum Action {
    /** The winner's row is written (inserted or overwritten). */
    COPY,
    /** The row is deleted (the winner does not hold it). */
    DELETE
  }

  /**
   * One line for people.
   *
   * @return the description.
   */
  public String describe() {
    String loser = winner == Authority.MONOLITH ? "service" : "monolith";
    return discrepancy.table() + " " + discrepancy.key() + ": "
        + (action == Action.COPY ? "copy the " + winner.name().toLowerCase(java.util.Locale.ROOT) + "'s row to the "
            + loser : "delete from the " + loser) + " (" + discrepancy.kind() + ")";
  }
}
