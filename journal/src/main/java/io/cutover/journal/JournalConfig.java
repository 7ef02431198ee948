package io.cutover.journal;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Every tunable of a journal, validated once by {@link Builder#build()}.
 *
 * <table>
 *   <caption>Settings</caption>
 *   <tr><th>name</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>directory</td><td>(required)</td><td>where the journal's files live</td></tr>
 *   <tr><td>syncPolicy</td><td>BATCH</td><td>when records are forced to disk ({@link SyncPolicy})</td></tr>
 *   <tr><td>rollCycle</td><td>HOURLY</td><td>how often a new file starts ({@link JournalRollCycle})</td></tr>
 *   <tr><td>retainedCycles</td><td>2</td><td>newest cycle files kept even when every consumer is past them</td></tr>
 *   <tr><td>maxRecordBytes</td><td>1 MiB</td><td>the largest record accepted</td></tr>
 *   <tr><td>pretouch</td><td>true</td><td>touch file pages ahead of the writer from a background thread, so
 *       appends do not stall on the filesystem allocating blocks; the same thread starts write-back behind the
 *       writer and drops old pages from the page cache</td></tr>
 * </table>
 *
 * @param directory where the journal's files live.
 * @param syncPolicy when records are forced to disk.
 * @param rollCycle how often a new file starts.
 * @param retainedCycles newest cycle files kept even when every consumer has checkpointed past them.
 * @param maxRecordBytes the largest record accepted.
 * @param pretouch whether a background thread touches file pages ahead of the writer.
 */
public record JournalConfig(
    Path directory, SyncPolicy syncPolicy, JournalRollCycle rollCycle, int retainedCycles, int maxRecordBytes,
    boolean pretouch) {

  /** Default for {@link #syncPolicy()}. */
  public static final SyncPolicy DEFAULT_SYNC_POLICY = SyncPolicy.BATCH;
  /** Default for {@link #rollCycle()}. */
  public static final JournalRollCycle DEFAULT_ROLL_CYCLE = JournalRollCycle.HOURLY;
  /** Default for {@link #retainedCycles()}. */
  public static final int DEFAULT_RETAINED_CYCLES = 2;
  /** Default for {@link #maxRecordBytes()}: 1 MiB. */
  public static final int DEFAULT_MAX_RECORD_BYTES = 1 << 20;
  /** The largest value {@link #maxRecordBytes()} may take: 64 MiB. */
  public static final int LIMIT_MAX_RECORD_BYTES = 64 << 20;

  /** Validates every setting; the message names the setting and the value. */
  public JournalConfig {
    Objects.requireNonNull(directory, "journal directory must be set");
    Objects.requireNonNull(syncPolicy, "journal syncPolicy must be set");
    Objects.requireNonNull(rollCycle, "journal rollCycle must be set");
    if (retainedCycles < 1) {
      throw new IllegalArgumentException("journal retainedCycles must be at least 1, was " + retainedCycles);
    }
    if (maxRecordBytes < 64 || maxRecordBytes > LIMIT_MAX_RECORD_BYTES) {
      throw new IllegalArgumentException(
          "journal maxRecordBytes must be between 64 and " + LIMIT_MAX_RECORD_BYTES + ", was " + maxRecordBytes);
    }
  }

  /**
   * Starts a configuration for a directory, with every other setting at its default.
   *
   * @param directory where the journal's files live.
   * @return a builder.
   */
  public static Builder builder(Path directory) {
    return new Builder(directory);
  }

  /**
   * A configuration with every default, for a directory.
   *
   * @param directory where the journal's files live.
   * @return a validated configuration.
   */
  public static JournalConfig of(Path directory) {
    return builder(directory).build();
  }

  /** Builds a {@link JournalConfig}. Not thread-safe. */
  public static final class Builder {
    private final Path directory;
    private SyncPolicy syncPolicy = DEFAULT_SYNC_POLICY;
    private JournalRollCycle rollCycle = DEFAULT_ROLL_CYCLE;
    private int retainedCycles = DEFAULT_RETAINED_CYCLES;
    private int maxRecordBytes = DEFAULT_MAX_RECORD_BYTES;
    private boolean pretouch = true;

    private Builder(Path directory) {
      this.directory = directory;
    }

    /**
     * Sets when records are forced to disk.
     *
     * @param policy the policy.
     * @return this builder.
     */
    public Builder syncPolicy(SyncPolicy policy) {
      this.syncPolicy = policy;
      return this;
    }

    /**
     * Sets how often a new file starts.
     *
     * @param cycle the roll cycle.
     * @return this builder.
     */
    public Builder rollCycle(JournalRollCycle cycle) {
      this.rollCycle = cycle;
      return this;
    }

    /**
     * Sets how many of the newest cycle files are always kept.
     *
     * @param cycles at least 1.
     * @return this builder.
     */
    public Builder retainedCycles(int cycles) {
      this.retainedCycles = cycles;
      return this;
    }

    /**
     * Sets the largest record accepted.
     *
     * @param bytes between 64 and {@link #LIMIT_MAX_RECORD_BYTES}.
     * @return this builder.
     */
    public Builder maxRecordBytes(int bytes) {
      this.maxRecordBytes = bytes;
      return this;
    }

    /**
     * Sets whether a background thread touches file pages ahead of the writer.
     *
     * @param value true to pretouch (the default).
     * @return this builder.
     */
    public Builder pretouch(boolean value) {
      this.pretouch = value;
      return this;
    }

    /**
     * Validates and builds.
     *
     * @return the configuration.
     * @throws IllegalArgumentException naming the setting that is wrong.
     */
    public JournalConfig build() {
      return new JournalConfig(directory, syncPolicy, rollCycle, retainedCycles, maxRecordBytes, pretouch);
    }
  }
}
