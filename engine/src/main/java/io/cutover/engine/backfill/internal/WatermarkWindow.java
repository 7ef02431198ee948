package io.cutover.engine.backfill.internal;

import io.cutover.engine.event.Row;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * One chunk's window: the keys the change stream carried for the chunk's table from the moment the window was
 * registered (before its low watermark is even written) to its high watermark, and the chunk's rows as selected.
 * At the high watermark, the rows whose keys did not go by are emitted; the others have a change in the stream
 * that is applied in order with everything after it.
 *
 * <p>Recording from registration rather than from the low watermark closes a gap DBLog leaves on PostgreSQL: a
 * transaction whose commit record precedes the low watermark in the WAL can still be invisible to the chunk's
 * select for a moment, so its change would precede the window while the select missed it. The capture can only
 * hand over such a change after its commit, and the window is registered before the low watermark is written, so
 * the change is recorded. Skipping a row whose change went by is always safe: that change, and every later one,
 * reach the target in order. Thread-safe: the backfill thread fills the rows, the capture thread records keys and
 * closes it.
 */
public final class WatermarkWindow {
  private final String id;
  private final String table;
  private final Set<Row> changed = new HashSet<>();
  private final CompletableFuture<List<CompletableFuture<Long>>> emitted = new CompletableFuture<>();
  private List<Row[]> rows;
  private boolean lowSeen;

  /**
   * A window.
   *
   * @param id the chunk's id, written in both watermarks.
   * @param table the table (lower case, as captured).
   */
  public WatermarkWindow(String id, String table) {
    this.id = id;
    this.table = table;
  }

  /**
   * The chunk's id.
   *
   * @return the id.
   */
  public String id() {
    return id;
  }

  /**
   * The table.
   *
   * @return its name, lower case.
   */
  public String table() {
    return table;
  }

  /** The low watermark went by in the stream. */
  public synchronized void lowSeen() {
    lowSeen = true;
  }

  /**
   * A change for the table went by.
   *
   * @param key its key.
   */
  public synchronized void changed(Row key) {
    changed.add(key);
  }

  /**
   * The chunk as selected between the watermarks: each entry the key and the whole row.
   *
   * @param selected the rows.
   */
  public synchronized void rows(List<Row[]> selected) {
    rows = List.copyOf(selected);
  }

  /**
   * At the high watermark: the rows to emit, those whose keys did not change in the window, in key order.
   *
   * @return key and row pairs.
   * @throws IllegalStateException if the chunk's rows were never handed over.
   */
  public synchronized List<Row[]> closeAndSelect() {
    if (rows == null || !lowSeen) {
      throw new IllegalStateException("high watermark of chunk " + id + " before its low watermark or its rows");
    }
    List<Row[]> out = new ArrayList<>();
    for (Row[] row : rows) {
      if (!changed.contains(row[0])) {
        out.add(row);
      }
    }
    return out;
  }

  /**
   * Completes when the emitted rows are published: with their journal futures.
   *
   * @return the future.
   */
  public CompletableFuture<List<CompletableFuture<Long>>> emitted() {
    return emitted;
  }
}
