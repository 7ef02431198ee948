package io.cutover.journal;

import java.util.List;

/**
 * What {@link Journal#verify()} found.
 *
 * @param records how many records were read, damaged or not.
 * @param firstIndex the first index read, or {@link Journal#NO_INDEX}.
 * @param lastIndex the last index read, or {@link Journal#NO_INDEX}.
 * @param damaged indexes whose checksum did not match, in order; never null.
 * @param quarantined indexes skipped because an operator quarantined them; never null.
 */
public record VerifyReport(long records, long firstIndex, long lastIndex, List<Long> damaged, List<Long> quarantined) {

  /** Copies the lists so the report is immutable. */
  public VerifyReport {
    damaged = List.copyOf(damaged);
    quarantined = List.copyOf(quarantined);
  }

  /**
   * Whether every record is intact.
   *
   * @return true if nothing is damaged.
   */
  public boolean ok() {
    return damaged.isEmpty();
  }
}
