package io.cutover.engine.validate;

import io.cutover.engine.apply.TableMapping;
import io.cutover.engine.event.Row;
import io.cutover.engine.validate.internal.MerkleTree;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Validation on a schedule while the migration runs: each round validates every table pair with the
 * {@link Validator}, then decides per discrepancy whether to report it. At {@link Consistency#STRICT} every one is
 * reported. At {@link Consistency#EVENTUAL} with {@link PipelineMarks} (what {@code cutover run} uses), a difference
 * is reported only once every change committed on either side before the round's reads has been through the
 * pipeline (the marks written after the reads have passed the checksum stage) and no change to its row has passed
 * since the row was read: rows in flight never raise an alarm, however far behind the pipeline is, and a real
 * divergence is reported as soon as the pipeline has caught up with it. When the marks do not pass within the lag
 * tolerance, the round raises one alert of its own (the pipeline is behind by more than the tolerance) instead of
 * row discrepancies. Without marks, a discrepancy is reported once first seen at least the tolerance ago with its
 * row quiet in the {@link ChangeClock} for as long. Reported discrepancies go to the {@link ValidationListener}, the
 * {@link AuditLog} and, with automatic repair, to the {@link Repairer}; every round is audited.
 *
 * <p>Thread-safe: rounds run one at a time, on the schedule or through {@link #runOnce}.
 */
public final class ContinuousValidator implements AutoCloseable {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ContinuousValidator.class);
  private final Validator validator;
  private final List<TableMapping> tables;
  private final Consistency consistency;
  private final long toleranceMillis;
  private final Duration interval;
  private final ChangeClock clock;
  private final List<ValidationListener> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final AuditLog audit;
  private final Repairer repairer;
  private final Authority authority;
  private final Map<String, Long> firstSeen = new HashMap<>();
  private final Map<String, Discrepancy> reported = new LinkedHashMap<>();
  private final AtomicLong rounds = new AtomicLong();
  private final AtomicLong rowsCompared = new AtomicLong();
  private final AtomicLong reportedTotal = new AtomicLong();
  private final AtomicLong heldBack = new AtomicLong();
  private final AtomicLong repaired = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private final AtomicLong fullScans = new AtomicLong();
  private final AtomicLong rowsRechecked = new AtomicLong();
  private final Duration fullScanEvery;
  private final PipelineMarks marks;
  private final AtomicLong lagAlerts = new AtomicLong();
  private PipelineMarks.Pending behind;
  private volatile long behindMillis;
  private final Map<TableMapping, TableState> states = new HashMap<>();
  private long lastFullScan;
  private volatile long outstanding;
  private volatile long lastRoundMillis;
  private volatile long lastRoundEnd;
  private ScheduledExecutorService schedule;

  private ContinuousValidator(Builder builder) {
    this.validator = builder.validator;
    this.tables = List.copyOf(builder.tables);
    this.consistency = builder.consistency;
    this.toleranceMillis = builder.tolerance.toMillis();
    this.interval = builder.interval;
    this.clock = builder.clock;
    if (builder.listener != null) {
      listeners.add(builder.listener);
    }
    this.audit = builder.audit;
    this.repairer = builder.repairer;
    this.authority = builder.authority;
    this.fullScanEvery = builder.fullScanEvery;
    this.marks = builder.marks;
  }

  /**
   * Starts building continuous validation.
   *
   * @param validator validates the table pairs (this takes ownership and closes it).
   * @return a builder.
   */
  public static Builder builder(Validator validator) {
    return new Builder(validator);
  }

  /**
   * Starts the schedule: the first round runs after one interval.
   *
   * @return this.
   */
  public synchronized ContinuousValidator start() {
    if (schedule == null) {
      schedule = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "cutover-validation-" + validator.service());
        thread.setDaemon(true);
        return thread;
      });
      schedule.scheduleWithFixedDelay(this::scheduledRound, interval.toMillis(), interval.toMillis(),
          TimeUnit.MILLISECONDS);
    }
    return this;
  }

  private void scheduledRound() {
    try {
      runOnce("scheduled");
    } catch (Exception e) {
      LOG.warn("validation round of {} failed; the next runs in {}", validator.service(), interval, e);
    }
  }

  /**
   * Runs one round now.
   *
   * @param cause why (recorded in the audit log): {@code scheduled}, {@code on demand}, ...
   * @return the discrepancies reported after this round (newly or still).
   * @throws Exception if a database fails (the round is counted as failed).
   */
  public synchronized List<Discrepancy> runOnce(String cause) throws Exception {
    return run(cause, false);
  }

  /**
   * Runs one round now that scans the tables in full, even between the full scans of incremental validation
   * (an operator who suspects writes that bypassed capture).
   *
   * @param cause why (recorded in the audit log).
   * @return the discrepancies reported after this round.
   * @throws Exception if a database fails (the round is counted as failed).
   */
  public synchronized List<Discrepancy> runFullScan(String cause) throws Exception {
    return run(cause, true);
  }

  private List<Discrepancy> run(String cause, boolean forceFull) throws Exception {
    long started = System.nanoTime();
    try {
      Set<String> seenNow = new HashSet<>();
      boolean incremental = !forceFull && incrementalPossible();
      if (!incremental && fullScanEvery != null) {
        clock.resetChanged(); // what changes from now on is read again after this scan
      }
      long scanStart = System.currentTimeMillis();
      List<ValidationReport> reports = new ArrayList<>();
      for (TableMapping table : tables) {
        ValidationReport report = incremental ? recheck(table, scanStart) : fullScan(table, scanStart);
        rowsCompared.addAndGet(report.monolithRows() + report.serviceRows());
        reports.add(report);
      }
      // The barrier comes after every read: what a read saw was committed before the marks were written.
      boolean caughtUp = consistency == Consistency.STRICT || marks == null || caughtUp(cause);
      for (int t = 0; t < tables.size(); t++) {
        TableMapping table = tables.get(t);
        ValidationReport report = reports.get(t);
        long now = System.currentTimeMillis();
        List<Discrepancy> fresh = new ArrayList<>();
        int reportedHere = 0;
        for (Discrepancy d : report.discrepancies()) {
          String id = d.table() + " " + d.key();
          seenNow.add(id);
          long first = firstSeen.computeIfAbsent(id, k -> now);
          boolean report1;
          if (consistency == Consistency.STRICT) {
            report1 = true;
          } else if (marks != null) { // the pipeline caught up, and nothing passed it for this row since its read
            report1 = caughtUp && lastChange(table, d) < readMillis(table, id, scanStart);
          } else {
            report1 = now - first >= toleranceMillis && now - lastChange(table, d) >= toleranceMillis;
          }
          if (!report1) {
            heldBack.incrementAndGet();
            continue;
          }
          reportedHere++;
          Discrepancy before = reported.put(id, d);
          if (before == null || !before.equals(d)) {
            fresh.add(d);
          }
        }
        for (Discrepancy d : fresh) {
          reportedTotal.incrementAndGet();
          if (audit != null) {
            audit.append(new AuditEntry(System.currentTimeMillis() * 1_000L, AuditEntry.Kind.DISCREPANCY,
                validator.service(), d.table(), cause, d.describe()));
          }
          for (ValidationListener listener : listeners) {
            try {
              listener.onDiscrepancy(d);
            } catch (RuntimeException e) {
              LOG.warn("validation listener {} failed on {}", listener, d.describe(), e);
            }
          }
        }
        if (audit != null) {
          audit.append(new AuditEntry(report.startedMicros(), AuditEntry.Kind.VALIDATION, validator.service(),
              table.sourceTable(), cause, report.summary() + "; " + reportedHere + " reported, "
                  + (report.discrepancies().size() - reportedHere) + " held back as possibly in flight"));
        }
        for (ValidationListener listener : listeners) {
          try {
            listener.onValidated(report, reportedHere);
          } catch (RuntimeException e) {
            LOG.warn("validation listener {} failed after {}", listener, report.summary(), e);
          }
        }
        if (repairer != null && !fresh.isEmpty()) {
          repaired.addAndGet(repairer.repair(fresh, authority, "automatic repair").size());
        }
      }
      firstSeen.keySet().retainAll(seenNow);
      reported.keySet().retainAll(seenNow);
      outstanding = reported.size();
      rounds.incrementAndGet();
      if (!incremental) {
        fullScans.incrementAndGet();
        lastFullScan = System.currentTimeMillis();
      }
      return new ArrayList<>(reported.values());
    } catch (Exception | Error e) {
      failures.incrementAndGet();
      throw e;
    } finally {
      lastRoundMillis = (System.nanoTime() - started) / 1_000_000;
      lastRoundEnd = System.currentTimeMillis();
    }
  }

  /**
   * Writes marks on every captured side and waits up to the tolerance for them to pass the pipeline. When they do
   * not, the pipeline is behind by more than the tolerance: that is one alert of its own (raised once while it
   * lasts), and no row is reported this round.
   */
  private boolean caughtUp(String cause) throws Exception {
    PipelineMarks.Pending pending = marks.write();
    try {
      pending.passed().get(Math.max(1, toleranceMillis), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      long now = System.currentTimeMillis();
      if (behind == null) {
        behind = pending; // kept watched: when it passes, the lag it measured is known
        lagAlerts.incrementAndGet();
        String detail = "the pipeline is behind by more than the lag tolerance (" + toleranceMillis + " ms): marks "
            + "written " + (now - pending.writtenMillis()) + " ms ago have not passed it; no row is reported until "
            + "it catches up";
        LOG.warn("validation of {}: {}", validator.service(), detail);
        if (audit != null) {
          audit.append(new AuditEntry(now * 1_000L, AuditEntry.Kind.LAG, validator.service(), "", cause, detail));
        }
        for (ValidationListener listener : listeners) {
          try {
            listener.onLagExceedsTolerance(Duration.ofMillis(now - pending.writtenMillis()));
          } catch (RuntimeException failed) {
            LOG.warn("validation listener {} failed on the lag alert", listener, failed);
          }
        }
      } else {
        marks.forget(pending);
      }
      PipelineMarks.Pending oldest = behind.passed().isDone() ? pending : behind;
      behindMillis = now - oldest.writtenMillis();
      return false;
    }
    if (behind != null) {
      marks.forget(behind);
      String detail = "the pipeline caught up with the lag tolerance again: the first marks it was late with were "
          + "written " + (System.currentTimeMillis() - behind.writtenMillis()) + " ms ago";
      if (audit != null) {
        audit.append(new AuditEntry(System.currentTimeMillis() * 1_000L, AuditEntry.Kind.LAG, validator.service(),
            "", cause, detail));
      }
      behind = null;
    }
    behindMillis = 0;
    return true;
  }

  /** When the row of a discrepancy was last read (incremental rounds keep rows known to differ across rounds). */
  private long readMillis(TableMapping table, String id, long scanStart) {
    TableState state = states.get(table);
    if (state == null) {
      return scanStart;
    }
    Open open = state.open.get(id);
    return open == null ? scanStart : open.readMillis();
  }

  /** Incremental rounds: a difference tree per table pair and the rows known to differ. */
  private static final class TableState {
    MerkleTree difference;
    final Map<String, Open> open = new HashMap<>();
    boolean complete;
  }

  /** A row known to differ: its bucket, both sides' hashes (null: missing) and the discrepancy. */
  private record Open(long keyHash, long[] monolith, long[] service, Discrepancy discrepancy, long readMillis) {}

  private boolean incrementalPossible() {
    if (fullScanEvery == null || clock.overflowed()
        || System.currentTimeMillis() - lastFullScan >= fullScanEvery.toMillis()) {
      return false;
    }
    for (TableMapping table : tables) {
      TableState state = states.get(table);
      if (state == null || !state.complete) {
        return false;
      }
    }
    return true;
  }

  /** A full validation, which also reseeds the incremental state when there is one. */
  private ValidationReport fullScan(TableMapping table, long scanStart) throws Exception {
    Validator.Scan scan = validator.scan(table);
    if (fullScanEvery != null) {
      TableState state = new TableState();
      state.difference = scan.monolithTree().minus(scan.serviceTree());
      state.complete = !scan.report().truncated();
      for (Validator.Recheck r : validator.hashes(table, scan.report().discrepancies())) {
        state.open.put(r.discrepancy().table() + " " + r.key(), new Open(r.keyHash(), r.monolith(), r.service(),
            r.discrepancy(), scanStart));
      }
      states.put(table, state);
    }
    return scan.report();
  }

  /**
   * An incremental round: only rows that changed since the last round, and whose changes settled (older than
   * the tolerance at the eventual level), are read again on both sides; the difference tree (monolith minus
   * service) is updated with them, and must then differ exactly in the buckets of the rows known to differ.
   */
  private ValidationReport recheck(TableMapping table, long scanStart) throws Exception {
    long started = System.currentTimeMillis() * 1_000L;
    long t0 = System.nanoTime();
    long quietSince = consistency == Consistency.STRICT ? Long.MAX_VALUE : System.currentTimeMillis()
        - toleranceMillis;
    java.util.Set<Row> keys = new java.util.LinkedHashSet<>();
    for (Row key : clock.drainChanged(false, table.sourceTable(), quietSince)) {
      keys.add(toService(table, key));
    }
    keys.addAll(clock.drainChanged(true, table.targetTable(), quietSince));
    TableState state = states.get(table);
    long monolithRows = 0;
    long serviceRows = 0;
    if (!keys.isEmpty()) {
      for (Validator.Recheck r : validator.recheck(table, keys)) {
        String id = table.sourceTable() + " " + r.key();
        Open before = state.open.remove(id);
        if (before != null) { // take its old difference out; a row not known to differ contributed nothing
          add(state.difference, before.keyHash(), before.service());
          remove(state.difference, before.keyHash(), before.monolith());
        }
        add(state.difference, r.keyHash(), r.monolith());
        remove(state.difference, r.keyHash(), r.service());
        monolithRows += r.monolith() == null ? 0 : 1;
        serviceRows += r.service() == null ? 0 : 1;
        if (r.discrepancy() != null) {
          state.open.put(id, new Open(r.keyHash(), r.monolith(), r.service(), r.discrepancy(), scanStart));
        }
      }
      rowsRechecked.addAndGet(keys.size());
    }
    java.util.Set<Integer> expected = new java.util.TreeSet<>();
    state.open.values().forEach(o -> expected.add(state.difference.leaf(o.keyHash())));
    java.util.Set<Integer> actual = new java.util.TreeSet<>();
    for (int leaf : state.difference.differingLeaves(new MerkleTree(state.difference.depth()))) {
      actual.add(leaf);
    }
    if (!expected.equals(actual)) {
      state.complete = false;
      LOG.warn("validation of {} with {}: the difference tree disagrees with the rows known to differ ({} buckets "
          + "against {}); the next round scans in full", table.sourceTable(), validator.service(), actual.size(),
          expected.size());
    }
    List<Discrepancy> open = state.open.values().stream().map(Open::discrepancy).toList();
    return new ValidationReport(validator.service(), table.sourceTable(), table.targetTable(), monolithRows,
        serviceRows, actual.size(), open.size(), open, started, java.time.Duration.ofNanos(System.nanoTime() - t0));
  }

  private static void add(MerkleTree tree, long keyHash, long[] hash) {
    if (hash != null) {
      tree.add(keyHash, hash[0], hash[1]);
    }
  }

  private static void remove(MerkleTree tree, long keyHash, long[] hash) {
    if (hash != null) {
      tree.remove(keyHash, hash[0], hash[1]);
    }
  }

  /** A monolith key renamed to the service's column names. */
  private static Row toService(TableMapping table, Row key) {
    if (table.columns().isEmpty()) {
      return key;
    }
    Row.Builder out = Row.builder();
    key.columns().forEach((column, value) -> {
      String target = table.targetColumn(column);
      out.put(target == null ? column : target.toLowerCase(java.util.Locale.ROOT), value);
    });
    return out.build();
  }

  private long lastChange(TableMapping table, Discrepancy d) {
    if (clock == null) {
      return 0;
    }
    return Math.max(clock.lastChangeMillis(table.sourceTable(), Repairer.toMonolith(table, d.key())),
        clock.lastChangeMillis(table.targetTable(), d.key()));
  }

  /**
   * Adds a listener (for example a gRPC stream that watches alerts).
   *
   * @param listener the listener.
   */
  public void addListener(ValidationListener listener) {
    listeners.add(java.util.Objects.requireNonNull(listener, "listener"));
  }

  /**
   * Removes a listener added before.
   *
   * @param listener the listener.
   */
  public void removeListener(ValidationListener listener) {
    listeners.remove(listener);
  }

  /**
   * The discrepancies currently reported (as of the last round).
   *
   * @return a snapshot.
   */
  public synchronized List<Discrepancy> outstanding() {
    return new ArrayList<>(reported.values());
  }

  /**
   * Counters since start.
   *
   * @return a snapshot.
   */
  public ValidationStats stats() {
    return new ValidationStats(rounds.get(), rowsCompared.get(), reportedTotal.get(), heldBack.get(),
        repaired.get(), outstanding, failures.get(), lastRoundMillis, lastRoundEnd, fullScans.get(),
        rowsRechecked.get(), lagAlerts.get(), behindMillis);
  }

  /**
   * The validator used.
   *
   * @return the validator.
   */
  public Validator validator() {
    return validator;
  }

  /**
   * The table pairs validated.
   *
   * @return the mappings.
   */
  public List<TableMapping> tables() {
    return tables;
  }

  /** Stops the schedule (a round under way finishes) and closes the validator. */
  @Override
  public void close() {
    ScheduledExecutorService s;
    synchronized (this) {
      s = schedule;
      schedule = null;
    }
    if (s != null) {
      s.shutdown();
      try {
        s.awaitTermination(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    validator.close();
  }

  /** Builds a {@link ContinuousValidator}. Not thread-safe. */
  public static final class Builder {
    private final Validator validator;
    private final List<TableMapping> tables = new ArrayList<>();
    private Consistency consistency = Consistency.EVENTUAL;
    private Duration tolerance = Duration.ofSeconds(30);
    private Duration interval = Duration.ofMinutes(1);
    private ChangeClock clock;
    private ValidationListener listener;
    private AuditLog audit;
    private Repairer repairer;
    private Authority authority;
    private Duration fullScanEvery;
    private PipelineMarks marks;

    private Builder(Validator validator) {
      this.validator = Objects.requireNonNull(validator, "validator");
    }

    /**
     * Adds table pairs to validate.
     *
     * @param mappings how the monolith's tables land in the service.
     * @return this builder.
     */
    public Builder table(TableMapping... mappings) {
      tables.addAll(List.of(mappings));
      return this;
    }

    /**
     * The consistency level (default eventual).
     *
     * @param value the level.
     * @return this builder.
     */
    public Builder consistency(Consistency value) {
      consistency = Objects.requireNonNull(value, "consistency");
      return this;
    }

    /**
     * The lag tolerance of the eventual level (default 30 s).
     *
     * @param value zero or more.
     * @return this builder.
     */
    public Builder tolerance(Duration value) {
      if (value.isNegative()) {
        throw new IllegalArgumentException("validation lag tolerance must not be negative, was " + value);
      }
      tolerance = value;
      return this;
    }

    /**
     * The time between rounds (default 1 min).
     *
     * @param value at least 1 ms.
     * @return this builder.
     */
    public Builder interval(Duration value) {
      if (value.toMillis() < 1) {
        throw new IllegalArgumentException("validation interval must be at least 1 ms, was " + value);
      }
      interval = value;
      return this;
    }

    /**
     * The checksum stage's clock (rows with recent changes are held back at the eventual level).
     *
     * @param value the clock; without one only the persistence of a discrepancy is checked.
     * @return this builder.
     */
    public Builder clock(ChangeClock value) {
      clock = value;
      return this;
    }

    /**
     * Makes validation incremental: a full scan at most this often (and whenever the change clock overflowed),
     * and between full scans only the rows that changed are read again, on both sides, to keep a difference tree
     * up to date. Needs a clock built with {@link ChangeClock#trackingKeys}. A write that bypasses capture is
     * seen by the next full scan only.
     *
     * @param value the longest time between full scans.
     * @return this builder.
     */
    public Builder fullScanEvery(Duration value) {
      if (value.toMillis() < 1) {
        throw new IllegalArgumentException("full scan interval must be at least 1 ms, was " + value);
      }
      fullScanEvery = value;
      return this;
    }

    /**
     * Makes the eventual level exact under any lag: after each round's reads, marks are written on every captured
     * side, and a difference is reported only once they have passed the pipeline (every change committed before
     * them has been applied) and no change to the row has passed since the row was read. When the marks take
     * longer than the tolerance, the round reports the lag (one alert while it lasts) instead of rows. Without
     * marks, a difference is reported once it has persisted, and its row been quiet, for the tolerance.
     *
     * @param value the barrier (its clock must be this validator's clock).
     * @return this builder.
     */
    public Builder marks(PipelineMarks value) {
      marks = value;
      return this;
    }

    /**
     * Where alerts go.
     *
     * @param value the listener.
     * @return this builder.
     */
    public Builder listener(ValidationListener value) {
      listener = value;
      return this;
    }

    /**
     * Where runs and discrepancies are recorded.
     *
     * @param value the audit log (not closed by the validator).
     * @return this builder.
     */
    public Builder audit(AuditLog value) {
      audit = value;
      return this;
    }

    /**
     * Repairs reported discrepancies automatically.
     *
     * @param value the repairer.
     * @param winner who wins.
     * @return this builder.
     */
    public Builder autoRepair(Repairer value, Authority winner) {
      repairer = Objects.requireNonNull(value, "repairer");
      authority = Objects.requireNonNull(winner, "repair authority");
      return this;
    }

    /**
     * Builds it (not started).
     *
     * @return the continuous validator.
     * @throws IllegalArgumentException if no table is given.
     */
    public ContinuousValidator build() {
      if (tables.isEmpty()) {
        throw new IllegalArgumentException("continuous validation needs at least one table");
      }
      if (fullScanEvery != null && (clock == null || !clock.tracksKeys())) {
        throw new IllegalArgumentException("incremental validation (fullScanEvery) needs a change clock that "
            + "tracks keys: ChangeClock.trackingKeys(...)");
      }
      if (marks != null && clock == null) {
        throw new IllegalArgumentException("pipeline marks need the change clock that sees them pass: clock(...)");
      }
      return new ContinuousValidator(this);
    }
  }
}
