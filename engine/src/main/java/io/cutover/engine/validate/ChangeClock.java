package io.cutover.engine.validate;

import io.cutover.engine.event.EventCodec;
import io.cutover.engine.event.Row;
import io.cutover.engine.pipeline.ChangeHandler;
import io.cutover.engine.pipeline.ChangeRecord;
import java.util.Arrays;
import org.agrona.collections.Long2LongHashMap;

/**
 * The checksum stage's handler: remembers, per row, when a change to it last passed through the pipeline and
 * each side's latest clock stamp for it, so that validation can hold back rows still in flight (the
 * {@link Consistency#EVENTUAL} level) and repair by the newest side ({@link Authority#NEWEST}).
 *
 * <p>On the ring it reads only the encoded header (side, key hash, stamp) into primitive arrays, allocation-free
 * and lock-free; at the end of each batch it reads the clock once and folds the batch into its maps under one
 * lock. Rows are known by the key hash of their changes (table and key as captured). At most
 * {@code capacity} rows are remembered; beyond that, rows quiet for longer than the horizon are forgotten.
 */
public final class ChangeClock implements ChangeHandler {
  /** The handler's default name. */
  public static final String NAME = "checksum";
  private final int capacity;
  private final long horizonMillis;
  private final Long2LongHashMap seen = new Long2LongHashMap(0L);
  private final Long2LongHashMap monolithStamp = new Long2LongHashMap(0L);
  private final Long2LongHashMap serviceStamp = new Long2LongHashMap(0L);
  private long[] keys = new long[1024];
  private long[] stamps = new long[1024];
  private boolean[] fromService = new boolean[1024];
  private int batch;

  /**
   * A clock remembering up to a million rows, forgetting rows quiet for ten minutes when full.
   */
  public ChangeClock() {
    this(1 << 20, 600_000);
  }

  /**
   * A clock with given bounds.
   *
   * @param capacity the most rows remembered before quiet ones are forgotten.
   * @param horizonMillis how long a quiet row is remembered once the capacity is reached.
   */
  public ChangeClock(int capacity, long horizonMillis) {
    if (capacity < 1 || horizonMillis < 1) {
      throw new IllegalArgumentException("change clock capacity and horizon must be positive, were " + capacity
          + " and " + horizonMillis);
    }
    this.capacity = capacity;
    this.horizonMillis = horizonMillis;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void onChange(ChangeRecord change) {
    if (batch == keys.length) {
      keys = Arrays.copyOf(keys, batch * 2);
      stamps = Arrays.copyOf(stamps, batch * 2);
      fromService = Arrays.copyOf(fromService, batch * 2);
    }
    keys[batch] = change.keyHash();
    stamps[batch] = change.hlc();
    fromService[batch] = EventCodec.fromService(change.buffer(), 0);
    batch++;
  }

  @Override
  public void onBatchEnd() {
    if (batch == 0) {
      return;
    }
    long now = System.currentTimeMillis();
    synchronized (seen) {
      for (int i = 0; i < batch; i++) {
        seen.put(keys[i], now);
        Long2LongHashMap stampsOfSide = fromService[i] ? serviceStamp : monolithStamp;
        if (stamps[i] > stampsOfSide.get(keys[i])) {
          stampsOfSide.put(keys[i], stamps[i]);
        }
      }
      if (seen.size() > capacity) {
        forgetQuiet(now);
      }
    }
    batch = 0;
  }

  private void forgetQuiet(long now) {
    Long2LongHashMap.KeyIterator it = seen.keySet().iterator();
    while (it.hasNext()) {
      long key = it.nextValue();
      if (now - seen.get(key) > horizonMillis) {
        it.remove();
        monolithStamp.remove(key);
        serviceStamp.remove(key);
      }
    }
  }

  /**
   * When a change to a row last passed through the pipeline.
   *
   * @param table the table as that side's changes name it.
   * @param key the key as that side's changes carry it.
   * @return milliseconds since the epoch, or 0 when no change is remembered.
   */
  public long lastChangeMillis(String table, Row key) {
    long hash = EventCodec.keyHash(table, key);
    synchronized (seen) {
      return seen.get(hash);
    }
  }

  /**
   * A side's latest clock stamp for a row.
   *
   * @param fromServiceSide true for the service's changes, false for the monolith's.
   * @param table the table as that side's changes name it.
   * @param key the key as that side's changes carry it.
   * @return the hybrid-logical-clock stamp, or 0 when no change is remembered.
   */
  public long lastStamp(boolean fromServiceSide, String table, Row key) {
    long hash = EventCodec.keyHash(table, key);
    synchronized (seen) {
      return (fromServiceSide ? serviceStamp : monolithStamp).get(hash);
    }
  }
}
