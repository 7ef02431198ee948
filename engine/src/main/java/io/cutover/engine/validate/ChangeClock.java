package io.cutover.engine.validate;

import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.EventCodec;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Value;
import io.cutover.engine.pipeline.ChangeHandler;
import io.cutover.engine.pipeline.ChangeRecord;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
  /** The column of the mark table that carries a mark's text ({@link #expectMark}). */
  public static final String MARK_COLUMN = "mark";
  /** The handler's default name. */
  public static final String NAME = "checksum";
  private final int capacity;
  private final long horizonMillis;
  private final Long2LongHashMap seen = new Long2LongHashMap(0L);
  private final Long2LongHashMap monolithStamp = new Long2LongHashMap(0L);
  private final Long2LongHashMap serviceStamp = new Long2LongHashMap(0L);
  private final boolean trackKeys;
  private final int maxDirty;
  private final org.agrona.ExpandableArrayBuffer events = new org.agrona.ExpandableArrayBuffer(64 * 1024);
  private int[] eventEnds = new int[1024];
  private final Map<String, Map<Row, Long>> dirty = new HashMap<>();
  private int dirtyCount;
  private boolean overflowed;
  private long[] keys = new long[1024];
  private long[] stamps = new long[1024];
  private boolean[] fromService = new boolean[1024];
  private int batch;
  private volatile byte[] markTable;
  private final List<String> passingMarks = new ArrayList<>();
  private final java.util.concurrent.ConcurrentHashMap<String, java.util.concurrent.CompletableFuture<Long>> marks =
      new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * A clock remembering up to a million rows, forgetting rows quiet for ten minutes when full.
   */
  public ChangeClock() {
    this(1 << 20, 600_000);
  }

  /**
   * A clock that also remembers which rows changed (their keys), for incremental validation: rows changed since
   * the last full validation are read again instead of rescanning the tables. Decodes each change at the end of
   * its batch, off the ring's publish path.
   *
   * @param maxDirty the most changed rows remembered between two drains; beyond that the clock says it
   *     {@link #overflowed()} and validation falls back to a full scan.
   * @return the clock.
   */
  public static ChangeClock trackingKeys(int maxDirty) {
    return new ChangeClock(1 << 20, 600_000, true, maxDirty);
  }

  /**
   * A clock with given bounds.
   *
   * @param capacity the most rows remembered before quiet ones are forgotten.
   * @param horizonMillis how long a quiet row is remembered once the capacity is reached.
   */
  public ChangeClock(int capacity, long horizonMillis) {
    this(capacity, horizonMillis, false, 0);
  }

  private ChangeClock(int capacity, long horizonMillis, boolean trackKeys, int maxDirty) {
    this.trackKeys = trackKeys;
    this.maxDirty = maxDirty;
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
    if (trackKeys) {
      int start = batch == 0 ? 0 : eventEnds[batch - 1];
      events.putBytes(start, change.buffer(), 0, change.length());
      if (batch == eventEnds.length) {
        eventEnds = Arrays.copyOf(eventEnds, batch * 2);
      }
      eventEnds[batch] = start + change.length();
    }
    byte[] watched = markTable;
    if (watched != null && EventCodec.tableIs(change.buffer(), 0, change.length(), watched) && !marks.isEmpty()) {
      passing(change.decode()); // a mark: rare, so decoding here allocates nothing per ordinary change
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
    List<ChangeEvent> changed = List.of();
    if (trackKeys) { // decoded before taking the lock, so readers wait only for the map updates
      changed = new ArrayList<>(batch);
      for (int i = 0; i < batch; i++) {
        int start = i == 0 ? 0 : eventEnds[i - 1];
        changed.add(EventCodec.decode(events, start, eventEnds[i] - start));
      }
    }
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
      for (int i = 0; i < changed.size(); i++) {
        ChangeEvent event = changed.get(i);
        if (!event.origin().isEmpty() && !event.origin().equals(ChangeEvent.ORIGIN_REPAIR)) {
          continue;
        }
        Map<Row, Long> rows = dirty.computeIfAbsent(dirtyKey(fromService[i], event.table()), k -> new HashMap<>());
        if (rows.put(event.key(), now) == null && ++dirtyCount > maxDirty) {
          overflowed = true;
          dirty.clear();
          dirtyCount = 0;
        }
      }
    }
    batch = 0;
    // Only now: whoever waits for a mark then finds every change before it in the maps.
    for (int i = 0; i < passingMarks.size(); i++) {
      java.util.concurrent.CompletableFuture<Long> waiting = marks.remove(passingMarks.get(i));
      if (waiting != null) {
        waiting.complete(now);
      }
    }
    passingMarks.clear();
  }


  /** A mark seen in this batch: it passes once the batch's changes are folded in (see {@link #onBatchEnd}). */
  private void passing(ChangeEvent mark) {
    Value value = mark.after() == null ? null : mark.after().get(MARK_COLUMN);
    if (value != null && !value.isNull()) {
      passingMarks.add(value.asString());
    }
  }

  /**
   * Watches for a mark: a row of the mark table whose {@value #MARK_COLUMN} column is set to a given text. This
   * handler sees a change only after every apply handler has applied it and every change before it, so once a mark
   * written to a captured database passes, every change that side committed before the mark has been applied. Call
   * before writing the mark.
   *
   * @param table the mark table, as captured changes name it (the same on every side).
   * @param mark a text no other mark uses.
   * @return completes, with the time it passed in milliseconds since the epoch, when the mark passes this stage.
   */
  public java.util.concurrent.CompletableFuture<Long> expectMark(String table, String mark) {
    byte[] name = table.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] current = markTable;
    if (current != null && !Arrays.equals(current, name)) {
      throw new IllegalStateException("this clock watches marks on " + new String(current,
          java.nio.charset.StandardCharsets.UTF_8) + ", not " + table);
    }
    markTable = name;
    java.util.concurrent.CompletableFuture<Long> passed = new java.util.concurrent.CompletableFuture<>();
    marks.put(mark, passed);
    return passed;
  }

  /**
   * Stops watching for a mark (it was given up on).
   *
   * @param mark the mark.
   */
  public void forgetMark(String mark) {
    marks.remove(mark);
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

  private static String dirtyKey(boolean fromService, String table) {
    return (fromService ? "s:" : "m:") + table;
  }

  /**
   * Takes the keys of rows that changed on one side and have been quiet since a time (their changes settled);
   * rows changed later stay for a later drain.
   *
   * @param fromServiceSide true for the service's changes, false for the monolith's.
   * @param table the table as that side's changes name it.
   * @param quietSinceMillis rows whose last change is at or before this are taken (Long.MAX_VALUE: all).
   * @return the keys as that side's changes carry them.
   */
  public List<Row> drainChanged(boolean fromServiceSide, String table, long quietSinceMillis) {
    List<Row> out = new ArrayList<>();
    synchronized (seen) {
      Map<Row, Long> rows = dirty.get(dirtyKey(fromServiceSide, table));
      if (rows == null) {
        return out;
      }
      java.util.Iterator<Map.Entry<Row, Long>> it = rows.entrySet().iterator();
      while (it.hasNext()) {
        Map.Entry<Row, Long> e = it.next();
        if (e.getValue() <= quietSinceMillis) {
          out.add(e.getKey());
          it.remove();
          dirtyCount--;
        }
      }
    }
    return out;
  }

  /**
   * Whether changed rows were dropped because more than the maximum piled up since the last reset; the next
   * validation must then scan in full.
   *
   * @return true after an overflow, until {@link #resetChanged()}.
   */
  public boolean overflowed() {
    synchronized (seen) {
      return overflowed;
    }
  }

  /** Forgets every changed row and the overflow (a full validation has just seen everything). */
  public void resetChanged() {
    synchronized (seen) {
      dirty.clear();
      dirtyCount = 0;
      overflowed = false;
    }
  }

  /**
   * Whether this clock remembers changed rows.
   *
   * @return true when built with {@link #trackingKeys}.
   */
  public boolean tracksKeys() {
    return trackKeys;
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
