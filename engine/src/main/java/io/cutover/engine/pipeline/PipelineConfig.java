package io.cutover.engine.pipeline;

import io.cutover.journal.JournalConfig;
import java.time.Duration;
import java.util.Objects;

/**
 * Every tunable of a pipeline, validated once.
 *
 * <table>
 *   <caption>Settings</caption>
 *   <tr><th>name</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>journal</td><td>(required)</td><td>the journal's configuration</td></tr>
 *   <tr><td>ringSize</td><td>16384</td><td>slots in the ring, a power of two: the most changes in flight</td></tr>
 *   <tr><td>waitStrategy</td><td>PARKING</td><td>how stage threads wait ({@link WaitStrategyKind})</td></tr>
 *   <tr><td>maxEventBytes</td><td>journal's maxRecordBytes</td><td>the largest encoded change accepted</td></tr>
 *   <tr><td>retryBackoffMin / Max</td><td>10 ms / 5 s</td><td>back-off between retries of a failing handler</td></tr>
 *   <tr><td>purgeInterval</td><td>1 min</td><td>how often journal retention runs</td></tr>
 *   <tr><td>drainTimeout</td><td>30 s</td><td>how long close waits for handlers to catch up</td></tr>
 *   <tr><td>stageThreads</td><td>PER_STAGE</td><td>one thread per stage and handler, or one for all
 *   ({@link StageThreads})</td></tr>
 * </table>
 *
 * Memory is bounded by ringSize times the largest change seen (each slot keeps its buffer).
 *
 * @param journal the journal's configuration.
 * @param ringSize slots in the ring, a power of two.
 * @param waitStrategy how stage threads wait.
 * @param maxEventBytes the largest encoded change accepted.
 * @param retryBackoffMin the first back-off of a failing handler.
 * @param retryBackoffMax the longest back-off of a failing handler.
 * @param purgeInterval how often journal retention runs.
 * @param drainTimeout how long close waits for handlers to catch up before stopping them.
 * @param stageThreads how the stages share threads.
 */
public record PipelineConfig(
    JournalConfig journal,
    int ringSize,
    WaitStrategyKind waitStrategy,
    int maxEventBytes,
    Duration retryBackoffMin,
    Duration retryBackoffMax,
    Duration purgeInterval,
    Duration drainTimeout,
    StageThreads stageThreads) {

  /** Default for {@link #ringSize()}. */
  public static final int DEFAULT_RING_SIZE = 16_384;

  /** Validates every setting; the message names the setting and the value. */
  public PipelineConfig {
    Objects.requireNonNull(journal, "pipeline journal configuration must be set");
    Objects.requireNonNull(waitStrategy, "pipeline waitStrategy must be set");
    Objects.requireNonNull(stageThreads, "pipeline stageThreads must be set");
    if (ringSize < 2 || Integer.bitCount(ringSize) != 1 || ringSize > (1 << 24)) {
      throw new IllegalArgumentException("pipeline ringSize must be a power of two from 2 to 16777216, was "
          + ringSize);
    }
    if (maxEventBytes < 64 || maxEventBytes > journal.maxRecordBytes()) {
      throw new IllegalArgumentException("pipeline maxEventBytes must be between 64 and the journal's "
          + "maxRecordBytes (" + journal.maxRecordBytes() + "), was " + maxEventBytes);
    }
    requirePositive("retryBackoffMin", retryBackoffMin);
    requirePositive("retryBackoffMax", retryBackoffMax);
    requirePositive("purgeInterval", purgeInterval);
    requirePositive("drainTimeout", drainTimeout);
    if (retryBackoffMax.compareTo(retryBackoffMin) < 0) {
      throw new IllegalArgumentException("pipeline retryBackoffMax (" + retryBackoffMax
          + ") must not be shorter than retryBackoffMin (" + retryBackoffMin + ")");
    }
  }

  private static void requirePositive(String name, Duration value) {
    if (value == null || value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException("pipeline " + name + " must be a positive duration, was " + value);
    }
  }

  /**
   * Starts a configuration with every default.
   *
   * @param journal the journal's configuration.
   * @return a builder.
   */
  public static Builder builder(JournalConfig journal) {
    return new Builder(journal);
  }

  /** Builds a {@link PipelineConfig}. Not thread-safe. */
  public static final class Builder {
    private final JournalConfig journal;
    private int ringSize = DEFAULT_RING_SIZE;
    private WaitStrategyKind waitStrategy = WaitStrategyKind.PARKING;
    private int maxEventBytes;
    private Duration retryBackoffMin = Duration.ofMillis(10);
    private Duration retryBackoffMax = Duration.ofSeconds(5);
    private Duration purgeInterval = Duration.ofMinutes(1);
    private Duration drainTimeout = Duration.ofSeconds(30);
    private StageThreads stageThreads = StageThreads.PER_STAGE;

    private Builder(JournalConfig journal) {
      this.journal = journal;
      this.maxEventBytes = journal == null ? 0 : journal.maxRecordBytes();
    }

    /**
     * Sets the ring size.
     *
     * @param value a power of two.
     * @return this builder.
     */
    public Builder ringSize(int value) {
      this.ringSize = value;
      return this;
    }

    /**
     * Sets how stage threads wait.
     *
     * @param value the strategy.
     * @return this builder.
     */
    public Builder waitStrategy(WaitStrategyKind value) {
      this.waitStrategy = value;
      return this;
    }

    /**
     * Sets the largest encoded change accepted.
     *
     * @param value bytes.
     * @return this builder.
     */
    public Builder maxEventBytes(int value) {
      this.maxEventBytes = value;
      return this;
    }

    /**
     * Sets the back-off of a failing handler.
     *
     * @param min the first back-off.
     * @param max the longest back-off.
     * @return this builder.
     */
    public Builder retryBackoff(Duration min, Duration max) {
      this.retryBackoffMin = min;
      this.retryBackoffMax = max;
      return this;
    }

    /**
     * Sets how often journal retention runs.
     *
     * @param value the interval.
     * @return this builder.
     */
    public Builder purgeInterval(Duration value) {
      this.purgeInterval = value;
      return this;
    }

    /**
     * Sets how long close waits for handlers to catch up.
     *
     * @param value the timeout.
     * @return this builder.
     */
    public Builder drainTimeout(Duration value) {
      this.drainTimeout = value;
      return this;
    }

    /**
     * Sets how the stages share threads ({@link StageThreads}).
     *
     * @param value per stage (the default) or one thread for all.
     * @return this builder.
     */
    public Builder stageThreads(StageThreads value) {
      this.stageThreads = value;
      return this;
    }

    /**
     * Validates and builds.
     *
     * @return the configuration.
     */
    public PipelineConfig build() {
      return new PipelineConfig(journal, ringSize, waitStrategy, maxEventBytes, retryBackoffMin, retryBackoffMax,
          purgeInterval, drainTimeout, stageThreads);
    }
  }
}
