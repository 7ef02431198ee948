package io.cutover.journal;

/**
 * How often the journal starts a new file. Retention deletes whole files, so shorter cycles free disk sooner;
 * each cycle holds at most {@link #maxRecordsPerCycle()} records.
 */
public enum JournalRollCycle {
  /** A file a second; for tests of retention. */
  SECONDLY(1_000L, 1L << 32),
  /** A file a minute. */
  MINUTELY(60_000L, 1L << 26),
  /** A file every five minutes. */
  FIVE_MINUTELY(300_000L, 1L << 32),
  /** A file an hour; the default. */
  HOURLY(3_600_000L, 1L << 32),
  /** A file a day. */
  DAILY(86_400_000L, 1L << 32);

  private final long lengthMillis;
  private final long maxRecordsPerCycle;

  JournalRollCycle(long lengthMillis, long maxRecordsPerCycle) {
    this.lengthMillis = lengthMillis;
    this.maxRecordsPerCycle = maxRecordsPerCycle;
  }

  /**
   * The length of one cycle.
   *
   * @return milliseconds.
   */
  public long lengthMillis() {
    return lengthMillis;
  }

  /**
   * The most records one cycle file can hold.
   *
   * @return a count.
   */
  public long maxRecordsPerCycle() {
    return maxRecordsPerCycle;
  }
}
