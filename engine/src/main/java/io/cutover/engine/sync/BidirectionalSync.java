package io.cutover.engine.sync;

import io.cutover.engine.apply.Mirror;
import io.cutover.engine.apply.SideWriter;
import io.cutover.engine.apply.TableMapping;
import io.cutover.engine.apply.Write;
import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.Operation;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import io.cutover.engine.event.Value;
import io.cutover.engine.pipeline.ChangeHandler;
import io.cutover.engine.pipeline.ChangeRecord;
import io.cutover.engine.sync.internal.Reconciler;
import io.cutover.engine.sync.internal.RowState;
import io.cutover.engine.sync.internal.StateStore;
import io.cutover.journal.Journal;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import javax.sql.DataSource;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Bi-directional sync between the monolith and one service, as a pipeline handler. Both sides' captures publish
 * into one pipeline; this handler sees their changes in journal order, maps service changes back to the
 * monolith's names, reconciles each against what both sides last agreed on, and writes the outcome to the other
 * side (and, when a conflict resolved against the incoming change, back to its own side).
 *
 * <p><b>Exactly once.</b> Per batch: the decisions are made against the state store, each side's writes are
 * committed in one transaction on a session marked as Cutover's (no echo), then the new state is committed with
 * the batch's last journal index. After a crash the batch is decided again from the same state, identically, and
 * the writes are conditional, so what already landed, or what an application changed since, is not overwritten.
 * So no counter delta is applied twice.
 *
 * <p><b>Parking.</b> A row whose conflict's rule is manual is parked: nothing of it is synced until an operator
 * resolves it ({@link #resolution}); other rows and tables go on.
 *
 * <p>The handler runs on one pipeline thread; {@link #conflicts}, {@link #parked} and {@link #stats} may be
 * called from any thread.
 */
public final class BidirectionalSync implements ChangeHandler, AutoCloseable {
  /** The table name of operator decisions travelling through the journal. */
  public static final String RESOLUTION_TABLE = "cutover_resolution";
  /** The table name of ticks: changes that carry nothing but give a paused table a chance to resume. */
  public static final String TICK_TABLE = "cutover_tick";
  /** The table name of operators' sync controls (pause, resume a table) travelling through the journal. */
  public static final String CONTROL_TABLE = "cutover_control";
  /** The reason recorded for a table an operator paused. */
  public static final String PAUSED_BY_OPERATOR = "paused by an operator";
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(BidirectionalSync.class);
  private long lastDriftCheck;

  private final String name;
  private final Side service;
  private final Path stateFile;
  private final boolean syncState;
  private final int maxConflicts;
  private final Map<String, Table> byMonolithTable = new HashMap<>();
  private final Map<String, Table> byServiceTable = new HashMap<>();
  private final Reconciler reconciler;
  private final java.util.concurrent.ExecutorService serviceWrites = java.util.concurrent.Executors
      .newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "cutover-sync-writer");
        thread.setDaemon(true);
        return thread;
      });
  private final SideWriter monolithWriter;
  private final SideWriter serviceWriter;
  private final List<ChangeEvent> pending = new ArrayList<>();
  private final List<Long> pendingIndexes = new ArrayList<>();
  private long pendingIndex = Journal.NO_INDEX;
  private StateStore store;
  private final StateChangelog changelog;
  /** The name this sync's positions are recorded under in both databases (per incarnation with a changelog). */
  private final String applier;
  private final DataSource monolithDatabase;
  private final DataSource serviceDatabase;
  private final Map<String, TableMapping> mappings = new HashMap<>();
  private boolean takeOverRequested;
  /**
   * Fenced by another instance's take-over: this one's changes are that instance's to apply now (they are in Kafka
   * after the offsets it started from), so they are dropped here until this instance takes the service over again.
   */
  private boolean standingDown;

  private final AtomicLong toService = new AtomicLong();
  private final AtomicLong toMonolith = new AtomicLong();
  private final AtomicLongArray byKind = new AtomicLongArray(Conflict.Kind.values().length);
  private final AtomicLongArray byOutcome = new AtomicLongArray(Conflict.Outcome.values().length);
  private final AtomicLong skipped = new AtomicLong();
  private final AtomicLong parkedNow = new AtomicLong();
  private final AtomicLong lastDetection = new AtomicLong();
  private final java.util.concurrent.ConcurrentHashMap<String, TableCounters> tableCounters =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final Recorder toServiceLatency = new Recorder(3);
  private final Recorder toMonolithLatency = new Recorder(3);
  private final Histogram toServiceTotal = new Histogram(3);
  private final Histogram toMonolithTotal = new Histogram(3);

  /** One synced table. */
  private record Table(TableMapping mapping, ConflictPolicy policy, boolean fromService) {}

  private BidirectionalSync(Builder builder) {
    this.service = builder.service;
    this.name = "sync-" + builder.service.service();
    this.stateFile = builder.stateDirectory.resolve(name + ".mv.db");
    this.syncState = builder.syncState;
    this.maxConflicts = builder.maxConflicts;
    this.changelog = builder.changelog;
    // With a changelog another instance may have written under this sync's name, with journal indexes of its
    // own; this incarnation records its positions under a name of its own.
    this.applier = changelog == null ? name : name + "#" + Long.toString(System.currentTimeMillis(), 36)
        + Long.toString(System.nanoTime() & 0xfff, 36);
    this.monolithDatabase = builder.monolith;
    this.serviceDatabase = builder.serviceDatabase;
    for (Table table : builder.tables) {
      byMonolithTable.put(table.mapping().sourceTable(), table);
      if (table.fromService()) {
        byServiceTable.put(table.mapping().targetTable(), table);
      }
      mappings.put(table.mapping().sourceTable(), table.mapping());
    }
    this.monolithWriter = writer(applier, Side.MONOLITH, builder.monolith);
    this.serviceWriter = writer(applier, service, builder.serviceDatabase);
    this.reconciler = new Reconciler(service, builder.resolvers,
        side -> (side.isMonolith() ? monolithWriter : serviceWriter).versions());
  }

  /**
   * A writer of one side, its sessions marked with this sync's name; with a changelog they take the name's
   * replication origin from a previous owner (fenced by the take-over) that still holds it.
   */
  private SideWriter writer(String positionsUnder, Side side, DataSource database) {
    SideWriter writer = new SideWriter(positionsUnder, SideWriter.session(name, side), side, database, mappings);
    return changelog == null ? writer : writer.takingSessionsOver();
  }

  /**
   * Starts a sync between the monolith and one service.
   *
   * @param service the service's name.
   * @param monolith the monolith's database.
   * @param serviceDatabase the service's database.
   * @param stateDirectory where the state store lives ({@code sync-<service>.mv.db}).
   * @return a builder.
   */
  public static Builder builder(String service, DataSource monolith, DataSource serviceDatabase,
      Path stateDirectory) {
    return new Builder(Side.service(service), monolith, serviceDatabase, stateDirectory);
  }

  /**
   * The change that carries an operator's decision on a parked conflict through the journal: publish it to the
   * pipeline. Both sides get the chosen side's latest version of the row.
   *
   * @param conflictId the parked conflict.
   * @param winner the side whose version both sides keep.
   * @return the change to publish.
   */
  public static ChangeEvent resolution(long conflictId, Side winner) {
    return ChangeEvent.builder(Side.MONOLITH, RESOLUTION_TABLE, Operation.UPDATE)
        .key(Row.of("conflict", Value.of(conflictId), "choice", Value.of(winner.isMonolith() ? "monolith"
            : winner.service())))
        .after(Row.of("conflict", Value.of(conflictId)))
        .build();
  }

  /**
   * The change that carries an operator's decision on a parked conflict: both sides get these values (the
   * monolith's column names; columns not given keep the monolith's latest version).
   *
   * @param conflictId the parked conflict.
   * @param values the row's values.
   * @return the change to publish.
   */
  public static ChangeEvent resolution(long conflictId, Row values) {
    return ChangeEvent.builder(Side.MONOLITH, RESOLUTION_TABLE, Operation.UPDATE)
        .key(Row.of("conflict", Value.of(conflictId), "choice", Value.of("values")))
        .after(values.size() == 0 ? Row.of("conflict", Value.of(conflictId)) : values)
        .build();
  }

  /**
   * A tick: publish one now and then (a {@code Migration} does, every second, while a table is paused) so that a
   * paused table resumes soon after its schemas agree, even when no other change flows.
   *
   * @return the change to publish.
   */
  public static ChangeEvent tick() {
    return ChangeEvent.builder(Side.MONOLITH, TICK_TABLE, Operation.UPDATE)
        .key(Row.of("tick", Value.of(System.currentTimeMillis()))).after(Row.EMPTY).build();
  }

  /**
   * The change that pauses a table's sync (an operator's decision, through the journal): its changes are held,
   * in order, until {@link #resumeTable}; other tables go on.
   *
   * @param table the monolith's table.
   * @return the change to publish.
   */
  public static ChangeEvent pauseTable(String table) {
    return control("pause", table);
  }

  /**
   * The change that resumes a paused table: its held changes are applied in order (if they fit the schemas).
   *
   * @param table the monolith's table.
   * @return the change to publish.
   */
  public static ChangeEvent resumeTable(String table) {
    return control("resume", table);
  }

  /**
   * The change that makes a sync with a {@link StateChangelog} take its service over (see {@code
   * Builder#changelog}): before anything else of its batch, the state is replaced by the changelog's, the last
   * batch's writes are finished where a database lacks them, and the previous writer is fenced. Published when
   * this instance is given the service's changes (a Kafka consumer group's assignment).
   *
   * @param service the service.
   * @return the change to publish.
   */
  public static ChangeEvent takeOver(String service) {
    return ChangeEvent.builder(Side.MONOLITH, CONTROL_TABLE, Operation.UPDATE)
        .key(Row.of("action", Value.of(TAKE_OVER), "service", Value.of(service))).after(Row.EMPTY).build();
  }

  private static final String TAKE_OVER = "take_over";

  private static ChangeEvent control(String action, String table) {
    return ChangeEvent.builder(Side.MONOLITH, CONTROL_TABLE, Operation.UPDATE)
        .key(Row.of("action", Value.of(action), "table", Value.of(table))).after(Row.EMPTY).build();
  }

  /**
   * The monolith's tables this sync maps.
   *
   * @return the table names.
   */
  public java.util.Set<String> tables() {
    return java.util.Set.copyOf(byMonolithTable.keySet());
  }

  /**
   * The tables whose sync is paused by schema drift, and why. Their changes are held durably in the state store
   * and applied, in order, once the schemas agree again; other tables go on.
   *
   * @return table to reason.
   * @throws IOException if the state store cannot be opened.
   */
  public Map<String, String> paused() throws IOException {
    return store().paused();
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public String refusesReplay() {
    return "it decides every change once against its state (each row's last source positions), so a replay "
        + "would change nothing; to mend a database restored from a backup, validate and repair it instead";
  }

  /**
   * The journal index of the last batch in the state store; with a changelog none (the journal is transient, the
   * state comes from the changelog at take-over).
   */
  @Override
  public long durablePosition() throws IOException {
    long position = store().position();
    return changelog != null ? Journal.NO_INDEX : position;
  }

  /** The state store forces its file now and then: after a power loss the journal replays from its position. */
  @Override
  public boolean resumesFromDurablePosition() {
    return changelog == null;
  }

  private StateStore store() throws IOException {
    if (store == null) {
      store = new StateStore(stateFile, maxConflicts);
      if (changelog != null) {
        store.keepChanges();
      }
      parkedNow.set(store.parkedConflicts().size());
    }
    return store;
  }

  @Override
  public void onChange(ChangeRecord change) {
    pendingIndex = change.journalIndex();
    ChangeEvent event = change.decode();
    if (!event.origin().isEmpty() && !event.origin().equals(ChangeEvent.ORIGIN_REPAIR)) {
      return;
    }
    if (event.table().equals(TICK_TABLE)) {
      return;
    }
    if (event.table().equals(CONTROL_TABLE) && changelog != null && event.key().has("service")
        && TAKE_OVER.equals(event.key().get("action").asString())
        && service.service().equals(event.key().get("service").asString())) {
      takeOverRequested = true;
      return;
    }
    if ((event.table().equals(RESOLUTION_TABLE) && event.key().has("conflict") && event.key().has("choice"))
        || (event.table().equals(CONTROL_TABLE) && event.key().has("table") && event.key().has("action")
        && byMonolithTable.containsKey(event.key().get("table").asString()))) {
      add(event, change.journalIndex());
      return;
    }
    if (event.side().isMonolith()) {
      Table table = byMonolithTable.get(event.table());
      if (table != null) {
        ChangeEvent filtered = table.mapping().filtered(event);
        if (filtered != null) {
          add(filtered, change.journalIndex());
        }
      }
    } else if (event.side().equals(service)) {
      Table table = byServiceTable.get(event.table());
      if (table != null) {
        add(table.mapping().toSource(event), change.journalIndex());
      }
    }
  }

  private void add(ChangeEvent event, long journalIndex) {
    pending.add(event);
    pendingIndexes.add(journalIndex);
  }

  @Override
  public void onBatchEnd() throws Exception {
    if (pendingIndex == Journal.NO_INDEX) {
      return;
    }
    if (standingDown && !takeOverRequested) {
      dropPending();
      return;
    }
    StateStore state = store();
    long now = System.currentTimeMillis() * 1_000L;
    List<SideWriter.Indexed> toMonolithWrites = new ArrayList<>();
    List<SideWriter.Indexed> toServiceWrites = new ArrayList<>();
    List<Conflict> conflicts = new ArrayList<>();
    long parkedDelta = 0;
    List<ChangeEvent> applied = new ArrayList<>();
    // decided from its changes and the state only: its store commit may wait (see StateStore.commit)
    boolean mayWait = changelog == null && !takeOverRequested && state.holdsNothing();
    try {
      if (takeOverRequested) {
        takeOver(state);
        takeOverRequested = false;
      }
      parkedDelta += releaseHeld(state, now, conflicts, toMonolithWrites, toServiceWrites, applied);
      for (int i = 0; i < pending.size(); i++) {
        ChangeEvent event = pending.get(i);
        long index = pendingIndexes.get(i);
        if (event.table().equals(CONTROL_TABLE)) {
          mayWait = false;
          String table = event.key().get("table").asString();
          if (event.key().get("action").asString().equals("pause")) {
            state.pause(table, PAUSED_BY_OPERATOR);
            LOG.warn("sync of table {} with {} {}", table, service.service(), PAUSED_BY_OPERATOR);
          } else if (PAUSED_BY_OPERATOR.equals(state.paused().get(table))) {
            state.pause(table, "resuming");
            lastDriftCheck = 0;
          }
          continue;
        }
        if (event.table().equals(RESOLUTION_TABLE)) {
          mayWait = false;
          List<Write> writes = resolve(state, event, now, conflicts);
          if (!writes.isEmpty()) {
            parkedDelta--;
          }
          for (Write write : writes) {
            (write.side().isMonolith() ? toMonolithWrites : toServiceWrites).add(new SideWriter.Indexed(index, write));
          }
          continue;
        }
        if (state.isPaused(event.table())) {
          state.hold(index, event);
          continue;
        }
        String drift = drift(event);
        if (drift != null) {
          state.pause(event.table(), drift);
          state.hold(index, event);
          LOG.warn("sync of table {} with {} paused: {}; its changes are held until the schemas agree, other "
              + "tables go on", event.table(), service.service(), drift);
          continue;
        }
        parkedDelta += reconcile(state, event, index, false, now, conflicts, toMonolithWrites, toServiceWrites);
        applied.add(event);
      }
      if (changelog != null) {
        List<StateChangelog.Entry> entries = new ArrayList<>(state.takeChanges());
        if (!toServiceWrites.isEmpty() || !toMonolithWrites.isEmpty()) {
          List<SideWriter.Indexed> writes = new ArrayList<>(toMonolithWrites);
          writes.addAll(toServiceWrites);
          entries.add(new StateChangelog.Entry(PENDING_BATCH, PENDING_BATCH.getBytes(
              java.nio.charset.StandardCharsets.UTF_8), io.cutover.engine.sync.internal.StateCodec.encode(
              new io.cutover.engine.sync.internal.StateCodec.PendingBatch(applier, pendingIndex, writes))));
        }
        if (!entries.isEmpty()) {
          changelog.append(entries); // write-ahead: whoever takes over can finish this batch's writes
        }
      }
      int skippedWrites = writeBothSides(toServiceWrites, toMonolithWrites);
      state.commit(pendingIndex, syncState, mayWait && decidedAgainAlike(conflicts) && state.holdsNothing());
      long appliedAt = System.currentTimeMillis() * 1_000L;
      TableCounters counters = null;
      for (ChangeEvent event : applied) {
        boolean fromMonolith = event.side().isMonolith();
        (fromMonolith ? toService : toMonolith).incrementAndGet();
        if (counters == null || !counters.table.equals(event.table())) {
          counters = tableCounters.computeIfAbsent(event.table(), TableCounters::new);
        }
        counters.applied(fromMonolith, event.commitTimeMicros() > 0 ? Math.max(0, appliedAt
            - event.commitTimeMicros()) : 0, appliedAt);
        if (event.commitTimeMicros() > 0) {
          (fromMonolith ? toServiceLatency : toMonolithLatency)
              .recordValue(Math.max(0, appliedAt - event.commitTimeMicros()));
        }
      }
      for (Conflict conflict : conflicts) {
        if (conflict.outcome() != Conflict.Outcome.RESOLVED_BY_OPERATOR) {
          tableCounters.computeIfAbsent(conflict.table(), TableCounters::new).conflicts.increment();
        }
        if (conflict.outcome() != Conflict.Outcome.RESOLVED_BY_OPERATOR) {
          byKind.incrementAndGet(conflict.kind().ordinal());
          if (conflict.incomingCommitMicros() > 0) {
            lastDetection.set(Math.max(0, conflict.detectedMicros() - conflict.incomingCommitMicros()));
          }
        }
        byOutcome.incrementAndGet(conflict.outcome().ordinal());
      }
      parkedNow.addAndGet(parkedDelta);
      skipped.addAndGet(skippedWrites);
      standingDown = false;
      dropPending();
    } catch (Exception e) {
      state.rollback();
      monolithWriter.forgetSchemas();
      serviceWriter.forgetSchemas();
      if (changelog != null) {
        // fenced, perhaps: let go of the sessions (and their replication origins) the new owner needs
        monolithWriter.close();
        serviceWriter.close();
      }
      if (e instanceof StateChangelog.Fenced) {
        // Retrying could never succeed, and would keep this instance from the take-over event behind this batch
        // should the service come back to it: stand down instead (see standingDown).
        LOG.warn("sync with {} stands down, its changes left to the instance that took it over: {}",
            service.service(), e.getMessage());
        standingDown = true;
        takeOverRequested = false;
        dropPending();
        return;
      }
      throw e;
    }
  }

  private void dropPending() {
    pending.clear();
    pendingIndexes.clear();
    pendingIndex = Journal.NO_INDEX;
  }

  private static final String PENDING_BATCH = "batch";

  /**
   * Takes the service over from the changelog: fences its previous writer, replaces the state, and finishes the
   * last batch the changelog recorded where a database has not committed it (its positions, recorded under the
   * previous writer's name in the same transactions as its writes, tell).
   */
  private void takeOver(StateStore state) throws Exception {
    List<StateChangelog.Entry> entries = new ArrayList<>();
    changelog.takeOver(entries::add);
    // this instance's own sessions from an earlier ownership are stale (a successor may have ended them) and hold
    // the replication origins the recovery below needs: new ones follow
    monolithWriter.close();
    serviceWriter.close();
    StateChangelog.Entry last = null;
    for (StateChangelog.Entry e : entries) {
      if (e.map().equals(PENDING_BATCH)) {
        last = e;
      }
    }
    state.restore(entries);
    parkedNow.set(state.parkedConflicts().size());
    if (last == null || last.value() == null) {
      LOG.info("sync with {} taken over: {} state entries", service.service(), entries.size());
      return;
    }
    io.cutover.engine.sync.internal.StateCodec.PendingBatch batch =
        io.cutover.engine.sync.internal.StateCodec.decodeBatch(last.value());
    int finished = 0;
    for (Side side : List.of(Side.MONOLITH, service)) {
      List<SideWriter.Indexed> writes = new ArrayList<>();
      for (SideWriter.Indexed w : batch.writes()) {
        if (w.write().side().equals(side)) {
          writes.add(w);
        }
      }
      if (writes.isEmpty() || batch.applier().equals(applier)) {
        continue;
      }
      SideWriter recovery = writer(batch.applier(), side, side.isMonolith() ? monolithDatabase : serviceDatabase);
      try {
        recovery.write(writes, batch.position());
        finished += writes.size();
      } finally {
        recovery.close();
      }
    }
    LOG.info("sync with {} taken over: {} state entries; the last batch of {} checked ({} write(s) on the way)",
        service.service(), entries.size(), batch.applier(), finished);
  }

  /**
   * Writes both sides' shares of a batch, each in its own transaction, the service's on a second thread while
   * the monolith's runs here (the two databases' round trips overlap). Both must commit before the state does;
   * either failing fails the batch, which is then decided and written again (positions make that exactly once).
   */
  private int writeBothSides(List<SideWriter.Indexed> toService, List<SideWriter.Indexed> toMonolith)
      throws Exception {
    if (toService.isEmpty() || toMonolith.isEmpty()) {
      return serviceWriter.write(toService, pendingIndex) + monolithWriter.write(toMonolith, pendingIndex);
    }
    long batchEnd = pendingIndex;
    java.util.concurrent.Future<Integer> service = serviceWrites.submit(() -> serviceWriter.write(toService,
        batchEnd));
    int skippedHere;
    try {
      skippedHere = monolithWriter.write(toMonolith, batchEnd);
    } catch (Exception e) {
      awaitQuietly(service);
      throw e;
    }
    try {
      return skippedHere + service.get();
    } catch (java.util.concurrent.ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
  }

  private static void awaitQuietly(java.util.concurrent.Future<Integer> future) {
    try {
      future.get();
    } catch (Exception ignored) {
      // the batch fails anyway; this only makes sure the other side's writer is idle before the retry
    }
  }

  /**
   * Whether a batch's conflicts would be decided and recorded alike if the batch were decided again after a crash:
   * each resolved by its table's rules, none of them a custom resolver's, none parked. A conflict's record is keyed
   * by its change's clock, so deciding it again replaces the record rather than adding one.
   */
  private boolean decidedAgainAlike(List<Conflict> conflicts) {
    for (Conflict conflict : conflicts) {
      Table table = byMonolithTable.get(conflict.table());
      if (conflict.outcome() != Conflict.Outcome.RESOLVED || table == null || !table.policy().deterministic()) {
        return false;
      }
    }
    return true;
  }

  /** Reconciles one change and queues its writes; returns the change in parked rows. */
  private long reconcile(StateStore state, ChangeEvent event, long index, boolean held, long now,
      List<Conflict> conflicts, List<SideWriter.Indexed> toMonolithWrites, List<SideWriter.Indexed> toServiceWrites) {
    Table table = byMonolithTable.get(event.table());
    boolean repair = event.origin().equals(ChangeEvent.ORIGIN_REPAIR);
    if (!repair && !table.fromService() && event.side().isMonolith()) {
      Mirror.writes(service, event, index, held, toServiceWrites);
      return 0;
    }
    byte[] key = StateStore.rowKey(event.table(), event.key());
    if (repair) {
      repair(state, key, event, index, held, toMonolithWrites, toServiceWrites);
      return 0;
    }
    Reconciler.Outcome outcome = reconciler.reconcile(event, table.policy(), state.get(key), now);
    state.put(key, outcome.next());
    long parkedDelta = 0;
    if (outcome.conflict() != null) {
      state.record(outcome.conflict());
      conflicts.add(outcome.conflict());
      if (outcome.conflict().outcome() == Conflict.Outcome.PARKED) {
        parkedDelta++;
      }
    }
    for (Write write : outcome.writes()) {
      (write.side().isMonolith() ? toMonolithWrites : toServiceWrites).add(new SideWriter.Indexed(index, write,
          held));
    }
    return parkedDelta;
  }

  /**
   * A repair from validation: the winning side's row (or its absence) is written to the other side
   * unconditionally and becomes the agreed version. A parked row is left to the operator.
   */
  private void repair(StateStore state, byte[] key, ChangeEvent event, long index, boolean held,
      List<SideWriter.Indexed> toMonolithWrites, List<SideWriter.Indexed> toServiceWrites) {
    RowState current = state.get(key);
    if (current != null && current.parked() != 0) {
      LOG.warn("repair of {} {} skipped: the row is parked as conflict {}; resolve the conflict instead",
          event.table(), event.key(), current.parked());
      return;
    }
    Side to = event.side().isMonolith() ? service : Side.MONOLITH;
    Write write;
    if (event.operation() == Operation.DELETE) {
      state.put(key, RowState.deleted(event.hlc()).positionsFrom(current));
      write = new Write(to, event.table(), Write.Type.FORCE_DELETE, event.key(), null, null);
    } else {
      Row base = current == null || current.isDeleted() ? null : current.row();
      state.put(key, RowState.existing(RowState.overlay(base, event.after().columns()), event.hlc())
          .positionsFrom(current));
      write = new Write(to, event.table(), Write.Type.UPSERT, event.key(), event.after(), null);
    }
    (to.isMonolith() ? toMonolithWrites : toServiceWrites).add(new SideWriter.Indexed(index, write, held));
  }

  /** Whether a change fits the other side's table; null if it does, else what does not. */
  private String drift(ChangeEvent event) throws java.sql.SQLException {
    SideWriter target = event.side().isMonolith() ? serviceWriter : monolithWriter;
    return target.drift(event.table(), event.after() != null ? event.after() : event.key());
  }

  /**
   * At most once a second: for each paused table, reads both schemas again and, if every held change now fits,
   * applies them in journal order and resumes the table.
   */
  private long releaseHeld(StateStore state, long now, List<Conflict> conflicts,
      List<SideWriter.Indexed> toMonolithWrites, List<SideWriter.Indexed> toServiceWrites, List<ChangeEvent> applied)
      throws java.sql.SQLException {
    Map<String, String> pausedNow = state.paused();
    if (pausedNow.isEmpty() || now - lastDriftCheck < 1_000_000L) {
      return 0;
    }
    lastDriftCheck = now;
    monolithWriter.forgetSchemas();
    serviceWriter.forgetSchemas();
    long parkedDelta = 0;
    for (String table : pausedNow.keySet()) {
      if (PAUSED_BY_OPERATOR.equals(pausedNow.get(table))) {
        continue;
      }
      java.util.SortedMap<Long, ChangeEvent> held = state.held(table);
      String drift = null;
      for (ChangeEvent event : held.values()) {
        drift = drift(event);
        if (drift != null) {
          break;
        }
      }
      if (drift != null) {
        state.pause(table, drift);
        continue;
      }
      for (Map.Entry<Long, ChangeEvent> event : held.entrySet()) {
        parkedDelta += reconcile(state, event.getValue(), event.getKey(), true, now, conflicts, toMonolithWrites,
            toServiceWrites);
        applied.add(event.getValue());
        state.release(event.getKey());
      }
      state.unpause(table);
      LOG.info("sync of table {} with {} resumed: the schemas agree; {} held change(s) applied", table,
          service.service(), held.size());
    }
    return parkedDelta;
  }

  /** An operator's decision: both sides get the chosen version, the row is released. */
  private List<Write> resolve(StateStore state, ChangeEvent event, long now, List<Conflict> conflicts) {
    long id = event.key().get("conflict").asLong();
    byte[] key = state.parkedRow(id);
    Conflict conflict = state.conflict(id);
    if (key == null || conflict == null) {
      return List.of();
    }
    RowState row = state.get(key);
    String choice = event.key().get("choice").asString();
    Row chosen;
    if (choice.equals("values")) {
      Map<String, Value> values = new LinkedHashMap<>(event.after().columns());
      values.remove("conflict");
      chosen = values.isEmpty() ? row.parkedMonolith() : overlay(row, values, conflict.key());
    } else if (choice.equals("monolith")) {
      chosen = row.parkedMonolith();
    } else {
      chosen = row.parkedService();
    }
    RowState next = (chosen == null ? RowState.deleted(event.hlc()) : RowState.existing(chosen, event.hlc()))
        .positionsFrom(row);
    state.put(key, next);
    state.unpark(id);
    List<String> decisions = new ArrayList<>(conflict.decisions());
    decisions.add("operator chose " + choice);
    Conflict resolved = new Conflict(conflict.id(), conflict.table(), conflict.key(), conflict.kind(),
        conflict.heldSide(), conflict.held(), conflict.heldHlc(), conflict.incomingSide(), conflict.incoming(),
        conflict.incomingHlc(), conflict.columns(), decisions, chosen, Conflict.Outcome.RESOLVED_BY_OPERATOR,
        conflict.detectedMicros(), conflict.incomingCommitMicros());
    state.record(resolved);
    conflicts.add(resolved);
    List<Write> writes = new ArrayList<>(2);
    for (Side side : List.of(Side.MONOLITH, service)) {
      writes.add(chosen == null
          ? new Write(side, conflict.table(), Write.Type.FORCE_DELETE, conflict.key(), null, null)
          : new Write(side, conflict.table(), Write.Type.UPSERT, conflict.key(), chosen, null));
    }
    return writes;
  }

  private static Row overlay(RowState row, Map<String, Value> values, Row key) {
    Row base = row.parkedMonolith() != null ? row.parkedMonolith() : row.parkedService();
    return RowState.overlay(RowState.overlay(base, key.columns()), values);
  }

  /**
   * The most recent conflicts, newest first (the audit log; parked ones are never dropped from it).
   *
   * @param limit the most to return.
   * @return the conflicts.
   * @throws IOException if the state store cannot be opened.
   */
  public List<Conflict> conflicts(int limit) throws IOException {
    return store().recentConflicts(limit);
  }

  /**
   * The parked conflicts, oldest first.
   *
   * @return the conflicts.
   * @throws IOException if the state store cannot be opened.
   */
  public List<Conflict> parked() throws IOException {
    return store().parkedConflicts();
  }

  /**
   * The service this sync serves.
   *
   * @return its side.
   */
  public Side service() {
    return service;
  }

  /**
   * Counters since start.
   *
   * @return the counters.
   */
  public synchronized SyncStats stats() {
    toServiceTotal.add(toServiceLatency.getIntervalHistogram());
    toMonolithTotal.add(toMonolithLatency.getIntervalHistogram());
    Map<Conflict.Kind, Long> kinds = new EnumMap<>(Conflict.Kind.class);
    for (Conflict.Kind kind : Conflict.Kind.values()) {
      kinds.put(kind, byKind.get(kind.ordinal()));
    }
    Map<Conflict.Outcome, Long> outcomes = new EnumMap<>(Conflict.Outcome.class);
    for (Conflict.Outcome outcome : Conflict.Outcome.values()) {
      outcomes.put(outcome, byOutcome.get(outcome.ordinal()));
    }
    return new SyncStats(toService.get(), toMonolith.get(), kinds, outcomes, parkedNow.get(), skipped.get(),
        toServiceTotal.getValueAtPercentile(95), toMonolithTotal.getValueAtPercentile(95), lastDetection.get());
  }

  /**
   * Per-table counters since start, for the tables that have seen a change or a conflict.
   *
   * @return the counters, by the monolith's table name, sorted.
   */
  public java.util.SortedMap<String, TableStats> tableStats() {
    long now = System.currentTimeMillis() * 1_000L;
    java.util.SortedMap<String, TableStats> out = new java.util.TreeMap<>();
    tableCounters.forEach((table, c) -> out.put(table, c.snapshot(now)));
    return out;
  }

  /** One table's counters: written by the apply thread, read by status calls. */
  private static final class TableCounters {
    final String table;
    final java.util.concurrent.atomic.LongAdder toService = new java.util.concurrent.atomic.LongAdder();
    final java.util.concurrent.atomic.LongAdder toMonolith = new java.util.concurrent.atomic.LongAdder();
    final java.util.concurrent.atomic.LongAdder conflicts = new java.util.concurrent.atomic.LongAdder();
    volatile long lagMicros;
    volatile long lastAppliedMicros;
    volatile double lastWindowRate;
    final Recorder latency = new Recorder(3);
    private final Histogram total = new Histogram(3);
    private long windowStartMicros;
    private long windowCount;

    TableCounters(String table) {
      this.table = table;
    }

    void applied(boolean toServiceDirection, long lag, long now) {
      (toServiceDirection ? toService : toMonolith).increment();
      if (lag > 0) {
        lagMicros = lag;
        latency.recordValue(lag);
      }
      lastAppliedMicros = now;
      if (windowStartMicros == 0) {
        windowStartMicros = now;
      }
      windowCount++;
      if (now - windowStartMicros >= 1_000_000L) {
        lastWindowRate = windowCount * 1e6 / (now - windowStartMicros);
        windowStartMicros = now;
        windowCount = 0;
      }
    }

    synchronized TableStats snapshot(long now) {
      double rate = now - lastAppliedMicros > 2_000_000L ? 0 : lastWindowRate;
      total.add(latency.getIntervalHistogram());
      return new TableStats(table, toService.sum(), toMonolith.sum(), conflicts.sum(), lagMicros, lastAppliedMicros,
          rate, total.getTotalCount() == 0 ? 0 : total.getValueAtPercentile(95));
    }
  }

  /**
   * The distribution of source-commit-to-applied latency since start, in microseconds (a copy).
   *
   * @param toServiceDirection true for changes applied to the service, false for those applied to the monolith.
   * @return the histogram.
   */
  public synchronized Histogram latency(boolean toServiceDirection) {
    toServiceTotal.add(toServiceLatency.getIntervalHistogram());
    toMonolithTotal.add(toMonolithLatency.getIntervalHistogram());
    return (toServiceDirection ? toServiceTotal : toMonolithTotal).copy();
  }

  /** Closes the connections and the state store. */
  @Override
  public void close() {
    serviceWrites.shutdownNow();
    monolithWriter.close();
    serviceWriter.close();
    if (changelog != null) {
      changelog.close();
    }
    if (store != null) {
      store.close();
      store = null;
    }
  }

  /** Builds a {@link BidirectionalSync}. Not thread-safe. */
  public static final class Builder {
    private final Side service;
    private final DataSource monolith;
    private final DataSource serviceDatabase;
    private final Path stateDirectory;
    private final List<Table> tables = new ArrayList<>();
    private final Map<String, ConflictResolver> resolvers = new HashMap<>();
    private boolean syncState = true;
    private int maxConflicts = 100_000;
    private StateChangelog changelog;

    private Builder(Side service, DataSource monolith, DataSource serviceDatabase, Path stateDirectory) {
      this.service = service;
      this.monolith = Objects.requireNonNull(monolith, "monolith");
      this.serviceDatabase = Objects.requireNonNull(serviceDatabase, "service database");
      this.stateDirectory = Objects.requireNonNull(stateDirectory, "state directory");
      for (ConflictResolver resolver : ServiceLoader.load(ConflictResolver.class)) {
        resolvers.put(resolver.name(), resolver);
      }
    }

    /**
     * Syncs a table both ways.
     *
     * @param mapping the monolith's table to the service's.
     * @param policy how its conflicts are decided.
     * @return this builder.
     */
    public Builder table(TableMapping mapping, ConflictPolicy policy) {
      return table(mapping, policy, true);
    }

    /**
     * Syncs a table, both ways or only monolith -> service.
     *
     * @param mapping the monolith's table to the service's.
     * @param policy how its conflicts are decided.
     * @param bidirectional false to ignore the service's changes of this table.
     * @return this builder.
     */
    public Builder table(TableMapping mapping, ConflictPolicy policy, boolean bidirectional) {
      tables.add(new Table(mapping, Objects.requireNonNull(policy, "policy"), bidirectional));
      return this;
    }

    /**
     * Adds a custom resolver (besides those found on the classpath).
     *
     * @param resolver the resolver.
     * @return this builder.
     */
    public Builder resolver(ConflictResolver resolver) {
      resolvers.put(resolver.name(), resolver);
      return this;
    }

    /**
     * Whether each batch's state is forced to disk (default true; false survives process crashes only).
     *
     * @param value the setting.
     * @return this builder.
     */
    public Builder syncState(boolean value) {
      this.syncState = value;
      return this;
    }

    /**
     * Keeps the state in a changelog too, so that another engine instance can take the service over (with
     * {@link BidirectionalSync#takeOver}); its positions in the databases are then recorded per incarnation.
     *
     * @param value the changelog (closed with the sync).
     * @return this builder.
     */
    public Builder changelog(StateChangelog value) {
      this.changelog = Objects.requireNonNull(value, "changelog");
      return this;
    }

    /**
     * How many conflicts the audit log keeps (default 100,000; parked ones are never dropped).
     *
     * @param value the count.
     * @return this builder.
     */
    public Builder maxConflicts(int value) {
      this.maxConflicts = value;
      return this;
    }

    /**
     * Validates and builds.
     *
     * @return the handler.
     * @throws IllegalArgumentException naming what is wrong.
     */
    public BidirectionalSync build() {
      if (tables.isEmpty()) {
        throw new IllegalArgumentException("sync with service '" + service.service() + "' maps no tables");
      }
      if (maxConflicts < 1) {
        throw new IllegalArgumentException("maxConflicts must be at least 1");
      }
      for (Table table : tables) {
        List<Rule> rules = new ArrayList<>(table.policy().columns().values());
        rules.add(table.policy().row());
        for (Rule rule : rules) {
          if (rule.kind() == Rule.Kind.CUSTOM && !resolvers.containsKey(rule.resolver())) {
            throw new IllegalArgumentException("table " + table.mapping().sourceTable() + ": no conflict resolver "
                + "named '" + rule.resolver() + "' (found " + resolvers.keySet() + ")");
          }
          if (rule.kind() == Rule.Kind.PRIORITY && !rule.side().isMonolith() && !rule.side().equals(service)) {
            throw new IllegalArgumentException("table " + table.mapping().sourceTable() + ": priority side "
                + rule.side() + " is neither the monolith nor " + service.service());
          }
        }
        if (table.mapping().sourceTable().toLowerCase(Locale.ROOT).equals(RESOLUTION_TABLE)) {
          throw new IllegalArgumentException("table name " + RESOLUTION_TABLE + " is reserved");
        }
      }
      return new BidirectionalSync(this);
    }
  }
}
