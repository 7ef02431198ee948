package io.cutover.engine.pipeline.internal;

/** Thrown inside a stage thread to abandon a retry because the pipeline is stopping. */
final class StageHaltedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  StageHaltedException() {
    super("pipeline stopping", null, false, false);
  }
}
