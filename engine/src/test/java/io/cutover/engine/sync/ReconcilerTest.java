package io.cutover.engine.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.clock.HybridLogicalClock;
import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.Operation;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import io.cutover.engine.event.Value;
import io.cutover.engine.sync.internal.Reconciler;
import io.cutover.engine.sync.internal.RowState;
import io.cutover.engine.sync.internal.StateCodec;
import io.cutover.engine.apply.Write;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The decision logic of bi-directional sync, one rule at a time. */
class ReconcilerTest {
  private static final Side SERVICE = Side.service("warehouse");
  private static final Row KEY = Row.of("id", Value.of(1L));
  private final Reconciler reconciler = new Reconciler(SERVICE, Map.of("longest", new LongestWins()));

  private static Row row(long stock, String name) {
    return Row.of("id", Value.of(1L), "stock", Value.of(stock), "name", Value.of(name));
  }

  private static ChangeEvent update(Side side, Row before, Row after, long hlc) {
    return ChangeEvent.builder(side, "item", Operation.UPDATE).key(KEY).before(before).after(after).hlc(hlc)
        .commitTimeMicros(hlc).build();
  }

  private static ChangeEvent insert(Side side, Row after, long hlc) {
    return ChangeEvent.builder(side, "item", Operation.INSERT).key(KEY).after(after).hlc(hlc).build();
  }

  private static ChangeEvent delete(Side side, Row before, long hlc) {
    return ChangeEvent.builder(side, "item", Operation.DELETE).key(KEY).before(before).hlc(hlc).build();
  }

  /** Agreed on row(10, "bolt") at t=100; the service then moved on to {@code serviceRow} at t=200. */
  private RowState serviceMovedOn(Row serviceRow, ConflictPolicy policy) {
    RowState agreed = RowState.existing(row(10, "bolt"), 100);
    return reconciler.reconcile(update(SERVICE, row(10, "bolt"), serviceRow, 200), policy, agreed, 0).next();
  }

  @Test
  void shouldApplyAChangeMadeOnTheAgreedVersionToTheOtherSideConditionally() {
    RowState agreed = RowState.existing(row(10, "bolt"), 100);
    Reconciler.Outcome out = reconciler.reconcile(update(Side.MONOLITH, row(10, "bolt"), row(7, "bolt"), 200),
        ConflictPolicy.LAST_WRITER_WINS, agreed, 0);
    assertNull(out.conflict());
    assertEquals(List.of(new Write(SERVICE, "item", Write.Type.UPDATE, KEY, Row.of("stock", Value.of(7L)),
        Row.of("stock", Value.of(10L)))), out.writes());
    assertEquals(row(7, "bolt"), out.next().row());
  }

  private static ChangeEvent at(long position, ChangeEvent e) {
    return ChangeEvent.builder(e.side(), e.table(), e.operation()).key(e.key()).before(e.before()).after(e.after())
        .hlc(e.hlc()).position(io.cutover.engine.event.SourcePosition.triggerSequence(position)).build();
  }

  @Test
  void onSidesKeepingRowVersionsWritesWaitForUnseenChangesAndEachChangeGetsWhatItLacks() {
    Reconciler versioned = new Reconciler(SERVICE, Map.of(), side -> io.cutover.engine.db.RowVersions.Kind.SEQUENCE);
    ConflictPolicy policy = ConflictPolicy.LAST_WRITER_WINS;
    // The monolith's change 3 renames the row: the service gets the name if it has made no change sync has not
    // seen (it has made none sync saw: 0).
    Reconciler.Outcome renamed = versioned.reconcile(at(3, update(Side.MONOLITH, row(10, "bolt"), row(10, "nut"),
        200)), policy, RowState.existing(row(10, "bolt"), 100), 0);
    assertEquals(List.of(new Write(SERVICE, "item", Write.Type.UPDATE, KEY, Row.of("name", Value.of("nut")),
        Row.of("name", Value.of("bolt"))).seen(0)), renamed.writes());
    // The service's change 8 was made before that write could land (it still shows "bolt"), so the write left the
    // row alone; 8 changed only the stock, which goes to the monolith, and the service gets the name again, if 8
    // is still its last change.
    Reconciler.Outcome sold = versioned.reconcile(at(8, update(SERVICE, row(10, "bolt"), row(9, "bolt"), 300)),
        policy, renamed.next(), 0);
    assertNull(sold.conflict());
    assertEquals(List.of(
        new Write(Side.MONOLITH, "item", Write.Type.UPDATE, KEY, Row.of("stock", Value.of(9L)),
            Row.of("stock", Value.of(10L))).seen(3),
        new Write(SERVICE, "item", Write.Type.UPDATE, KEY, Row.of("name", Value.of("nut")),
            Row.of("name", Value.of("bolt"))).seen(8)), sold.writes());
    // A change that does not show a column sync wrote (the side had not the column yet) gets it on the version
    // alone.
    Reconciler.Outcome narrow = versioned.reconcile(at(9, update(SERVICE, Row.of("id", Value.of(1L), "stock",
        Value.of(9L)), Row.of("id", Value.of(1L), "stock", Value.of(8L)), 400)), policy, sold.next(), 0);
    assertEquals(new Write(SERVICE, "item", Write.Type.UPDATE, KEY, Row.of("name", Value.of("nut")), null).seen(9),
        narrow.writes().get(1));
    // Once a change shows the converged value, nothing more is sent.
    Reconciler.Outcome settled = versioned.reconcile(at(10, update(SERVICE, row(8, "nut"), row(7, "nut"), 500)),
        policy, narrow.next(), 0);
    assertEquals(List.of(new Write(Side.MONOLITH, "item", Write.Type.UPDATE, KEY, Row.of("stock", Value.of(7L)),
        Row.of("stock", Value.of(8L))).seen(3)), settled.writes());
  }

  @Test
  void onSidesKeepingRowVersionsACounterChangeGetsTheDeltasHeldBackFromIt() {
    Reconciler versioned = new Reconciler(SERVICE, Map.of(), side -> io.cutover.engine.db.RowVersions.Kind.SEQUENCE);
    ConflictPolicy policy = ConflictPolicy.LAST_WRITER_WINS.column("stock", Rule.COUNTER);
    // The service restocks 4 (change 5): the delta goes to the monolith if it has made no change sync has not seen.
    Reconciler.Outcome restocked = versioned.reconcile(at(5, update(SERVICE, row(10, "bolt"), row(14, "bolt"), 200)),
        policy, RowState.existing(row(10, "bolt"), 100), 0);
    assertEquals(List.of(new Write(Side.MONOLITH, "item", Write.Type.UPDATE, KEY, Row.EMPTY, Row.EMPTY,
        Row.of("stock", Value.of(4L))).seen(0)), restocked.writes());
    // It had: its change 3 sold 3 (10 -> 7), so the +4 waited. Reconciling 3 sends the service its -3 and answers
    // the monolith with what its image lacks of the converged 11: the +4.
    Reconciler.Outcome sold = versioned.reconcile(at(3, update(Side.MONOLITH, row(10, "bolt"), row(7, "bolt"), 300)),
        policy, restocked.next(), 0);
    assertEquals(List.of("stock: counter -> 11 (both sides' changes kept)"), sold.conflict().decisions());
    assertEquals(row(11, "bolt"), sold.next().row());
    assertEquals(List.of(
        new Write(SERVICE, "item", Write.Type.UPDATE, KEY, Row.EMPTY, Row.EMPTY, Row.of("stock", Value.of(-3L)))
            .seen(5),
        new Write(Side.MONOLITH, "item", Write.Type.UPDATE, KEY, Row.EMPTY, null, Row.of("stock", Value.of(4L)))
            .seen(3)), sold.writes());
    // Had the +4 landed first, the monolith's image would show it (14 -> 11), and it gets nothing more.
    Reconciler.Outcome landed = versioned.reconcile(at(3, update(Side.MONOLITH, row(14, "bolt"), row(11, "bolt"),
        300)), policy, restocked.next(), 0);
    assertEquals(List.of(new Write(SERVICE, "item", Write.Type.UPDATE, KEY, Row.EMPTY, Row.EMPTY,
        Row.of("stock", Value.of(-3L))).seen(5)), landed.writes());
  }

  @Test
  void aRowBroughtBackAfterADeleteKeepsBothSidesCounterChanges() {
    ConflictPolicy policy = ConflictPolicy.LAST_WRITER_WINS.column("stock", Rule.COUNTER);
    // The monolith sells 3 (its delta goes to the service), then deletes the row: the delete expects the row's
    // values but not its count, which deltas on their way make uncertain.
    Reconciler.Outcome sold = reconciler.reconcile(update(Side.MONOLITH, row(10, "bolt"), row(7, "bolt"), 150),
        policy, RowState.existing(row(10, "bolt"), 100), 0);
    Reconciler.Outcome deleted = reconciler.reconcile(delete(Side.MONOLITH, row(7, "bolt"), 200), policy,
        sold.next(), 0);
    assertEquals(List.of(new Write(SERVICE, "item", Write.Type.DELETE, KEY, null, Row.of("id", Value.of(1L), "name",
        Value.of("bolt")))), deleted.writes());
    // The service restocked 4 before it saw either (its image, 14, lacks the monolith's -3, which lands later);
    // its update is newer and brings the row back with 7 + 4, the count both sides' changes make.
    Reconciler.Outcome back = reconciler.reconcile(update(SERVICE, row(10, "bolt"), row(14, "bolt"), 300), policy,
        deleted.next(), 0);
    assertEquals(List.of(new Write(Side.MONOLITH, "item", Write.Type.INSERT, KEY, row(11, "bolt"), null)),
        back.writes());
    assertEquals(row(11, "bolt"), back.next().row());
  }

  @Test
  void shouldMergeChangesToDifferentColumnsWithoutAConflict() {
    RowState state = serviceMovedOn(row(10, "bolt M6"), ConflictPolicy.LAST_WRITER_WINS);
    Reconciler.Outcome out = reconciler.reconcile(update(Side.MONOLITH, row(10, "bolt"), row(4, "bolt"), 150),
        ConflictPolicy.LAST_WRITER_WINS, state, 0);
    assertNull(out.conflict());
    assertEquals(row(4, "bolt M6"), out.next().row());
  }

  @Test
  void shouldApplyAChangeMadeAfterSeeingAnAheadClocksWriteWhateverTheTimestampsSay() {
    // The monolith's host runs 10 s ahead: its change is stamped 10 s in the future. The service changes the row
    // 1 s later in real time, after seeing that change (its before image shows "nut"), stamped by its own correct
    // clock, so earlier. That is no conflict: the later write wins, where comparing wall clocks would keep the
    // monolith's value for 10 s. (Hybrid logical clocks give the same answer: the service's clock would have
    // been pushed past the monolith's stamp when it received the change.)
    long now = 1_000_000L;
    long monolithStamp = HybridLogicalClock.timestamp(now + 10_000, 0);
    long serviceStamp = HybridLogicalClock.timestamp(now + 1_000, 0);
    RowState afterMonolith = reconciler.reconcile(update(Side.MONOLITH, row(10, "bolt"), row(10, "nut"),
        monolithStamp), ConflictPolicy.LAST_WRITER_WINS, RowState.existing(row(10, "bolt"), 1), 0).next();
    Reconciler.Outcome out = reconciler.reconcile(update(SERVICE, row(10, "nut"), row(10, "screw"), serviceStamp),
        ConflictPolicy.LAST_WRITER_WINS, afterMonolith, 0);
    assertNull(out.conflict());
    assertEquals(Value.of("screw"), out.next().row().get("name"));
    assertEquals(Side.MONOLITH, out.writes().get(0).side());
    assertEquals(Row.of("name", Value.of("screw")), out.writes().get(0).values());
  }

  @Test
  void shouldLetTheLaterStampWinAConflictAndWriteItWhereverSyncSentTheLoser() {
    // Concurrent changes (neither saw the other) are ordered by their stamps; a clock merged with a stamp from a
    // host running ahead still stamps later events after it.
    AtomicLong wall = new AtomicLong(1_000_000L);
    HybridLogicalClock clock = new HybridLogicalClock(wall::get);
    long monolithCommitMillis = wall.get() + 10_000;
    long monolithHlc = clock.update(HybridLogicalClock.timestamp(monolithCommitMillis, 0));
    wall.addAndGet(1_000);
    long serviceHlc = clock.update(HybridLogicalClock.timestamp(wall.get(), 0));
    assertTrue(serviceHlc > monolithHlc);

    RowState agreed = RowState.existing(row(10, "bolt"), 1);
    RowState afterMonolith = reconciler.reconcile(update(Side.MONOLITH, row(10, "bolt"), row(10, "nut"),
        monolithHlc), ConflictPolicy.LAST_WRITER_WINS, agreed, 0).next();
    Reconciler.Outcome out = reconciler.reconcile(update(SERVICE, row(10, "bolt"), row(10, "screw"), serviceHlc),
        ConflictPolicy.LAST_WRITER_WINS, afterMonolith, 0);
    assertEquals(Conflict.Kind.UPDATE_UPDATE, out.conflict().kind());
    assertEquals(List.of("name"), out.conflict().columns());
    assertEquals(Value.of("screw"), out.next().row().get("name"));
    // The monolith gets the winner where it still holds its own value; the service gets it back where it holds
    // the "nut" sync sent it (which may have overwritten its "screw" if it held "bolt" then by coincidence).
    assertEquals(List.of(new Write(Side.MONOLITH, "item", Write.Type.UPDATE, KEY, Row.of("name", Value.of("screw")),
        Row.of("name", Value.of("nut"))), new Write(SERVICE, "item", Write.Type.UPDATE, KEY,
        Row.of("name", Value.of("screw")), Row.of("name", Value.of("nut")))), out.writes());
    assertEquals(Value.of("screw"), StateCodec.decodeState(StateCodec.encode(out.next())).row().get("name"));
  }

  @Test
  void shouldKeepTheHeldValueWhenItIsTheLaterWriteAndWriteItBackToTheLosingSide() {
    RowState state = serviceMovedOn(row(10, "screw"), ConflictPolicy.LAST_WRITER_WINS);
    Reconciler.Outcome out = reconciler.reconcile(update(Side.MONOLITH, row(10, "bolt"), row(10, "nut"), 150),
        ConflictPolicy.LAST_WRITER_WINS, state, 0);
    assertEquals(Value.of("screw"), out.next().row().get("name"));
    assertEquals(1, out.writes().size());
    assertEquals(Side.MONOLITH, out.writes().get(0).side());
    assertTrue(out.conflict().decisions().get(0).contains("warehouse"), out.conflict().decisions().toString());
  }

  @Test
  void shouldLetThePrioritySideWinWhicheverCameLater() {
    ConflictPolicy monolithWins = ConflictPolicy.of(Rule.priority(Side.MONOLITH));
    RowState state = serviceMovedOn(row(10, "screw"), monolithWins);
    Reconciler.Outcome out = reconciler.reconcile(update(Side.MONOLITH, row(10, "bolt"), row(10, "nut"), 150),
        monolithWins, state, 0);
    assertEquals(Value.of("nut"), out.next().row().get("name"));
    assertEquals(SERVICE, out.writes().get(0).side());
  }

  @Test
  void shouldApplyBothSidesDecrementsToACounterColumn() {
    ConflictPolicy counter = ConflictPolicy.LAST_WRITER_WINS.column("stock", Rule.COUNTER);
    RowState state = serviceMovedOn(row(8, "bolt"), counter);            // service sold 2
    Reconciler.Outcome out = reconciler.reconcile(update(Side.MONOLITH, row(10, "bolt"), row(7, "bolt"), 300),
        counter, state, 0);                                                // monolith sold 3, concurrently
    assertEquals(Value.of(5L), out.next().row().get("stock"));
    // The service gets the monolith's -3 added to whatever it holds (its own -2 included); the monolith keeps
    // its own value and got the service's -2 the same way: both reach 5, and a sale made meanwhile is not lost.
    assertEquals(List.of(new Write(SERVICE, "item", Write.Type.UPDATE, KEY, Row.EMPTY, Row.EMPTY,
        Row.of("stock", Value.of(-3L)))), out.writes());
    assertTrue(out.conflict().decisions().get(0).startsWith("stock: counter -> 5"));
  }

  @Test
  void shouldTakeTheLargerOrSmallerValueUnderMaxAndMin() {
    ConflictPolicy max = ConflictPolicy.LAST_WRITER_WINS.column("stock", Rule.MAX);
    RowState state = serviceMovedOn(row(30, "bolt"), max);
    assertEquals(Value.of(30L), reconciler.reconcile(update(Side.MONOLITH, row(10, "bolt"), row(20, "bolt"), 300),
        max, state, 0).next().row().get("stock"));
    ConflictPolicy min = ConflictPolicy.LAST_WRITER_WINS.column("stock", Rule.MIN);
    state = serviceMovedOn(row(30, "bolt"), min);
    assertEquals(Value.of(20L), reconciler.reconcile(update(Side.MONOLITH, row(10, "bolt"), row(20, "bolt"), 300),
        min, state, 0).next().row().get("stock"));
  }

  @Test
  void shouldAskACustomResolver() {
    ConflictPolicy custom = ConflictPolicy.LAST_WRITER_WINS.column("name", Rule.custom("longest"));
    RowState state = serviceMovedOn(row(10, "hexagon bolt"), custom);
    assertEquals(Value.of("hexagon bolt"), reconciler.reconcile(update(Side.MONOLITH, row(10, "bolt"),
        row(10, "nut"), 300), custom, state, 0).next().row().get("name"));
    ConflictPolicy unknown = ConflictPolicy.of(Rule.custom("nobody"));
    RowState again = serviceMovedOn(row(10, "x"), unknown);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> reconciler.reconcile(
        update(Side.MONOLITH, row(10, "bolt"), row(10, "nut"), 300), unknown, again, 0));
    assertTrue(e.getMessage().contains("nobody"), e.getMessage());
  }

  @Test
  void shouldParkAManualConflictAndFollowEachSideUntilResolved() {
    ConflictPolicy manual = ConflictPolicy.of(Rule.MANUAL);
    RowState state = serviceMovedOn(row(10, "screw"), manual);
    Reconciler.Outcome out = reconciler.reconcile(update(Side.MONOLITH, row(10, "bolt"), row(10, "nut"), 300),
        manual, state, 0);
    assertEquals(Conflict.Outcome.PARKED, out.conflict().outcome());
    assertTrue(out.writes().isEmpty());
    assertEquals(300, out.next().parked());
    Reconciler.Outcome later = reconciler.reconcile(update(SERVICE, row(10, "screw"), row(11, "screw"), 400),
        manual, out.next(), 0);
    assertTrue(later.writes().isEmpty());
    assertEquals(row(11, "screw"), later.next().parkedService());
    assertEquals(row(10, "nut"), later.next().parkedMonolith());
    RowState decoded = StateCodec.decodeState(StateCodec.encode(later.next()));
    assertEquals(row(11, "screw"), decoded.parkedService());
    assertEquals(300, decoded.parked());
  }

  @Test
  void shouldDecideAnUpdateAgainstADeleteByTheRowRule() {
    RowState deleted = reconciler.reconcile(delete(SERVICE, row(10, "bolt"), 200), ConflictPolicy.LAST_WRITER_WINS,
        RowState.existing(row(10, "bolt"), 100), 0).next();
    assertTrue(deleted.isDeleted());
    Reconciler.Outcome later = reconciler.reconcile(update(Side.MONOLITH, row(10, "bolt"), row(9, "bolt"), 300),
        ConflictPolicy.LAST_WRITER_WINS, deleted, 0);
    assertEquals(Conflict.Kind.UPDATE_DELETE, later.conflict().kind());
    assertEquals(row(9, "bolt"), later.next().row(), "the later update resurrects the row");
    assertEquals(Write.Type.INSERT, later.writes().get(0).type());
    Reconciler.Outcome earlier = reconciler.reconcile(update(Side.MONOLITH, row(10, "bolt"), row(9, "bolt"), 150),
        ConflictPolicy.LAST_WRITER_WINS, deleted, 0);
    assertTrue(earlier.next().isDeleted(), "the later delete wins");
    assertEquals(new Write(Side.MONOLITH, "item", Write.Type.DELETE, KEY, null, row(9, "bolt")),
        earlier.writes().get(0));
    ConflictPolicy custom = ConflictPolicy.of(Rule.custom("longest"));
    assertEquals(row(9, "bolt"), reconciler.reconcile(update(Side.MONOLITH, row(10, "bolt"), row(9, "bolt"), 150),
        custom, deleted, 0).next().row());
  }

  @Test
  void shouldDecideADeleteAgainstAnUpdateByTheRowRule() {
    RowState state = serviceMovedOn(row(12, "bolt"), ConflictPolicy.LAST_WRITER_WINS);
    Reconciler.Outcome out = reconciler.reconcile(delete(Side.MONOLITH, row(10, "bolt"), 150),
        ConflictPolicy.LAST_WRITER_WINS, state, 0);
    assertEquals(Conflict.Kind.DELETE_UPDATE, out.conflict().kind());
    assertEquals(row(12, "bolt"), out.next().row(), "the service's later update keeps the row");
    assertEquals(new Write(Side.MONOLITH, "item", Write.Type.INSERT, KEY, row(12, "bolt"), null), out.writes().get(0));
    Reconciler.Outcome priority = reconciler.reconcile(delete(Side.MONOLITH, row(10, "bolt"), 150),
        ConflictPolicy.of(Rule.priority(Side.MONOLITH)), state, 0);
    assertTrue(priority.next().isDeleted());
    Reconciler.Outcome manual = reconciler.reconcile(delete(Side.MONOLITH, row(10, "bolt"), 150),
        ConflictPolicy.of(Rule.MANUAL), state, 0);
    assertEquals(Conflict.Outcome.PARKED, manual.conflict().outcome());
    assertNull(manual.next().parkedMonolith());
    assertEquals(row(12, "bolt"), manual.next().parkedService());
  }

  @Test
  void shouldResolveAnInsertOnBothSidesOfOneKeyAndIgnoreADoubleDelete() {
    RowState state = reconciler.reconcile(insert(SERVICE, row(5, "bolt"), 100), ConflictPolicy.LAST_WRITER_WINS,
        null, 0).next();
    Reconciler.Outcome same = reconciler.reconcile(insert(Side.MONOLITH, row(5, "bolt"), 200),
        ConflictPolicy.LAST_WRITER_WINS, state, 0);
    assertNull(same.conflict(), "identical inserts do not conflict");
    Reconciler.Outcome out = reconciler.reconcile(insert(Side.MONOLITH, row(6, "nut"), 200),
        ConflictPolicy.LAST_WRITER_WINS, state, 0);
    assertEquals(Conflict.Kind.INSERT_INSERT, out.conflict().kind());
    assertEquals(row(6, "nut"), out.next().row());
    RowState gone = RowState.deleted(300);
    assertTrue(reconciler.reconcile(delete(SERVICE, row(6, "nut"), 400), ConflictPolicy.LAST_WRITER_WINS, gone, 0)
        .writes().isEmpty());
  }

  @Test
  void shouldRejectRulesThatCannotDecideRowsAndParseConfiguredRules() {
    assertThrows(IllegalArgumentException.class, () -> ConflictPolicy.of(Rule.COUNTER));
    assertEquals(Rule.priority(SERVICE), Rule.parse("service_wins", SERVICE));
    assertEquals(Rule.custom("Longest"), Rule.parse("custom:Longest", SERVICE));
    assertEquals("counter", Rule.parse("COUNTER", SERVICE).toString());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Rule.parse("newest", SERVICE));
    assertTrue(e.getMessage().contains("last_writer_wins"), e.getMessage());
  }

  @Test
  void shouldNeverWriteACounterBackAsAValueAfterInsertingTheRow() {
    ConflictPolicy counters = ConflictPolicy.LAST_WRITER_WINS.column("stock", Rule.COUNTER);
    // a backfill's copy of the row inserts it into the service; what sync sent must not include the counter
    Reconciler.Outcome copied = reconciler.reconcile(ChangeEvent.builder(Side.MONOLITH, "item",
        Operation.SNAPSHOT_READ).key(KEY).after(row(10, "bolt")).hlc(100).build(), counters, null, 0);
    assertEquals(Write.Type.INSERT, copied.writes().get(0).type());
    // the service restocks (+5) and renames before it saw anything else
    Reconciler.Outcome restocked = reconciler.reconcile(update(SERVICE, row(10, "bolt"), row(15, "bolt M6"), 200),
        counters, copied.next(), 0);
    for (Write write : restocked.writes()) {
      assertTrue(write.values() == null || !write.values().has("stock"),
          "a counter converges by deltas only, never by a value written back: " + write);
    }
    assertEquals(Value.of(15L), restocked.next().row().get("stock"));
    // a copy of a row sync already knows changes nothing
    Reconciler.Outcome again = reconciler.reconcile(ChangeEvent.builder(Side.MONOLITH, "item",
        Operation.SNAPSHOT_READ).key(KEY).after(row(10, "bolt")).hlc(300).build(), counters, restocked.next(), 0);
    assertEquals(List.of(), again.writes());
    assertEquals(Value.of(15L), again.next().row().get("stock"));
  }

  @Test
  void shouldInsertARowSyncNeverSawNextToTheUpdateThatFindsItMissing() {
    ConflictPolicy counters = ConflictPolicy.LAST_WRITER_WINS.column("stock", Rule.COUNTER);
    Reconciler.Outcome out = reconciler.reconcile(update(Side.MONOLITH, row(10, "bolt"), row(8, "bolt"), 100),
        counters, null, 0);
    assertEquals(List.of(Write.Type.UPDATE, Write.Type.INSERT_MISSING), out.writes().stream().map(Write::type)
        .toList());
    assertEquals(Row.of("stock", Value.of(-2L)), out.writes().get(0).deltas());
    assertEquals(row(8, "bolt"), out.writes().get(1).values());
  }
}
