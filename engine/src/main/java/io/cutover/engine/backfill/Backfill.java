package io.cutover.engine.backfill;

import io.cutover.engine.analysis.Schema;
import io.cutover.engine.backfill.internal.WatermarkPipeline;
import io.cutover.engine.backfill.internal.WatermarkWindow;
import io.cutover.engine.db.DataSources;
import io.cutover.engine.db.Dialect;
import io.cutover.engine.db.JdbcValues;
import io.cutover.engine.db.RowReader;
import io.cutover.engine.event.ChangeEventProtos;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import io.cutover.engine.event.Value;
import io.cutover.engine.pipeline.Pipeline;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import javax.sql.DataSource;

/**
 * Copies tables' existing rows into a running capture's change stream, online, with DBLog's watermarks. For each
 * chunk of {@code chunkSize} rows in key order: write a low watermark to the source, select the chunk, write a
 * high watermark; as the capture streams by, changes to the chunk's rows between the two watermarks win, and at
 * the high watermark the chunk's other rows are published as snapshot reads. No row is lost (every row is in a
 * chunk or changed after its chunk's low watermark) and none is overwritten by an older value.
 *
 * <p>Progress is recorded in the source ({@code cutover_backfill}) after each chunk's rows are durable in the
 * journal, so a restart resumes after the last chunk done; re-copying a chunk is harmless, since apply upserts.
 *
 * <pre>{@code
 * Backfill backfill = Backfill.builder(Side.MONOLITH, monolith).tables("orders").build();
 * backfill.install();                                    // before the capture's install: it captures the marks
 * TriggerCapture capture = TriggerCapture.builder(Side.MONOLITH, monolith)
 *     .tables("orders", Backfill.WATERMARK_TABLE).build();
 * capture.install();
 * capture.start(backfill.watermarked(pipeline));
 * backfill.run();                                        // returns when every table is copied
 * }</pre>
 *
 * Not thread-safe: one thread runs it.
 */
public final class Backfill {
  /** The table the watermarks are written to; the capture must capture it. */
  public static final String WATERMARK_TABLE = WatermarkPipeline.WATERMARK_TABLE;
  /** The table that records each table's progress, on the source. */
  public static final String PROGRESS_TABLE = "cutover_backfill";
  private final Side side;
  private final DataSource source;
  private final List<String> tables;
  private final int chunkSize;
  private final Duration chunkTimeout;
  private final Consumer<BackfillProgress> listener;
  private final Map<String, BackfillProgress> progress = new LinkedHashMap<>();
  private WatermarkPipeline watermarked;

  private Backfill(Builder b) {
    this.side = b.side;
    this.source = b.source;
    this.tables = List.copyOf(b.tables);
    this.chunkSize = b.chunkSize;
    this.chunkTimeout = b.chunkTimeout;
    this.listener = b.listener;
  }

  /**
   * Starts building a backfill.
   *
   * @param side the side the rows come from (as its capture names it).
   * @param source its database.
   * @return a builder.
   */
  public static Builder builder(Side side, DataSource source) {
    return new Builder(side, source);
  }

  /**
   * Creates the watermark and progress tables if they do not exist (idempotent).
   *
   * @throws SQLException if they cannot be created.
   */
  public void install() throws SQLException {
    try (Connection c = source.getConnection(); Statement st = c.createStatement()) {
      installWatermark(c, 1);
      st.execute("CREATE TABLE IF NOT EXISTS " + PROGRESS_TABLE + " (table_name VARCHAR(128) PRIMARY KEY, "
          + "last_key VARCHAR(8000), rows_done BIGINT NOT NULL, done BOOLEAN NOT NULL)");
    }
  }

  /**
   * Creates the watermark table if it does not exist, and one of its rows if missing (idempotent). Its rows are
   * marks written into a captured stream: row 1 is the backfill's, others are validation's marks.
   *
   * @param c a connection to the side.
   * @param row the row.
   * @throws SQLException if they cannot be created.
   */
  public static void installWatermark(Connection c, int row) throws SQLException {
    try (Statement st = c.createStatement()) {
      st.execute("CREATE TABLE IF NOT EXISTS " + WATERMARK_TABLE + " (id INT PRIMARY KEY, mark VARCHAR(80))");
      try (ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM " + WATERMARK_TABLE + " WHERE id = " + row)) {
        rs.next();
        if (rs.getLong(1) == 0) {
          st.execute("INSERT INTO " + WATERMARK_TABLE + " VALUES (" + row + ", 'none')");
        }
      }
    }
    if (!c.getAutoCommit()) {
      c.commit();
    }
  }

  /**
   * The pipeline to hand the source's capture while the backfill runs: it passes every change through and merges
   * the chunks in at their high watermarks.
   *
   * @param pipeline the real pipeline.
   * @return the pipeline for the capture.
   */
  public Pipeline watermarked(Pipeline pipeline) {
    watermarked = new WatermarkPipeline(pipeline, side);
    return watermarked;
  }

  /**
   * Copies every table not done yet, resuming after the last chunk recorded.
   *
   * @return each table's final progress.
   * @throws IllegalStateException if {@link #watermarked} was not called, or a chunk's high watermark did not come
   *     through the capture within the chunk timeout (is the capture running and capturing the watermark table?).
   * @throws Exception if a database or the pipeline fails; a new run resumes.
   */
  public List<BackfillProgress> run() throws Exception {
    if (watermarked == null) {
      throw new IllegalStateException("hand the capture watermarked(pipeline) before running the backfill");
    }
    Schema schema = Schema.read(source, tables);
    List<BackfillProgress> out = new ArrayList<>();
    for (String table : tables) {
      out.add(copy(schema.table(table.toLowerCase(Locale.ROOT))));
    }
    return out;
  }

  /**
   * The latest progress of each table run so far.
   *
   * @return by table, in run order.
   */
  public synchronized Map<String, BackfillProgress> progress() {
    return new LinkedHashMap<>(progress);
  }

  private BackfillProgress copy(Schema.Table table) throws Exception {
    if (table.primaryKey().isEmpty()) {
      throw new IllegalArgumentException("table " + table.name() + " has no primary key: a backfill copies in key "
          + "order");
    }
    long estimate = DataSources.estimateRows(source, table.name());
    String[] recorded = recorded(table.name());
    long done = recorded == null ? 0 : Long.parseLong(recorded[1]);
    if (recorded != null && Boolean.parseBoolean(recorded[2])) {
      return report(new BackfillProgress(table.name(), done, estimate, 0, Duration.ZERO, true));
    }
    Row after = recorded == null || recorded[0] == null ? null : decodeKey(recorded[0]);
    List<String> columns = table.columns().stream().map(Schema.Column::name).toList();
    long started = System.nanoTime();
    long copiedThisRun = 0;
    while (true) {
      WatermarkWindow window = new WatermarkWindow(UUID.randomUUID().toString(), table.name());
      watermarked.expect(window);
      mark("low:" + window.id());
      List<Row[]> chunk = select(table, columns, after);
      window.rows(chunk);
      mark("high:" + window.id());
      List<CompletableFuture<Long>> published;
      try {
        published = window.emitted().get(chunkTimeout.toMillis(), TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        throw new IllegalStateException("the high watermark of a chunk of " + table.name() + " did not come through "
            + "the capture within " + chunkTimeout + ": is the capture running and capturing " + WATERMARK_TABLE
            + "?", e);
      }
      for (CompletableFuture<Long> journaled : published) {
        journaled.get(chunkTimeout.toMillis(), TimeUnit.MILLISECONDS);
      }
      boolean last = chunk.size() < chunkSize;
      if (!chunk.isEmpty()) {
        after = chunk.get(chunk.size() - 1)[0];
      }
      done += chunk.size();
      copiedThisRun += chunk.size();
      record(table.name(), after, done, last);
      double seconds = Math.max(1e-3, (System.nanoTime() - started) / 1e9);
      double rate = copiedThisRun / seconds;
      Duration eta = last ? Duration.ZERO : estimate > done && rate > 0
          ? Duration.ofSeconds((long) Math.ceil((estimate - done) / rate)) : null;
      BackfillProgress now = report(new BackfillProgress(table.name(), done, estimate, rate, eta, last));
      if (last) {
        return now;
      }
    }
  }

  private synchronized BackfillProgress report(BackfillProgress now) {
    progress.put(now.table(), now);
    if (listener != null) {
      listener.accept(now);
    }
    return now;
  }

  private void mark(String mark) throws SQLException {
    try (Connection c = source.getConnection();
         PreparedStatement st = c.prepareStatement("UPDATE " + WATERMARK_TABLE + " SET mark = ? WHERE id = 1")) {
      st.setString(1, mark);
      st.executeUpdate();
      if (!c.getAutoCommit()) {
        c.commit();
      }
    }
  }

  private List<Row[]> select(Schema.Table table, List<String> columns, Row after) throws SQLException {
    try (Connection c = source.getConnection()) {
      Dialect dialect = Dialect.of(c);
      List<String> key = table.primaryKey();
      StringBuilder sql = new StringBuilder("SELECT ");
      for (int i = 0; i < columns.size(); i++) {
        sql.append(i == 0 ? "" : ", ").append(dialect.name(columns.get(i)));
      }
      sql.append(" FROM ").append(dialect.name(table.name()));
      String keyList = String.join(", ", key.stream().map(dialect::name).toList());
      if (after != null) {
        sql.append(" WHERE (").append(keyList).append(") > (").append("?, ".repeat(key.size() - 1)).append("?)");
      }
      sql.append(" ORDER BY ").append(keyList).append(" LIMIT ").append(chunkSize);
      try (PreparedStatement st = c.prepareStatement(sql.toString())) {
        if (after != null) {
          for (int i = 0; i < key.size(); i++) {
            JdbcValues.bind(st, i + 1, after.get(key.get(i)));
          }
        }
        List<Row[]> rows = new ArrayList<>();
        try (ResultSet rs = st.executeQuery()) {
          RowReader reader = new RowReader(rs, columns);
          Value[] values = new Value[columns.size()];
          while (rs.next()) {
            reader.read(values);
            Row.Builder full = Row.builder();
            Row.Builder keyRow = Row.builder();
            for (int i = 0; i < columns.size(); i++) {
              full.put(columns.get(i), values[i]);
              if (key.contains(columns.get(i))) {
                keyRow.put(columns.get(i), values[i]);
              }
            }
            rows.add(new Row[] {keyRow.build(), full.build()});
          }
        }
        return rows;
      }
    }
  }

  private String[] recorded(String table) throws SQLException {
    try (Connection c = source.getConnection(); PreparedStatement st = c.prepareStatement(
        "SELECT last_key, rows_done, done FROM " + PROGRESS_TABLE + " WHERE table_name = ?")) {
      st.setString(1, table);
      try (ResultSet rs = st.executeQuery()) {
        return rs.next() ? new String[] {rs.getString(1), Long.toString(rs.getLong(2)),
            Boolean.toString(rs.getBoolean(3))} : null;
      }
    }
  }

  private void record(String table, Row lastKey, long rowsDone, boolean finished) throws SQLException {
    String key = lastKey == null ? null : Base64.getEncoder().encodeToString(ChangeEventProtos.toProto(lastKey)
        .toByteArray());
    try (Connection c = source.getConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement delete = c.prepareStatement("DELETE FROM " + PROGRESS_TABLE + " WHERE table_name = ?");
           PreparedStatement insert = c.prepareStatement("INSERT INTO " + PROGRESS_TABLE
               + " (table_name, last_key, rows_done, done) VALUES (?, ?, ?, ?)")) {
        delete.setString(1, table);
        delete.executeUpdate();
        insert.setString(1, table);
        insert.setString(2, key);
        insert.setLong(3, rowsDone);
        insert.setBoolean(4, finished);
        insert.executeUpdate();
        c.commit();
      } catch (SQLException e) {
        c.rollback();
        throw e;
      }
    }
  }

  private static Row decodeKey(String encoded) {
    try {
      return ChangeEventProtos.fromProto(io.cutover.proto.v1.Row.parseFrom(Base64.getDecoder().decode(encoded)));
    } catch (com.google.protobuf.InvalidProtocolBufferException | IllegalArgumentException e) {
      throw new IllegalStateException("the recorded backfill position in " + PROGRESS_TABLE + " is damaged; delete "
          + "its row to start the table again", e);
    }
  }

  /** Builds a {@link Backfill}. */
  public static final class Builder {
    private final Side side;
    private final DataSource source;
    private final List<String> tables = new ArrayList<>();
    private int chunkSize = 1_000;
    private Duration chunkTimeout = Duration.ofMinutes(2);
    private Consumer<BackfillProgress> listener;

    private Builder(Side side, DataSource source) {
      this.side = Objects.requireNonNull(side, "side");
      this.source = Objects.requireNonNull(source, "source");
    }

    /**
     * Adds tables to copy, in order.
     *
     * @param names the tables.
     * @return this builder.
     */
    public Builder tables(String... names) {
      for (String name : names) {
        tables.add(Dialect.H2.name(name).toLowerCase(Locale.ROOT));
      }
      return this;
    }

    /**
     * Rows per chunk (default 1,000): larger chunks copy faster, smaller ones hold each window shorter.
     *
     * @param rows the chunk size.
     * @return this builder.
     */
    public Builder chunkSize(int rows) {
      if (rows < 1 || rows > 1_000_000) {
        throw new IllegalArgumentException("backfill chunk size must be 1 to 1000000, was " + rows);
      }
      chunkSize = rows;
      return this;
    }

    /**
     * How long a chunk's high watermark may take to come through the capture (default 2 min).
     *
     * @param timeout the timeout.
     * @return this builder.
     */
    public Builder chunkTimeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("backfill chunk timeout must be positive, was " + timeout);
      }
      chunkTimeout = timeout;
      return this;
    }

    /**
     * Told after each chunk.
     *
     * @param value the listener, or null.
     * @return this builder.
     */
    public Builder listener(Consumer<BackfillProgress> value) {
      listener = value;
      return this;
    }

    /**
     * Builds the backfill.
     *
     * @return the backfill.
     * @throws IllegalArgumentException if no table is named.
     */
    public Backfill build() {
      if (tables.isEmpty()) {
        throw new IllegalArgumentException("a backfill names at least one table");
      }
      return new Backfill(this);
    }
  }
}
