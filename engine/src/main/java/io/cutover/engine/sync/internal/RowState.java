package io.cutover.engine.sync.internal;

import io.cutover.engine.event.Row;
import io.cutover.engine.event.Value;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What sync knows of one row (see {@code cutover.v1.RowState}): the converged row, when each column was last
 * written, and, while parked, each side's latest version. Mutable; confined to the sync thread.
 */
public final class RowState {
  /** The converged row (monolith column names); null when deleted. */
  Row row;
  /** Timestamp of the last write per column. */
  final Map<String, Long> hlc = new LinkedHashMap<>();
  /** Timestamp of the last insert or delete. */
  long rowHlc;
  /** Source position of the last change applied from the monolith, for this row (drops re-delivered changes). */
  long monolithPosition;
  /** The same for the service. */
  long servicePosition;
  /** Id of the last application transaction applied from the monolith, for this row (0: unknown). */
  long monolithTransaction;
  /** The same for the service. */
  long serviceTransaction;
  /** Values sync wrote to the monolith since the monolith's last change of this row (non-counter columns). */
  final Map<String, Value> sentMonolith = new LinkedHashMap<>();
  /** The same for the service. */
  final Map<String, Value> sentService = new LinkedHashMap<>();
  /** While deleted: the converged row before the delete (null if unknown). */
  Row lastRow;
  /** Non-zero while parked: the conflict id. */
  long parked;
  /** While parked: the monolith's latest version (null = deleted). */
  Row parkedMonolith;
  /** While parked: the service's latest version (null = deleted). */
  Row parkedService;

  /**
   * A row that exists with every column written at one time.
   *
   * @param row the row.
   * @param hlc the timestamp.
   * @return the state.
   */
  public static RowState existing(Row row, long hlc) {
    RowState state = new RowState();
    state.row = row;
    state.rowHlc = hlc;
    for (String column : row.names()) {
      state.hlc.put(column, hlc);
    }
    return state;
  }

  /**
   * A deleted row.
   *
   * @param hlc when it was deleted.
   * @return the state.
   */
  public static RowState deleted(long hlc) {
    RowState state = new RowState();
    state.rowHlc = hlc;
    return state;
  }

  /**
   * Whether the row is deleted.
   *
   * @return true when deleted.
   */
  public boolean isDeleted() {
    return row == null;
  }

  /**
   * The converged row.
   *
   * @return the row, or null when deleted.
   */
  public Row row() {
    return row;
  }

  /**
   * The conflict the row is parked under.
   *
   * @return the id, or 0.
   */
  public long parked() {
    return parked;
  }

  /**
   * While parked, the monolith's latest version.
   *
   * @return the row, or null if deleted there.
   */
  public Row parkedMonolith() {
    return parkedMonolith;
  }

  /**
   * While parked, the service's latest version.
   *
   * @return the row, or null if deleted there.
   */
  public Row parkedService() {
    return parkedService;
  }

  /**
   * The latest write to any column or to the row.
   *
   * @return a timestamp.
   */
  long latestHlc() {
    long latest = rowHlc;
    for (long h : hlc.values()) {
      latest = Math.max(latest, h);
    }
    return latest;
  }

  /**
   * Carries over the last change positions known of each side from the row's previous state (an operator's
   * decision or a repair replaces the state, not what sync has seen of each side).
   *
   * @param previous the previous state, or null.
   * @return this state.
   */
  public RowState positionsFrom(RowState previous) {
    if (previous != null) {
      monolithPosition = previous.monolithPosition;
      servicePosition = previous.servicePosition;
      monolithTransaction = previous.monolithTransaction;
      serviceTransaction = previous.serviceTransaction;
    }
    return this;
  }

  long position(io.cutover.engine.event.Side side) {
    return side.isMonolith() ? monolithPosition : servicePosition;
  }

  long transaction(io.cutover.engine.event.Side side) {
    return side.isMonolith() ? monolithTransaction : serviceTransaction;
  }

  Map<String, Value> sent(io.cutover.engine.event.Side side) {
    return side.isMonolith() ? sentMonolith : sentService;
  }

  long hlc(String column) {
    return hlc.getOrDefault(column, rowHlc);
  }

  RowState copy() {
    RowState copy = new RowState();
    copy.row = row;
    copy.hlc.putAll(hlc);
    copy.rowHlc = rowHlc;
    copy.parked = parked;
    copy.parkedMonolith = parkedMonolith;
    copy.parkedService = parkedService;
    copy.monolithPosition = monolithPosition;
    copy.sentMonolith.putAll(sentMonolith);
    copy.sentService.putAll(sentService);
    copy.servicePosition = servicePosition;
    copy.monolithTransaction = monolithTransaction;
    copy.serviceTransaction = serviceTransaction;
    copy.lastRow = lastRow;
    return copy;
  }

  /**
   * A row with some columns replaced.
   *
   * @param base the row (may be null: start empty).
   * @param changes the columns to set.
   * @return the merged row.
   */
  public static Row overlay(Row base, Map<String, Value> changes) {
    return (base == null ? Row.EMPTY : base).with(changes);
  }
}
