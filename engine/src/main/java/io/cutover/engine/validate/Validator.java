package io.cutover.engine.validate;

import io.cutover.engine.apply.TableMapping;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Value;
import io.cutover.engine.validate.internal.MerkleTree;
import io.cutover.engine.validate.internal.RowHasher;
import io.cutover.engine.validate.internal.TableReader;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.sql.DataSource;

/**
 * Full validation of table pairs: streams both tables at once with server-side cursors, builds a
 * {@link MerkleTree} per side over the primary-key space (rows hashed in the service's representation with
 * canonical encodings), compares the trees from the root down, and reads only the rows of differing leaves to
 * classify every discrepancy exactly. Memory is constant in the table's size: two trees, plus the keys of at most
 * {@link Builder#batchRows} rows of differing leaves at a time.
 *
 * <pre>{@code
 * try (Validator validator = Validator.builder("orders", monolithDs, serviceDs).build()) {
 *   ValidationReport report = validator.validate(TableMapping.identity("orders"));
 *   report.discrepancies().forEach(d -> System.out.println(d.describe()));
 * }
 * }</pre>
 *
 * <p>A run reads each side as of its own moment: rows changing meanwhile may show as discrepancies. For a live
 * migration use {@link ContinuousValidator}, which holds those back. Thread-safe; runs are serialised.
 */
public final class Validator implements AutoCloseable {
  /** Default tree depth: 16,384 leaves, about 60 rows per leaf at a million rows. */
  public static final int DEFAULT_DEPTH = 14;
  private final String service;
  private final DataSource monolith;
  private final DataSource serviceDb;
  private final int depth;
  private final int fetchSize;
  private final int reportLimit;
  private final int batchRows;
  private final ValidationProgress progress;
  private final ExecutorService scans;

  private Validator(Builder builder) {
    this.service = builder.service;
    this.monolith = builder.monolith;
    this.serviceDb = builder.serviceDb;
    this.depth = builder.depth;
    this.fetchSize = builder.fetchSize;
    this.reportLimit = builder.reportLimit;
    this.batchRows = builder.batchRows;
    this.progress = builder.progress;
    this.scans = Executors.newFixedThreadPool(2, r -> {
      Thread thread = new Thread(r, "cutover-validate-" + service);
      thread.setDaemon(true);
      return thread;
    });
  }

  /**
   * Starts building a validator.
   *
   * @param service the service's name (for reports).
   * @param monolith the monolith's database.
   * @param serviceDb the service's database.
   * @return a builder.
   */
  public static Builder builder(String service, DataSource monolith, DataSource serviceDb) {
    return new Builder(service, monolith, serviceDb);
  }

  /**
   * The service validated.
   *
   * @return its name.
   */
  public String service() {
    return service;
  }

  /**
   * Validates one table pair.
   *
   * @param mapping how the monolith's table lands in the service.
   * @return the report.
   * @throws IllegalArgumentException naming the table or column when a table is missing, has no primary key or
   *     its key is not mapped.
   * @throws Exception if a database fails.
   */
  public ValidationReport validate(TableMapping mapping) throws Exception {
    return scan(mapping).report();
  }

  /** A full validation's report and the two trees it built. */
  record Scan(ValidationReport report, MerkleTree monolithTree, MerkleTree serviceTree) {}

  /** One key read again: its bucket, each side's row hash (null when the row is missing) and the discrepancy. */
  record Recheck(Row key, long keyHash, long[] monolith, long[] service, Discrepancy discrepancy) {}

  /** Full validation, keeping the trees. */
  synchronized Scan scan(TableMapping mapping) throws Exception {
    long started = System.currentTimeMillis() * 1_000L;
    long t0 = System.nanoTime();
    Plan plan = Plan.of(mapping, monolith, serviceDb);
    MerkleTree monolithTree = new MerkleTree(depth);
    MerkleTree serviceTree = new MerkleTree(depth);
    TreeSink serviceSink = new TreeSink(plan, false, serviceTree);
    TreeSink monolithSink = new TreeSink(plan, true, monolithTree);
    Future<Long> serviceScan = scans.submit(() -> TableReader.scan(serviceDb, mapping.targetTable(),
        plan.serviceRead, fetchSize, serviceSink));
    Future<Long> monolithScan = scans.submit(() -> TableReader.scan(monolith, mapping.sourceTable(),
        plan.monolithRead, fetchSize, monolithSink));
    if (progress != null) {
      long estimate = Math.max(io.cutover.engine.db.DataSources.estimateRows(monolith, mapping.sourceTable()),
          io.cutover.engine.db.DataSources.estimateRows(serviceDb, mapping.targetTable()));
      while (!serviceScan.isDone() || !monolithScan.isDone()) {
        try {
          (serviceScan.isDone() ? monolithScan : serviceScan).get(250, java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException | ExecutionException stillRunningOrFailed) {
          if (!(stillRunningOrFailed instanceof java.util.concurrent.TimeoutException)) {
            break; // the failure is rethrown by await below
          }
          progress.scanned(mapping.sourceTable(), monolithSink.rows, serviceSink.rows, estimate, false);
        }
      }
      await(serviceScan);
      await(monolithScan);
      progress.scanned(mapping.sourceTable(), monolithSink.rows, serviceSink.rows, estimate, true);
    }
    await(serviceScan);
    await(monolithScan);
    int[] leaves = monolithTree.differingLeaves(serviceTree);
    List<Discrepancy> found = new ArrayList<>();
    long[] byKind = new long[Discrepancy.Kind.values().length];
    long count = 0;
    int from = 0;
    while (from < leaves.length) {
      BitSet batch = new BitSet(1 << depth);
      long rows = 0;
      int to = from;
      while (to < leaves.length && (to == from || rows + weight(monolithTree, serviceTree, leaves[to]) <= batchRows)) {
        rows += weight(monolithTree, serviceTree, leaves[to]);
        batch.set(leaves[to++]);
      }
      count += classify(plan, monolithTree, batch, found, byKind);
      from = to;
    }
    return new Scan(new ValidationReport(service, mapping.sourceTable(), mapping.targetTable(), monolithTree.rows(),
        serviceTree.rows(), leaves.length, count, found, started, Duration.ofNanos(System.nanoTime() - t0),
        ValidationReport.counts(byKind)), monolithTree, serviceTree);
  }

  /**
   * Reads given rows again on both sides (by key, in batches) and compares them: the incremental check of rows
   * that changed since the last full validation.
   *
   * @param mapping the table pair.
   * @param keys the keys, in the service's column names.
   * @return one result per key.
   * @throws Exception if a database fails.
   */
  synchronized List<Recheck> recheck(TableMapping mapping, java.util.Collection<Row> keys) throws Exception {
    Plan plan = Plan.of(mapping, monolith, serviceDb);
    List<Value[]> values = new ArrayList<>();
    for (Row key : keys) {
      Value[] v = new Value[plan.serviceKeys.size()];
      for (int i = 0; i < v.length; i++) {
        v[i] = key.get(plan.serviceKeys.get(i));
        if (v[i] == null) {
          throw new IllegalArgumentException("key " + key + " of " + mapping.targetTable() + " lacks column "
              + plan.serviceKeys.get(i));
        }
      }
      values.add(v);
    }
    Future<Map<ByteBuffer, Row>> serviceRows = scans.submit(() -> rows(plan, false, values));
    Map<ByteBuffer, Row> monolithRows = rows(plan, true, values);
    Map<ByteBuffer, Row> onService = await(serviceRows);
    RowHasher hasher = new RowHasher();
    List<Recheck> out = new ArrayList<>();
    for (Value[] v : values) {
      List<Value> key = List.of(v);
      ByteBuffer id = plan.keyBytes(key);
      Row mono = monolithRows.get(id);
      Row serv = onService.get(id);
      long keyHash = hasher.keyHash(key);
      long[] m = mono == null ? null : new long[] {hasher.hash(plan.serviceRead, mono), hasher.laneB()};
      long[] s = serv == null ? null : new long[] {hasher.hash(plan.serviceRead, serv), hasher.laneB()};
      Discrepancy d = null;
      if (mono == null && serv != null) {
        d = new Discrepancy(mapping.sourceTable(), Discrepancy.Kind.MISSING_ON_MONOLITH, plan.key(serv), null, serv,
            List.of());
      } else if (mono != null && serv == null) {
        d = new Discrepancy(mapping.sourceTable(), Discrepancy.Kind.MISSING_ON_SERVICE, plan.key(mono), mono, null,
            List.of());
      } else if (mono != null) {
        List<String> differing = new ArrayList<>();
        for (String column : plan.serviceRead) {
          if (!hasher.same(mono.get(column), serv.get(column))) {
            differing.add(column);
          }
        }
        if (!differing.isEmpty()) {
          d = new Discrepancy(mapping.sourceTable(), Discrepancy.Kind.COLUMNS_DIFFER, plan.key(mono), mono, serv,
              differing);
        }
      }
      out.add(new Recheck(plan.key(mono != null ? mono : serv != null ? serv : keyRow(plan, v)), keyHash, m, s, d));
    }
    return out;
  }

  private static Row keyRow(Plan plan, Value[] values) {
    Row.Builder key = Row.builder();
    for (int i = 0; i < values.length; i++) {
      key.put(plan.serviceKeys.get(i), values[i]);
    }
    return key.build();
  }

  /**
   * The bucket and both rows' hash lanes of discrepancies, as {@link #recheck} computes them (the catalog is read
   * once for all of them).
   *
   * @param mapping the table pair.
   * @param discrepancies discrepancies of that pair.
   * @return one result per discrepancy, in order; a missing row has null lanes.
   * @throws Exception if the catalog cannot be read.
   */
  List<Recheck> hashes(TableMapping mapping, List<Discrepancy> discrepancies) throws Exception {
    Plan plan = Plan.of(mapping, monolith, serviceDb);
    RowHasher hasher = new RowHasher();
    List<Recheck> out = new ArrayList<>(discrepancies.size());
    for (Discrepancy d : discrepancies) {
      long[] m = d.monolith() == null ? null : new long[] {hasher.hash(plan.serviceRead, d.monolith()),
          hasher.laneB()};
      long[] s = d.service() == null ? null : new long[] {hasher.hash(plan.serviceRead, d.service()),
          hasher.laneB()};
      out.add(new Recheck(d.key(), hasher.keyHash(plan.keyValues(d.key())), m, s, d));
    }
    return out;
  }

  /**
   * The trees' depth.
   *
   * @return the depth.
   */
  int depth() {
    return depth;
  }

  private static long weight(MerkleTree a, MerkleTree b, int leaf) {
    return Math.max(a.count(leaf), b.count(leaf));
  }

  /** Reads the keys of a batch of differing leaves on both sides, then the rows that differ; returns how many. */
  private long classify(Plan plan, MerkleTree tree, BitSet batch, List<Discrepancy> found, long[] byKind)
      throws Exception {
    Future<Map<ByteBuffer, Value[]>> serviceKeys = scans.submit(() -> keys(plan, false, tree, batch));
    Map<ByteBuffer, Value[]> monolithKeys = keys(plan, true, tree, batch);
    Map<ByteBuffer, Value[]> onService = await(serviceKeys);
    Map<ByteBuffer, Row> monolithRows = rows(plan, true, new ArrayList<>(monolithKeys.values()));
    Set<ByteBuffer> both = new HashSet<>(monolithKeys.keySet());
    both.retainAll(onService.keySet());
    List<Value[]> serviceFetch = new ArrayList<>();
    onService.forEach((key, values) -> serviceFetch.add(values));
    Map<ByteBuffer, Row> serviceRows = rows(plan, false, serviceFetch);
    RowHasher hasher = new RowHasher();
    long count = 0;
    for (Map.Entry<ByteBuffer, Row> entry : monolithRows.entrySet()) {
      Row mono = entry.getValue();
      Row serv = serviceRows.get(entry.getKey());
      Discrepancy discrepancy;
      if (serv == null) {
        discrepancy = new Discrepancy(plan.mapping.sourceTable(), Discrepancy.Kind.MISSING_ON_SERVICE,
            plan.key(mono), mono, null, List.of());
      } else {
        List<String> differing = new ArrayList<>();
        for (String column : plan.serviceRead) {
          if (!hasher.same(mono.get(column), serv.get(column))) {
            differing.add(column);
          }
        }
        discrepancy = differing.isEmpty() ? null : new Discrepancy(plan.mapping.sourceTable(),
            Discrepancy.Kind.COLUMNS_DIFFER, plan.key(mono), mono, serv, differing);
      }
      if (discrepancy != null) {
        count++;
        byKind[discrepancy.kind().ordinal()]++;
        if (found.size() < reportLimit) {
          found.add(discrepancy);
        }
      }
    }
    for (Map.Entry<ByteBuffer, Row> entry : serviceRows.entrySet()) {
      if (!monolithRows.containsKey(entry.getKey())) {
        count++;
        byKind[Discrepancy.Kind.MISSING_ON_MONOLITH.ordinal()]++;
        if (found.size() < reportLimit) {
          found.add(new Discrepancy(plan.mapping.sourceTable(), Discrepancy.Kind.MISSING_ON_MONOLITH,
              plan.key(entry.getValue()), null, entry.getValue(), List.of()));
        }
      }
    }
    return count;
  }

  /** The keys (canonical bytes to values, in the side's own key order) of a side's rows in the batch's leaves. */
  private Map<ByteBuffer, Value[]> keys(Plan plan, boolean onMonolith, MerkleTree tree, BitSet batch)
      throws Exception {
    Map<ByteBuffer, Value[]> out = new HashMap<>();
    RowHasher hasher = new RowHasher();
    List<String> read = onMonolith ? plan.monolithKeyRead : plan.serviceKeys;
    int keyColumns = plan.serviceKeys.size();
    TableReader.scan(onMonolith ? monolith : serviceDb, onMonolith ? plan.mapping.sourceTable()
        : plan.mapping.targetTable(), read, fetchSize, values -> {
          if (onMonolith && !plan.accepts(values, plan.monolithKeyRead)) {
            return;
          }
          List<Value> key = List.of(values).subList(0, keyColumns);
          long hash = hasher.keyHash(key);
          if (batch.get(tree.leaf(hash))) {
            out.put(plan.keyBytes(key), java.util.Arrays.copyOf(values, keyColumns));
          }
        });
    return out;
  }

  /** The rows with the given keys, mapped, by canonical key. */
  private Map<ByteBuffer, Row> rows(Plan plan, boolean onMonolith, List<Value[]> keys) throws Exception {
    Map<ByteBuffer, Row> out = new LinkedHashMap<>();
    if (keys.isEmpty()) {
      return out;
    }
    TableReader.fetch(onMonolith ? monolith : serviceDb, onMonolith ? plan.mapping.sourceTable()
        : plan.mapping.targetTable(), onMonolith ? plan.monolithRead : plan.serviceRead,
        onMonolith ? plan.monolithKeys : plan.serviceKeys, keys, values -> {
          if (onMonolith && !plan.accepts(values, plan.monolithRead)) {
            return;
          }
          Row row = plan.row(values);
          out.put(plan.keyBytes(plan.keyValues(row)), row);
        });
    return out;
  }

  private static <T> T await(Future<T> future) throws Exception {
    try {
      return future.get();
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
  }

  /** Stops the scan threads. */
  @Override
  public void close() {
    scans.shutdownNow();
  }

  /** Hashes streamed rows into a tree. */
  private static final class TreeSink implements TableReader.RowSink {
    private final Plan plan;
    private final boolean onMonolith;
    private final MerkleTree tree;
    private final RowHasher hasher = new RowHasher();
    /** Rows read so far; written by the scan thread, read by progress reports (a stale value is fine). */
    volatile long rows;

    TreeSink(Plan plan, boolean onMonolith, MerkleTree tree) {
      this.plan = plan;
      this.onMonolith = onMonolith;
      this.tree = tree;
    }

    @Override
    public void accept(Value[] values) {
      rows++; // one writer
      if (onMonolith && !plan.accepts(values, plan.monolithRead)) {
        return;
      }
      Row row = plan.row(values);
      long a = hasher.hash(plan.serviceRead, row);
      long b = hasher.laneB();
      tree.add(hasher.keyHash(plan.keyValues(row)), a, b);
    }
  }

  /**
   * What to read and compare for one mapping: the columns both sides hold (service names, sorted), which
   * monolith columns they come from, the key, and the filter's columns.
   */
  static final class Plan {
    final TableMapping mapping;
    /** Compared columns, service names, sorted; the service reads these. */
    final List<String> serviceRead;
    /** The monolith reads these: the compared columns (monolith names, same order), then filter-only columns. */
    final List<String> monolithRead;
    final List<String> serviceKeys;
    final List<String> monolithKeys;
    /** Key scan on the monolith: key columns (monolith names), then filter columns. */
    final List<String> monolithKeyRead;
    private final int[] keyIndex;
    private final RowHasher keyEncoder = new RowHasher();

    private Plan(TableMapping mapping, List<String> serviceRead, List<String> monolithRead, List<String> serviceKeys,
        List<String> monolithKeys, List<String> monolithKeyRead) {
      this.mapping = mapping;
      this.serviceRead = serviceRead;
      this.monolithRead = monolithRead;
      this.serviceKeys = serviceKeys;
      this.monolithKeys = monolithKeys;
      this.monolithKeyRead = monolithKeyRead;
      keyIndex = serviceKeys.stream().mapToInt(serviceRead::indexOf).toArray();
    }

    static Plan of(TableMapping mapping, DataSource monolith, DataSource service) throws Exception {
      List<String> monolithColumns = TableReader.columns(monolith, mapping.sourceTable());
      List<String> serviceColumns = TableReader.columns(service, mapping.targetTable());
      Map<String, String> toMonolith = new java.util.TreeMap<>();
      for (String column : monolithColumns) {
        String target = mapping.targetColumn(column);
        if (target != null && serviceColumns.contains(target.toLowerCase(java.util.Locale.ROOT))) {
          toMonolith.put(target.toLowerCase(java.util.Locale.ROOT), column);
        }
      }
      List<String> serviceKeys = TableReader.primaryKey(service, mapping.targetTable());
      if (serviceKeys.isEmpty()) {
        List<String> monolithKeys = TableReader.primaryKey(monolith, mapping.sourceTable());
        serviceKeys = new ArrayList<>();
        for (String column : monolithKeys) {
          String target = mapping.targetColumn(column);
          serviceKeys.add(target == null ? column : target.toLowerCase(java.util.Locale.ROOT));
        }
      }
      if (serviceKeys.isEmpty()) {
        throw new IllegalArgumentException("table " + mapping.targetTable() + " has no primary key on either side; "
            + "validation compares rows by key");
      }
      List<String> monolithKeys = new ArrayList<>();
      for (String key : serviceKeys) {
        String source = toMonolith.get(key);
        if (source == null) {
          throw new IllegalArgumentException("key column " + key + " of " + mapping.targetTable()
              + " is not mapped from a column of the monolith's " + mapping.sourceTable());
        }
        monolithKeys.add(source);
      }
      List<String> serviceRead = new ArrayList<>(toMonolith.keySet());
      List<String> monolithRead = new ArrayList<>(toMonolith.values());
      List<String> monolithKeyRead = new ArrayList<>(monolithKeys);
      for (String column : mapping.filter().keySet()) {
        String lower = column.toLowerCase(java.util.Locale.ROOT);
        if (!monolithColumns.contains(lower)) {
          throw new IllegalArgumentException("filter column " + column + " is not a column of the monolith's "
              + mapping.sourceTable());
        }
        if (!monolithRead.contains(lower)) {
          monolithRead.add(lower);
        }
        if (!monolithKeyRead.contains(lower)) {
          monolithKeyRead.add(lower);
        }
      }
      return new Plan(mapping, List.copyOf(serviceRead), List.copyOf(monolithRead), List.copyOf(serviceKeys),
          List.copyOf(monolithKeys), List.copyOf(monolithKeyRead));
    }

    /** Whether the mapping's filter takes a monolith row read with the given columns. */
    boolean accepts(Value[] values, List<String> read) {
      if (mapping.filter().isEmpty()) {
        return true;
      }
      Row.Builder row = Row.builder();
      for (String column : mapping.filter().keySet()) {
        String lower = column.toLowerCase(java.util.Locale.ROOT);
        row.put(column, values[read.indexOf(lower)]);
      }
      return mapping.accepts(row.build());
    }

    /** A read row (compared columns first) in service names. */
    Row row(Value[] values) {
      Row.Builder row = Row.builder();
      for (int i = 0; i < serviceRead.size(); i++) {
        row.put(serviceRead.get(i), values[i]);
      }
      return row.build();
    }

    List<Value> keyValues(Row row) {
      List<Value> key = new ArrayList<>(keyIndex.length);
      for (String column : serviceKeys) {
        key.add(row.get(column));
      }
      return key;
    }

    Row key(Row row) {
      Row.Builder key = Row.builder();
      for (String column : serviceKeys) {
        key.put(column, row.get(column));
      }
      return key.build();
    }

    synchronized ByteBuffer keyBytes(List<Value> key) {
      return ByteBuffer.wrap(keyEncoder.keyBytes(key));
    }
  }

  /** Builds a {@link Validator}. Not thread-safe. */
  public static final class Builder {
    private final String service;
    private final DataSource monolith;
    private final DataSource serviceDb;
    private int depth = DEFAULT_DEPTH;
    private int fetchSize = TableReader.DEFAULT_FETCH_SIZE;
    private int reportLimit = 10_000;
    private int batchRows = 200_000;
    private ValidationProgress progress;

    private Builder(String service, DataSource monolith, DataSource serviceDb) {
      this.service = Objects.requireNonNull(service, "service");
      this.monolith = Objects.requireNonNull(monolith, "monolith data source");
      this.serviceDb = Objects.requireNonNull(serviceDb, "service data source");
    }

    /**
     * The trees' depth: {@code 2^depth} leaves. Deeper trees read fewer rows per differing leaf, at 32 bytes of
     * memory per leaf and tree.
     *
     * @param value 1 to 24 (default 14).
     * @return this builder.
     */
    public Builder depth(int value) {
      if (value < 1 || value > MerkleTree.MAX_DEPTH) {
        throw new IllegalArgumentException("validation tree depth must be 1 to " + MerkleTree.MAX_DEPTH + ", was "
            + value);
      }
      depth = value;
      return this;
    }

    /**
     * Rows per round trip while streaming.
     *
     * @param value at least 1 (default 5,000).
     * @return this builder.
     */
    public Builder fetchSize(int value) {
      if (value < 1) {
        throw new IllegalArgumentException("validation fetch size must be at least 1, was " + value);
      }
      fetchSize = value;
      return this;
    }

    /**
     * The most discrepancies a report lists (all are counted).
     *
     * @param value at least 0 (default 10,000).
     * @return this builder.
     */
    public Builder reportLimit(int value) {
      if (value < 0) {
        throw new IllegalArgumentException("validation report limit must be at least 0, was " + value);
      }
      reportLimit = value;
      return this;
    }

    /**
     * The most rows of differing leaves whose keys are held at once (more are handled in several passes).
     *
     * @param value at least 1 (default 200,000).
     * @return this builder.
     */
    public Builder batchRows(int value) {
      if (value < 1) {
        throw new IllegalArgumentException("validation batch rows must be at least 1, was " + value);
      }
      batchRows = value;
      return this;
    }

    /**
     * Reports full scans' progress (none by default).
     *
     * @param listener told every 250 ms or so, and when both sides are read; null for none.
     * @return this builder.
     */
    public Builder progress(ValidationProgress listener) {
      this.progress = listener;
      return this;
    }

    /**
     * Builds the validator.
     *
     * @return the validator; close it to stop its threads.
     */
    public Validator build() {
      return new Validator(this);
    }
  }
}
