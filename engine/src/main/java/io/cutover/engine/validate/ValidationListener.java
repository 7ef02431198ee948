package io.cutover.engine.validate;

/**
 * Alerts from continuous validation. Called on the validator's thread; keep it quick (hand work off).
 */
public interface ValidationListener {

  /**
   * A discrepancy is reported: seen at once ({@link Consistency#STRICT}), or persisting past the lag tolerance
   * ({@link Consistency#EVENTUAL}). Called once per discrepancy until it disappears.
   *
   * @param discrepancy the discrepancy.
   */
  void onDiscrepancy(Discrepancy discrepancy);

  /**
   * A table pair was validated.
   *
   * @param report the run's report (including discrepancies still held back).
   * @param reported how many of its discrepancies are reported (the rest are held back as possibly in flight).
   */
  default void onValidated(ValidationReport report, int reported) {}

  /**
   * The pipeline is behind by more than the lag tolerance (marks written after a round's reads did not pass it in
   * time), so no row is reported until it catches up. Called once when this starts; again only after it caught up.
   *
   * @param behind how far behind it is, at least.
   */
  default void onLagExceedsTolerance(java.time.Duration behind) {}
}
