package io.cutover.engine.validate;

/** How continuous validation treats rows whose changes may still be in flight. */
public enum Consistency {
  /** Every divergence seen is reported at once. */
  STRICT,
  /**
   * A divergence is reported only once it has persisted past the lag tolerance and its row has had no change
   * within the tolerance: rows merely in transit are held back.
   */
  EVENTUAL
}
