package io.cutover.engine.sync.internal;

import io.cutover.engine.apply.Write;
import io.cutover.engine.db.RowVersions;
import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.Operation;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import io.cutover.engine.event.Value;
import io.cutover.engine.event.ValueType;
import io.cutover.engine.sync.ColumnConflict;
import io.cutover.engine.sync.Conflict;
import io.cutover.engine.sync.ConflictPolicy;
import io.cutover.engine.sync.ConflictResolver;
import io.cutover.engine.sync.RowConflict;
import io.cutover.engine.sync.Rule;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The decision logic of bi-directional sync, free of I/O: given what is known of a row and one change from
 * one side, it computes the row's next state, the writes to make on each side, and the conflict, if any.
 * Deterministic, so replaying a batch after a crash decides exactly as before.
 *
 * <p>A column conflicts when the change's before image disagrees with the converged value: the change was made
 * without seeing the other side's latest write to that column. Columns the change did not touch never conflict,
 * so one side's password change and the other side's last-login update both survive.
 *
 * <p>On a side keeping row versions ({@link RowVersions}) every write is conditioned on the side's last change to
 * the row that sync has reconciled, so a write never lands on a change it has not seen, and each change from the
 * side is answered with the converged values it lacks ({@code resync}).
 */
public final class Reconciler {
  private final Side service;
  private final Map<String, ConflictResolver> resolvers;
  private final java.util.function.Function<Side, RowVersions.Kind> versions;

  /**
   * The outcome of one change.
   *
   * @param next the row's next state.
   * @param writes the writes to make, in order.
   * @param conflict the conflict detected, or null.
   */
  public record Outcome(RowState next, List<Write> writes, Conflict conflict) {}

  /**
   * Creates a reconciler for the monolith and one service.
   *
   * @param service the service side.
   * @param resolvers custom resolvers by name.
   */
  public Reconciler(Side service, Map<String, ConflictResolver> resolvers) {
    this(service, resolvers, side -> RowVersions.Kind.NONE);
  }

  /**
   * Creates a reconciler for the monolith and one service, some sides keeping row versions.
   *
   * @param service the service side.
   * @param resolvers custom resolvers by name.
   * @param versions how each side keeps row versions ({@link RowVersions}): writes to a side that does are
   *     conditioned on the last change sync reconciled from it, and each of its changes is answered with the
   *     converged values it lacks.
   */
  public Reconciler(Side service, Map<String, ConflictResolver> resolvers,
      java.util.function.Function<Side, RowVersions.Kind> versions) {
    this.service = service;
    this.resolvers = Map.copyOf(resolvers);
    this.versions = versions;
  }

  private Side other(Side side) {
    return side.isMonolith() ? service : Side.MONOLITH;
  }

  /**
   * Reconciles one change.
   *
   * @param e the change, in the monolith's table and column names, from the monolith or the service.
   * @param policy the table's conflict policy.
   * @param state what is known of the row, or null if nothing.
   * @param nowMicros the wall clock (recorded in conflicts).
   * @return the outcome.
   */
  public Outcome reconcile(ChangeEvent e, ConflictPolicy policy, RowState state, long nowMicros) {
    long position = e.position().value();
    if (state != null && position > 0) {
      long last = e.side().isMonolith() ? state.monolithPosition : state.servicePosition;
      // Trigger sequences and change LSNs number every change, increasing per row: a change at or before the
      // last one applied from that side is a re-delivery.
      if (position <= last) {
        return new Outcome(state, List.of(), null);
      }
    }
    Outcome out = decide(e, policy, state, nowMicros);
    RowState next = out.next() == state ? state.copy() : out.next();
    if (next.row != null) {
      next.lastRow = null;
    } else if (next.lastRow == null) {
      next.lastRow = state == null ? null : state.row != null ? state.row : state.lastRow;
    }
    next.monolithPosition = state == null ? 0 : state.monolithPosition;
    next.servicePosition = state == null ? 0 : state.servicePosition;
    next.monolithTransaction = state == null ? 0 : state.monolithTransaction;
    next.serviceTransaction = state == null ? 0 : state.serviceTransaction;
    long transaction = transaction(e);
    // A further change of the side's transaction that sync already answered once: its image predates that answer
    // (sync's writes to the row wait for the transaction to commit), so what it seems to lack was already sent.
    // (With change sequences for versions, sync's answer to an earlier change of the transaction found a later
    // sequence and was dropped, so the last change answers.)
    boolean answered = versions.apply(e.side()) == RowVersions.Kind.TRANSACTION && transaction != 0
        && transaction == (e.side().isMonolith() ? next.monolithTransaction : next.serviceTransaction);
    if (e.side().isMonolith()) {
      next.monolithPosition = Math.max(next.monolithPosition, position);
      next.monolithTransaction = transaction != 0 ? transaction : next.monolithTransaction;
    } else {
      next.servicePosition = Math.max(next.servicePosition, position);
      next.serviceTransaction = transaction != 0 ? transaction : next.serviceTransaction;
    }
    List<Write> writes = new ArrayList<>(out.writes());
    next.sentMonolith.clear();
    next.sentService.clear();
    if (state != null) {
      next.sentMonolith.putAll(state.sentMonolith);
      next.sentService.putAll(state.sentService);
    }
    if (versions.apply(e.side()) != RowVersions.Kind.NONE) {
      resync(e, policy, next, writes, answered);
    } else if (state != null) {
      // A value sync wrote to this side while one of the side's own changes was in flight can have overwritten
      // it, if the side held the value sync expected by coincidence. Whenever the side's changes arrive, write
      // the converged value back where the side still holds what sync last wrote.
      Map<String, Value> sent = state.sent(e.side());
      if (!sent.isEmpty() && next.row != null && next.parked == 0) {
        Map<String, Value> values = new LinkedHashMap<>();
        for (Map.Entry<String, Value> column : sent.entrySet()) {
          Value converged = next.row.get(column.getKey());
          if (converged != null && !same(converged, column.getValue())) {
            values.put(column.getKey(), converged);
          }
        }
        if (!values.isEmpty()) {
          Map<String, Value> expected = new LinkedHashMap<>(sent);
          expected.keySet().retainAll(values.keySet());
          writes.add(new Write(e.side(), e.table(), Write.Type.UPDATE, e.key(), RowState.overlay(null, values),
              RowState.overlay(null, expected)));
        }
      }
    }
    for (int i = 0; i < writes.size(); i++) {
      Write write = writes.get(i);
      RowVersions.Kind kind = versions.apply(write.side());
      if (write.type() != Write.Type.UPSERT && write.type() != Write.Type.FORCE_DELETE
          && kind != RowVersions.Kind.NONE) {
        writes.set(i, write.seen(kind == RowVersions.Kind.SEQUENCE ? next.position(write.side())
            : next.transaction(write.side())));
      }
    }
    for (Write write : writes) {
      Map<String, Value> sent = next.sent(write.side());
      switch (write.type()) {
        case UPDATE -> sent.putAll(write.values().columns());
        case INSERT_MISSING -> { } // fills in a missing row; what sync sent is the update beside it
        case INSERT, UPSERT -> {
          sent.clear();
          // counters converge by deltas, never by writing a value back: they are not remembered as sent
          write.values().columns().forEach((column, value) -> {
            if (policy.rule(column).kind() != Rule.Kind.COUNTER) {
              sent.put(column, value);
            }
          });
        }
        default -> sent.clear();
      }
    }
    return new Outcome(next, writes, out.conflict());
  }

  /**
   * On a side that keeps row versions: the side's change shows exactly what it holds (sync's writes to it land
   * only once sync has seen all its changes to the row), so the columns where it differs from the converged row
   * are written to it, on condition that it has not changed the row since: a value that lost a conflict, and
   * whatever a write skipped while the side's change was on its way left behind. Counter columns get the
   * difference as a delta, once per transaction of the side: with transaction ids for versions, every change of a
   * transaction that changed the row more than once carries the same version, and the images of its later changes
   * predate the delta sent when its first change was reconciled (and every write sync made to the row since,
   * which waited for the transaction to commit), so adding the difference again would count those deltas twice.
   */
  private void resync(ChangeEvent e, ConflictPolicy policy, RowState next, List<Write> writes, boolean answered) {
    Set<String> written = new java.util.HashSet<>();
    for (Write w : writes) {
      if (w.side().equals(e.side()) && w.type() == Write.Type.UPDATE) {
        written.addAll(w.values().names());
      }
    }
    if (next.row == null || next.parked != 0 || e.after() == null
        || (e.operation() != Operation.UPDATE && e.operation() != Operation.INSERT)) {
      return;
    }
    Map<String, Value> values = new LinkedHashMap<>();
    Map<String, Value> expected = new LinkedHashMap<>();
    Map<String, Value> deltas = new LinkedHashMap<>();
    for (Map.Entry<String, Value> column : e.after().columns().entrySet()) {
      Value converged = next.row.get(column.getKey());
      if (converged == null || e.key().has(column.getKey()) || written.contains(column.getKey())
          || same(converged, column.getValue())) {
        continue;
      }
      if (policy.rule(column.getKey()).kind() != Rule.Kind.COUNTER) {
        values.put(column.getKey(), converged);
        expected.put(column.getKey(), column.getValue());
      } else if (!answered && isNumber(converged) && isNumber(column.getValue())
          && converged.type() == column.getValue().type()) {
        // what the side lacks of the converged count: deltas held back while this change was on its way, or the
        // other side's share after an insert/insert decision; added, so nothing the side does meanwhile is lost
        deltas.put(column.getKey(), subtract(converged, column.getValue()));
      }
    }
    // What sync wrote to the side that this change does not show (a column the side had not yet when it made the
    // change): written again, on the row's version alone. What the change shows is settled by the rule above.
    Map<String, Value> sent = next.sent(e.side());
    Map<String, Value> unshown = new LinkedHashMap<>();
    for (String column : sent.keySet()) {
      Value converged = next.row.get(column);
      if (!e.after().has(column) && converged != null && !written.contains(column)) {
        unshown.put(column, converged);
      }
    }
    sent.clear();
    if (!values.isEmpty()) {
      writes.add(new Write(e.side(), e.table(), Write.Type.UPDATE, e.key(), RowState.overlay(null, values),
          RowState.overlay(null, expected)));
    }
    if (!unshown.isEmpty()) {
      writes.add(new Write(e.side(), e.table(), Write.Type.UPDATE, e.key(), RowState.overlay(null, unshown), null));
    }
    if (!deltas.isEmpty()) {
      writes.add(new Write(e.side(), e.table(), Write.Type.UPDATE, e.key(), Row.EMPTY, null,
          RowState.overlay(null, deltas)));
    }
  }

  /**
   * A row to expect before a delete, without its counter columns: deltas still on their way make their values
   * uncertain, and a delete that found another count would leave the row on one side only.
   */
  private static Row withoutCounters(Row row, ConflictPolicy policy) {
    Map<String, Value> kept = new LinkedHashMap<>(row.columns());
    kept.keySet().removeIf(column -> policy.rule(column).kind() == Rule.Kind.COUNTER);
    return RowState.overlay(null, kept);
  }

  /** The change's transaction id as logical decoding reports it (a number), or 0. */
  private static long transaction(ChangeEvent e) {
    String id = e.transactionId();
    if (id.isEmpty() || id.length() > 18) {
      return 0;
    }
    for (int i = 0; i < id.length(); i++) {
      if (id.charAt(i) < '0' || id.charAt(i) > '9') {
        return 0;
      }
    }
    return Long.parseLong(id);
  }

  private Outcome decide(ChangeEvent e, ConflictPolicy policy, RowState state, long nowMicros) {
    Side from = e.side();
    if (state != null && state.parked != 0) {
      RowState next = state.copy();
      Row latest = e.operation() == Operation.DELETE ? null
          : RowState.overlay(from.isMonolith() ? state.parkedMonolith : state.parkedService, e.after().columns());
      if (from.isMonolith()) {
        next.parkedMonolith = latest;
      } else {
        next.parkedService = latest;
      }
      return new Outcome(next, List.of(), null);
    }
    if (e.operation() == Operation.SNAPSHOT_READ && state != null) {
      // a backfill's copy of a row sync already knows: what sync knows came through the stream and is as new or
      // newer (the watermarks leave out rows that changed while their chunk was read)
      return new Outcome(state, List.of(), null);
    }
    return switch (e.operation()) {
      case INSERT, SNAPSHOT_READ -> insert(e, policy, state, nowMicros);
      case UPDATE -> update(e, policy, state, nowMicros);
      case DELETE -> delete(e, policy, state, nowMicros);
    };
  }

  private Outcome insert(ChangeEvent e, ConflictPolicy policy, RowState state, long now) {
    Side to = other(e.side());
    if (state == null || state.isDeleted()) {
      return new Outcome(RowState.existing(e.after(), e.hlc()),
          List.of(new Write(to, e.table(), Write.Type.INSERT, e.key(), e.after(), null)), null);
    }
    List<String> differing = new ArrayList<>();
    for (Map.Entry<String, Value> column : e.after().columns().entrySet()) {
      Value held = state.row.get(column.getKey());
      if (held != null && !same(held, column.getValue())) {
        differing.add(column.getKey());
      }
    }
    if (differing.isEmpty()) {
      RowState next = state.copy();
      next.row = RowState.overlay(state.row, e.after().columns());
      return new Outcome(next, List.of(), null);
    }
    return columns(Conflict.Kind.INSERT_INSERT, e, policy, state, e.after().names(), differing, null, Map.of(),
        now);
  }

  private Outcome update(ChangeEvent e, ConflictPolicy policy, RowState state, long now) {
    Side to = other(e.side());
    Row before = e.before();
    List<String> changed = changedColumns(e);
    Map<String, Value> deltas = new LinkedHashMap<>();
    for (String column : changed) {
      if (policy.rule(column).kind() == Rule.Kind.COUNTER && before != null && before.has(column)
          && isNumber(before.get(column)) && isNumber(e.after().get(column))
          && before.get(column).type() == e.after().get(column).type()) {
        deltas.put(column, subtract(e.after().get(column), before.get(column)));
      }
    }
    if (state == null) {
      Map<String, Value> values = new LinkedHashMap<>();
      Map<String, Value> expected = new LinkedHashMap<>();
      for (String column : changed) {
        if (!deltas.containsKey(column)) {
          values.put(column, e.after().get(column));
          if (before != null && before.has(column)) {
            expected.put(column, before.get(column));
          }
        }
      }
      List<Write> writes = new ArrayList<>();
      if (!values.isEmpty() || !deltas.isEmpty()) {
        writes.add(new Write(to, e.table(), Write.Type.UPDATE, e.key(), RowState.overlay(null, values),
            expected.size() == values.size() ? RowState.overlay(null, expected) : null,
            deltas.isEmpty() ? null : RowState.overlay(null, deltas)));
      }
      if (before != null && e.after().names().containsAll(before.names())) {
        // a row sync never saw may be missing on the other side (an online backfill has not copied it yet, and
        // leaves it out once it changed): the whole row goes in if it is missing, after the update that adds the
        // deltas if it is there
        writes.add(new Write(to, e.table(), Write.Type.INSERT_MISSING, e.key(), e.after(), null));
      }
      return new Outcome(RowState.existing(e.after(), e.hlc()), writes, null);
    }
    if (state.isDeleted()) {
      // The update was made on the row before its side saw the delete. Deltas sync wrote that side after this
      // change's image are not in the image, but are in the converged row before the delete: brought back, each
      // counter column is that row's value plus this change's delta (both sides' changes kept, as the rule says).
      Map<String, Value> rebased = new LinkedHashMap<>();
      Row last = state.lastRow;
      for (String column : e.after().names()) {
        Value held = last == null ? null : last.get(column);
        Value was = before == null ? null : before.get(column);
        Value is = e.after().get(column);
        if (policy.rule(column).kind() == Rule.Kind.COUNTER && isNumber(held) && isNumber(was) && isNumber(is)
            && held.type() == is.type() && was.type() == is.type()) {
          rebased.put(column, add(held, subtract(is, was), column, e.table()));
        }
      }
      Row updated = rebased.isEmpty() ? e.after() : RowState.overlay(e.after(), rebased);
      RowConflict row = new RowConflict(e.table(), e.key(), e.side(), updated, e.hlc(), to, state.rowHlc);
      return rowConflict(Conflict.Kind.UPDATE_DELETE, e, policy, state, row, now);
    }
    List<String> conflicting = new ArrayList<>();
    for (String column : changed) {
      if (before != null && before.has(column) && state.row.has(column)
          && !same(before.get(column), state.row.get(column))) {
        conflicting.add(column);
      }
    }
    return columns(Conflict.Kind.UPDATE_UPDATE, e, policy, state, changed, conflicting, before, deltas, now);
  }

  private Outcome delete(ChangeEvent e, ConflictPolicy policy, RowState state, long now) {
    Side to = other(e.side());
    if (state == null) {
      return new Outcome(RowState.deleted(e.hlc()),
          List.of(new Write(to, e.table(), Write.Type.DELETE, e.key(), null, null)), null);
    }
    if (state.isDeleted()) {
      return new Outcome(state, List.of(), null);
    }
    Row before = e.before();
    boolean sawLatest = true;
    if (before != null) {
      for (Map.Entry<String, Value> column : state.row.columns().entrySet()) {
        Value seen = before.get(column.getKey());
        if (seen != null && !same(seen, column.getValue())) {
          sawLatest = false;
          break;
        }
      }
    }
    if (sawLatest) {
      return new Outcome(RowState.deleted(e.hlc()),
          List.of(new Write(to, e.table(), Write.Type.DELETE, e.key(), null, withoutCounters(state.row, policy))),
          null);
    }
    RowConflict row = new RowConflict(e.table(), e.key(), to, state.row, state.latestHlc(), e.side(), e.hlc());
    return rowConflict(Conflict.Kind.DELETE_UPDATE, e, policy, state, row, now);
  }

  /** An update against a delete: the table's rule keeps or removes the row. */
  private Outcome rowConflict(Conflict.Kind kind, ChangeEvent e, ConflictPolicy policy, RowState state,
      RowConflict row, long now) {
    Rule rule = policy.row();
    Side heldSide = other(e.side());
    Row held = state.row;
    long heldHlc = kind == Conflict.Kind.UPDATE_DELETE ? state.rowHlc : state.latestHlc();
    if (rule.kind() == Rule.Kind.MANUAL) {
      RowState next = state.copy();
      next.parked = e.hlc();
      Row incoming = kind == Conflict.Kind.UPDATE_DELETE ? e.after() : null;
      if (e.side().isMonolith()) {
        next.parkedMonolith = incoming;
        next.parkedService = held;
      } else {
        next.parkedService = incoming;
        next.parkedMonolith = held;
      }
      return new Outcome(next, List.of(), new Conflict(e.hlc(), e.table(), e.key(), kind, heldSide, held, heldHlc,
          e.side(), e.after(), e.hlc(), List.of(), List.of("row: manual -> parked"), null, Conflict.Outcome.PARKED,
          now, e.commitTimeMicros()));
    }
    boolean keep = switch (rule.kind()) {
      case PRIORITY -> rule.side().equals(row.updater());
      case CUSTOM -> resolver(rule).keepRow(row);
      default -> row.updateHlc() > row.deleteHlc();
    };
    List<Write> writes = new ArrayList<>();
    RowState next;
    Row updatedRow = row.updated();
    if (keep) {
      next = RowState.existing(updatedRow, Math.max(row.updateHlc(), row.deleteHlc()));
      writes.add(new Write(row.deleter(), e.table(), Write.Type.INSERT, e.key(), updatedRow, null));
    } else {
      next = RowState.deleted(Math.max(row.updateHlc(), row.deleteHlc()));
      if (kind == Conflict.Kind.UPDATE_DELETE) {
        // the update lives on in its side's row until the delete lands there: should that side's next update
        // bring the row back, its counters start from here
        next.lastRow = updatedRow;
      }
      writes.add(new Write(row.updater(), e.table(), Write.Type.DELETE, e.key(), null,
          withoutCounters(updatedRow, policy)));
    }
    String decision = "row: " + rule + " -> " + (keep ? "kept (" + side(row.updater()) + "'s update wins)"
        : "deleted (" + side(row.deleter()) + "'s delete wins)");
    return new Outcome(next, writes, new Conflict(e.hlc(), e.table(), e.key(), kind, heldSide, held, heldHlc,
        e.side(), e.after(), e.hlc(), List.of(), List.of(decision), keep ? updatedRow : null,
        Conflict.Outcome.RESOLVED, now, e.commitTimeMicros()));
  }

  /**
   * Applies a change's columns: counter columns by their deltas (never a conflict in effect: both sides' deltas
   * are kept), the others as they are unless they conflict, in which case each is decided by its rule.
   */
  private Outcome columns(Conflict.Kind kind, ChangeEvent e, ConflictPolicy policy, RowState state,
      List<String> changed, List<String> conflicting, Row base, Map<String, Value> deltas, long now) {
    Side from = e.side();
    Side to = other(from);
    for (String column : conflicting) {
      if (!deltas.containsKey(column) && policy.rule(column).kind() == Rule.Kind.MANUAL) {
        Row incomingRow = RowState.overlay(state.row, e.after().columns());
        RowState next = state.copy();
        next.parked = e.hlc();
        if (from.isMonolith()) {
          next.parkedMonolith = incomingRow;
          next.parkedService = state.row;
        } else {
          next.parkedService = incomingRow;
          next.parkedMonolith = state.row;
        }
        return new Outcome(next, List.of(), new Conflict(e.hlc(), e.table(), e.key(), kind, to, state.row,
            state.latestHlc(), from, e.after(), e.hlc(), conflicting, List.of(column + ": manual -> parked"), null,
            Conflict.Outcome.PARKED, now, e.commitTimeMicros()));
      }
    }
    RowState next = state.copy();
    Map<String, Value> resolved = new LinkedHashMap<>();
    Map<String, Value> toValues = new LinkedHashMap<>();
    Map<String, Value> toExpected = new LinkedHashMap<>();
    Map<String, Value> backValues = new LinkedHashMap<>();
    Map<String, Value> backExpected = new LinkedHashMap<>();
    List<String> decisions = new ArrayList<>();
    for (String column : changed) {
      Value held = state.row.get(column);
      Value incoming = e.after().get(column);
      long heldHlc = state.hlc(column);
      Value value;
      if (deltas.containsKey(column)) {
        value = held == null || !isNumber(held) || held.type() != incoming.type() ? incoming
            : add(held, deltas.get(column), column, e.table());
        if (conflicting.contains(column)) {
          decisions.add(column + ": counter -> " + value + " (both sides' changes kept)");
        }
        resolved.put(column, value);
        next.hlc.put(column, Math.max(heldHlc, e.hlc()));
        continue;
      }
      if (!conflicting.contains(column)) {
        value = incoming;
        next.hlc.put(column, e.hlc());
      } else {
        Rule rule = policy.rule(column);
        value = decide(rule, new ColumnConflict(e.table(), e.key(), column,
            base == null ? null : base.get(column), held, to, heldHlc, incoming, from, e.hlc()));
        next.hlc.put(column, Math.max(heldHlc, e.hlc()));
        String winner = same(value, incoming) && !same(value, held) ? side(from)
            : same(value, held) && !same(value, incoming) ? side(to) : "merged";
        decisions.add(column + ": " + rule + " -> " + value + " (" + winner + ")");
        if (!same(incoming, value)) {
          backValues.put(column, value);
          backExpected.put(column, incoming);
        }
      }
      resolved.put(column, value);
      if (held == null || !same(held, value)) {
        toValues.put(column, value);
        toExpected.put(column, held);
      }
    }
    next.row = RowState.overlay(state.row, resolved);
    List<Write> writes = new ArrayList<>(2);
    if (!toValues.isEmpty() || !deltas.isEmpty()) {
      writes.add(new Write(to, e.table(), Write.Type.UPDATE, e.key(), RowState.overlay(null, toValues),
          toExpected.containsValue(null) ? null : RowState.overlay(null, toExpected),
          deltas.isEmpty() ? null : RowState.overlay(null, deltas)));
    }
    if (!backValues.isEmpty()) {
      writes.add(new Write(from, e.table(), Write.Type.UPDATE, e.key(), RowState.overlay(null, backValues),
          RowState.overlay(null, backExpected)));
    }
    Conflict conflict = conflicting.isEmpty() ? null : new Conflict(e.hlc(), e.table(), e.key(), kind, to,
        state.row, state.latestHlc(), from, e.after(), e.hlc(), conflicting, decisions, next.row,
        Conflict.Outcome.RESOLVED, now, e.commitTimeMicros());
    return new Outcome(next, writes, conflict);
  }

  private Value decide(Rule rule, ColumnConflict c) {
    boolean incomingWins = c.incomingHlc() > c.heldHlc()
        || (c.incomingHlc() == c.heldHlc() && c.incomingSide().isMonolith());
    return switch (rule.kind()) {
      case LAST_WRITER_WINS, MANUAL -> incomingWins ? c.incoming() : c.held();
      case PRIORITY -> rule.side().equals(c.incomingSide()) ? c.incoming() : c.held();
      case MAX -> compare(c.incoming(), c.held()) >= 0 ? c.incoming() : c.held();
      case MIN -> compare(c.incoming(), c.held()) <= 0 ? c.incoming() : c.held();
      // A counter conflict with no common base (insert/insert, non-numbers): the last writer wins.
      case COUNTER -> incomingWins ? c.incoming() : c.held();
      case CUSTOM -> {
        Value value = resolver(rule).resolve(c);
        if (value == null) {
          throw new IllegalStateException("conflict resolver '" + rule.resolver() + "' returned no value for "
              + c.table() + "." + c.column());
        }
        yield value;
      }
    };
  }

  private ConflictResolver resolver(Rule rule) {
    ConflictResolver resolver = resolvers.get(rule.resolver());
    if (resolver == null) {
      throw new IllegalStateException("no conflict resolver named '" + rule.resolver() + "' on the classpath (found "
          + resolvers.keySet() + ")");
    }
    return resolver;
  }

  private static List<String> changedColumns(ChangeEvent e) {
    List<String> changed = new ArrayList<>();
    if (!e.changedColumns().isEmpty()) {
      for (String column : e.changedColumns()) {
        if (e.after().has(column)) {
          changed.add(column);
        }
      }
      return changed;
    }
    for (Map.Entry<String, Value> column : e.after().columns().entrySet()) {
      if (e.key().has(column.getKey())) {
        continue;
      }
      Value before = e.before() == null ? null : e.before().get(column.getKey());
      if (before == null || !same(before, column.getValue())) {
        changed.add(column.getKey());
      }
    }
    return changed;
  }

  private static String side(Side side) {
    return side.isMonolith() ? "monolith" : side.service();
  }

  /**
   * Whether two values are the same (numbers by value, so 1.50 equals 1.5).
   *
   * @param a a value.
   * @param b another.
   * @return true if the same.
   */
  public static boolean same(Value a, Value b) {
    if (a.type() == ValueType.DECIMAL && b.type() == ValueType.DECIMAL) {
      return a.asDecimal().compareTo(b.asDecimal()) == 0;
    }
    return a.equals(b);
  }

  private static int compare(Value a, Value b) {
    if (a.isNull() || b.isNull()) {
      return a.isNull() ? (b.isNull() ? 0 : -1) : 1;
    }
    return switch (a.type()) {
      case INT, DATE, TIMESTAMP, LOCAL_TIMESTAMP -> Long.compare(a.asLong(), b.asLong());
      case DOUBLE -> Double.compare(a.asDouble(), b.asDouble());
      case DECIMAL -> a.asDecimal().compareTo(b.asDecimal());
      case STRING -> a.asString().compareTo(b.asString());
      case BOOL -> Boolean.compare(a.asBoolean(), b.asBoolean());
      default -> throw new IllegalStateException("max/min cannot compare values of type " + a.type());
    };
  }

  private static boolean isNumber(Value value) {
    return value != null && (value.type() == ValueType.INT || value.type() == ValueType.DOUBLE
        || value.type() == ValueType.DECIMAL);
  }

  private static Value subtract(Value a, Value b) {
    return switch (a.type()) {
      case INT -> Value.of(Math.subtractExact(a.asLong(), b.asLong()));
      case DOUBLE -> Value.of(a.asDouble() - b.asDouble());
      default -> Value.of(a.asDecimal().subtract(b.asDecimal()));
    };
  }

  private static Value add(Value a, Value delta, String column, String table) {
    if (a.type() != delta.type()) {
      throw new IllegalStateException("counter rule on " + table + "." + column + ": cannot add a " + delta.type()
          + " delta to a " + a.type());
    }
    return switch (a.type()) {
      case INT -> Value.of(Math.addExact(a.asLong(), delta.asLong()));
      case DOUBLE -> Value.of(a.asDouble() + delta.asDouble());
      default -> Value.of(a.asDecimal().add(delta.asDecimal()));
    };
  }
}
