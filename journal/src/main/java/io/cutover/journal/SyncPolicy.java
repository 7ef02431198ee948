package io.cutover.journal;

/**
 * When journal records are forced to disk. Every policy survives a killed process (the page cache belongs to
 * the operating system); they differ in what survives power loss or a kernel crash.
 */
public enum SyncPolicy {
  /** Never forced: the OS writes pages back in its own time. Fastest; power loss can lose the last seconds. */
  NONE,
  /** Forced once per batch, by {@link Journal#flush()}: power loss loses nothing flushed. The default. */
  BATCH,
  /** Forced after every record: power loss loses nothing appended. Slowest. */
  EVERY_RECORD
}
