package io.cutover.engine.validate;

import java.util.Objects;

/**
 * One entry of the {@link AuditLog}.
 *
 * @param timeMicros when, microseconds since the epoch.
 * @param kind what happened.
 * @param service the service concerned.
 * @param table the monolith's table concerned.
 * @param cause why it happened: {@code scheduled}, {@code on demand}, {@code automatic repair}, an operator's
 *     note.
 * @param detail what happened, for people (a run's scope, rows, duration and result; a discrepancy; a repair and
 *     the journal index of its change).
 */
public record AuditEntry(long timeMicros, Kind kind, String service, String table, String cause, String detail) {

  /** What an entry records. */
  public enum Kind {
    /** A validation run of one table pair. */
    VALIDATION,
    /** A discrepancy reported. */
    DISCREPANCY,
    /** A repair sent through the pipeline. */
    REPAIR,
    /** The pipeline found behind by more than the lag tolerance, or caught up again. */
    LAG
  }

  /** Checks that nothing is null. */
  public AuditEntry {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(service, "service");
    Objects.requireNonNull(table, "table");
    Objects.requireNonNull(cause, "cause");
    Objects.requireNonNull(detail, "detail");
  }
}
