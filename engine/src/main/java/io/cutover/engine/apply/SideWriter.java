package io.cutover.engine.apply;

import io.cutover.engine.db.ApplySessions;
import io.cutover.engine.db.DataSources;
import io.cutover.engine.db.Dialect;
import io.cutover.engine.db.JdbcValues;
import io.cutover.engine.db.JsonRows;
import io.cutover.engine.db.RowVersions;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import io.cutover.engine.event.Value;
import io.cutover.engine.event.ValueType;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import io.cutover.journal.Journal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * The one writer of Cutover: every change that reaches a database (a table synced one way, sync's reconciled
 * writes both ways, the engine API's {@link JdbcApplier}) goes through it. It writes one side's share of a batch
 * in one transaction, on a session marked as Cutover's (so capture does not echo it), and owns
 * {@value #POSITION_TABLE}: the batch's last journal index is recorded in the same transaction, so a batch
 * replayed after a crash is not written twice. Maps the monolith's (the source's) table and column names to the
 * side's. A column set conditionally keeps its value when the side changed it meanwhile (that change is on its
 * way and will be reconciled): on a side keeping row versions, whenever the side has a change to the row sync has
 * not reconciled, whatever the values (counter deltas too: the change is answered with what it lacks); elsewhere
 * counter deltas are added to whatever the side holds.
 * Consecutive unconditional upserts of one table (a table mirrored one way) go as one statement: on PostgreSQL
 * the rows as one JSON parameter ({@link JsonRows}), on H2 as multi-row statements. On PostgreSQL the positions
 * and the commit go in one round trip: a batch of one table's rows costs two.
 */
public final class SideWriter implements AutoCloseable {
  /** The table in each written database that holds each writer's last applied journal index. */
  public static final String POSITION_TABLE = "cutover_apply_position";
  private final String applier;
  private final String session;
  private final Side side;
  private final DataSource dataSource;
  private final Map<String, TableMapping> mappings;
  /** Prepared statements by text, the most recently used kept (one per shape: table, columns set, conditions). */
  private final Map<String, PreparedStatement> statements = new java.util.LinkedHashMap<>(64, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, PreparedStatement> eldest) {
      if (size() <= MAX_STATEMENTS) {
        return false;
      }
      try {
        eldest.getValue().close();
      } catch (SQLException ignored) {
        // closing a statement we no longer need
      }
      return true;
    }
  };
  private static final int MAX_STATEMENTS = 256;
  private static final List<String> POSITION_COLUMNS = List.of("applier", "journal_index");
  private static final List<String> POSITION_KEY = List.of("applier");
  /** Statement texts of insert and upsert shapes (built once, not per row). */
  private final Map<Shape, String> shapes = new HashMap<>();
  /** Multi-row upsert texts by shape and row count. */
  private final Map<Shape, Map<Integer, String>> multiRow = new HashMap<>();
  /** JSON statements by the one-row statement they stand for ({@link #jsonStatement}). */
  private final Map<String, JsonShape> jsonStatements = new HashMap<>();
  /** The session's statement for SQL without parameters (positions and commit); closed with the session. */
  private Statement simple;
  /** Per side table, the last row shape (columns and value types) {@link #drift} found to fit by type alone. */
  private final Map<String, Fitting> fitting = new HashMap<>();
  private final Map<String, Map<String, String>> columnTypes = new HashMap<>();
  private final Map<String, Boolean> regroupable = new HashMap<>();
  /** How the side keeps row versions; null until known. */
  private RowVersions.Kind versions;
  /** JDBC batches (round trips of data statements) sent so far. */
  long batches;
  /** Writes left out because the side changed the row after what sync reconciled (its change is on the way). */
  long unseenWrites;
  private Connection connection;
  private Dialect dialect;
  private long applied = Journal.NO_INDEX - 1;
  /** Whether writes at or before its position are written again (see {@link #rewritingReplays}). */
  private boolean rewriteReplays;
  /** Whether its sessions take their replication origin from a previous owner still holding it. */
  private boolean takeSessionsOver;

  /**
   * Creates a writer.
   *
   * @param applier the name its positions are recorded under; its sessions are marked with
   *     {@link #session(String, Side)} of it.
   * @param side the side it writes.
   * @param dataSource the side's database.
   * @param mappings table mappings by the monolith's table name.
   */
  public SideWriter(String applier, Side side, DataSource dataSource, Map<String, TableMapping> mappings) {
    this(applier, session(applier, side), side, dataSource, mappings);
  }

  /**
   * The name a sync's sessions on one side are marked with: replication origins are cluster-wide, and both sides
   * may live in one cluster, so one per side.
   *
   * @param name the sync's name.
   * @param side the side written.
   * @return the session name.
   */
  public static String session(String name, Side side) {
    return name + "_" + (side.isMonolith() ? "monolith" : "service");
  }

  /**
   * Creates a writer whose positions are recorded under a name of their own (an incarnation's), its sessions
   * marked with a stable one (on PostgreSQL a replication origin each, a limited resource).
   *
   * @param applier the name its positions are recorded under.
   * @param session the name its sessions are marked with (see {@link #session(String, Side)}).
   * @param side the side it writes.
   * @param dataSource the side's database.
   * @param mappings table mappings by the monolith's table name.
   */
  public SideWriter(String applier, String session, Side side, DataSource dataSource,
      Map<String, TableMapping> mappings) {
    this.session = session;
    this.applier = applier;
    this.side = side;
    this.dataSource = dataSource;
    this.mappings = mappings;
  }

  /**
   * Makes its sessions take their replication origin over from another session holding it, which they end: for an
   * instance that took the service over from a state changelog (the previous owner is fenced; see
   * {@link ApplySessions#mark(Connection, String, boolean)}).
   *
   * @return this writer.
   */
  public SideWriter takingSessionsOver() {
    this.takeSessionsOver = true;
    return this;
  }

  /**
   * Makes it write again what its position says the database holds: for a handler of idempotent writes (mirrors)
   * whose pipeline replays the journal only when asked to (a target restored from a backup), and skips what the
   * database holds after a crash by itself.
   *
   * @return this writer.
   */
  public SideWriter rewritingReplays() {
    this.rewriteReplays = true;
    return this;
  }

  /**
   * Writes and commits.
   *
   * @param writes this side's writes, in order, each with its change's journal index.
   * @param batchEnd the batch's last journal index, recorded with the writes in the same transaction.
   * @return how many writes found no row to change (its delete is on the way) or a row already there.
   * @throws SQLException if the database fails; nothing of the batch is committed.
   */
  public int write(List<Indexed> writes, long batchEnd) throws SQLException {
    if (writes.isEmpty()) {
      return 0;
    }
    Connection c = connection();
    int skipped = 0;
    try {
      if (applied == Journal.NO_INDEX - 1) {
        applied = appliedPosition(c);
      }
      Map<String, Long> heldDone = new HashMap<>();
      Map<String, Long> heldPositions = new HashMap<>();
      List<Write> toRun = new ArrayList<>(writes.size());
      for (Indexed write : writes) {
        if (write.held()) {
          // held changes are released in order, each perhaps with several writes: those of a change this side
          // committed before (a batch replayed after a crash) are skipped, all of the others run
          String key = heldKey(write.write().table());
          Long done = heldDone.get(key);
          if (done == null) {
            done = position(c, key);
            heldDone.put(key, done);
          }
          if (write.journalIndex() <= done) {
            continue;
          }
          heldPositions.merge(key, write.journalIndex(), Math::max);
        } else if (write.journalIndex() <= applied && !rewriteReplays) {
          continue; // already in this database: a batch replayed after a crash
        }
        toRun.add(write.write());
      }
      List<Prepared> statementsToRun = new ArrayList<>();
      for (Write write : checkVersions(c, toRun)) {
        Prepared prepared = prepare(write);
        if (prepared != null) {
          statementsToRun.add(prepared);
        }
      }
      statementsToRun = groupByShape(statementsToRun);
      // Consecutive statements of one shape go as one JDBC batch (one round trip), in order; on PostgreSQL a run of
      // upserts, updates or inserts of missing rows of a table whose rows commute as statements over rows given as
      // JSON.
      int i = 0;
      while (i < statementsToRun.size()) {
        String sql = statementsToRun.get(i).sql();
        int end = i + 1;
        while (end < statementsToRun.size() && statementsToRun.get(end).sql().equals(sql)) {
          end++;
        }
        List<Prepared> run = statementsToRun.subList(i, end);
        Prepared first = run.get(0);
        if (run.size() > 1 && dialect == Dialect.POSTGRESQL && first.write().type() == Write.Type.UPSERT
            && regroupable(first.shape().table())) {
          upsertRows(c, first.shape(), run);
        } else if (run.size() > 1 && dialect == Dialect.POSTGRESQL && first.table() != null
            && regroupable(first.table())) {
          skipped += commutingRows(c, run);
        } else {
          skipped += executeBatch(c, run);
        }
        i = end;
      }
      // A batch replayed after a crash may end before the last one this side committed (its boundaries are the
      // replay's, not the original run's): the position never moves back, or the writes between the two would run
      // again (a counter delta twice).
      long position = Math.max(applied, batchEnd);
      if (dialect == Dialect.POSTGRESQL && literal(applier) && (heldPositions.isEmpty()
          || heldPositions.keySet().stream().allMatch(SideWriter::literal))) {
        commitWithPositions(c, position, heldPositions);
      } else {
        PreparedStatement ps = statement(c, dialect.upsert(POSITION_TABLE, POSITION_COLUMNS, POSITION_KEY));
        ps.setString(1, applier);
        ps.setLong(2, position);
        ps.executeUpdate();
        for (Map.Entry<String, Long> held : heldPositions.entrySet()) {
          ps.setString(1, held.getKey());
          ps.setLong(2, held.getValue());
          ps.executeUpdate();
        }
        c.commit();
      }
      applied = position;
      return skipped;
    } catch (SQLException | RuntimeException e) {
      close();
      throw e;
    }
  }

  /**
   * PostgreSQL: the positions and the commit in one round trip (one simple query, {@code ...; COMMIT}), in the
   * transaction of the batch's writes. A failure of either aborts the transaction: nothing of the batch stays.
   */
  private void commitWithPositions(Connection c, long position, Map<String, Long> heldPositions)
      throws SQLException {
    StringBuilder sql = new StringBuilder(160);
    positionUpsert(sql, applier, position);
    for (Map.Entry<String, Long> held : heldPositions.entrySet()) {
      positionUpsert(sql.append("; "), held.getKey(), held.getValue());
    }
    sql.append("; COMMIT");
    if (simple == null) {
      simple = c.createStatement();
    }
    simple.execute(sql.toString());
    c.commit(); // nothing left to commit: the driver sees the session idle and sends nothing
  }

  private static void positionUpsert(StringBuilder sql, String name, long position) {
    sql.append("INSERT INTO ").append(POSITION_TABLE).append(" (applier, journal_index) VALUES ('").append(name)
        .append("', ").append(position).append(") ON CONFLICT (applier) DO UPDATE SET journal_index = "
            + "EXCLUDED.journal_index");
  }

  /** Whether a name can go into SQL text as a literal as it is (the appliers' and tables' names can). */
  private static boolean literal(String name) {
    for (int i = 0; i < name.length(); i++) {
      char ch = name.charAt(i);
      if (!(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '_' || ch == '-'
          || ch == '.' || ch == ':' || ch == '/' || ch == '#')) {
        return false;
      }
    }
    return true;
  }

  private PreparedStatement statement(Connection c, String sql) throws SQLException {
    PreparedStatement ps = statements.get(sql);
    if (ps == null) {
      ps = c.prepareStatement(sql);
      statements.put(sql, ps);
    }
    return ps;
  }

  /**
   * Runs statements of one text as one JDBC batch (one round trip).
   *
   * @return how many of them that count a miss changed no row.
   */
  private int executeBatch(Connection c, List<Prepared> run) throws SQLException {
    if (run.isEmpty()) {
      return 0;
    }
    PreparedStatement ps = statement(c, run.get(0).sql());
    for (Prepared prepared : run) {
      List<Value> values = prepared.values();
      for (int p = 0; p < values.size(); p++) {
        JdbcValues.bind(ps, p + 1, values.get(p));
      }
      ps.addBatch();
    }
    int[] counts = ps.executeBatch();
    batches++;
    int missed = 0;
    for (int k = 0; k < counts.length; k++) {
      if (counts[k] == 0 && run.get(k).countsMiss()) {
        missed++;
      }
    }
    return missed;
  }

  /**
   * Writes a run of updates or inserts of missing rows, of one shape, to a table whose rows commute
   * ({@link #regroupable}) as statements over rows given as JSON ({@code UPDATE ... FROM json_to_recordset(?)}, the
   * same conditions per row; {@code INSERT ... SELECT ... ON CONFLICT DO NOTHING}): one executor run for the rows
   * of a statement instead of one per row, about half the database's work per row. One statement changes a row at
   * most once, so a row met again starts the next statement; rows whose values have no exact JSON form are
   * written one by one.
   *
   * @return how many of the updates changed no row.
   */
  private int commutingRows(Connection c, List<Prepared> run) throws SQLException {
    Prepared first = run.get(0);
    JsonShape json = jsonStatement(c, first);
    int missed = 0;
    // rows to go one by one, in order, in one JDBC batch: the short statements (a row changed many times in a batch
    // makes many), and the rows of the JSON statements before them that have no exact JSON form
    List<Prepared> oneByOne = new ArrayList<>();
    java.util.Set<Row> keys = new java.util.HashSet<>(run.size() * 2);
    int from = 0;
    while (from < run.size()) {
      int to = from;
      while (to < run.size() && keys.add(run.get(to).key())) {
        to++;
      }
      keys.clear();
      List<Prepared> distinct = run.subList(from, to);
      if (json.sql() == null || distinct.size() < MIN_JSON_ROWS) {
        oneByOne.addAll(distinct);
      } else {
        missed += executeBatch(c, oneByOne);
        oneByOne.clear();
        int[] changed = {0};
        List<Prepared> left = runJson(c, json, distinct, changed);
        if (first.countsMiss()) {
          missed += distinct.size() - left.size() - changed[0];
        }
        oneByOne.addAll(left);
      }
      from = to;
    }
    return missed + executeBatch(c, oneByOne);
  }

  /**
   * Fewer rows than this go one by one in the run's JDBC batch rather than as a JSON statement of their own: each
   * JSON statement is a round trip, and a row changed many times in one batch cuts a run into as many statements.
   */
  private static final int MIN_JSON_ROWS = 8;

  /** The JSON form of an update's statement; its text null when a column's type cannot be read. */
  private JsonShape updateJson(Connection c, Prepared update) throws SQLException {
    TableMapping mapping = mappings.get(update.write().table());
    String table = update.table();
    List<String> keys = keyColumns(mapping, update.write());
    List<Param> params = new ArrayList<>();
    StringBuilder sql = new StringBuilder();
    updateStatement(sql, update.write(), mapping, table, keys, params, true);
    Map<String, String> sqlTypes = JsonRows.sqlTypes(c, table);
    String[] types = new String[params.size()];
    List<String> fields = new ArrayList<>(params.size());
    StringBuilder record = new StringBuilder();
    for (int i = 0; i < types.length; i++) {
      types[i] = sqlTypes.get(params.get(i).column().toLowerCase(java.util.Locale.ROOT));
      if (types[i] == null) {
        return new JsonShape(null, null, null);
      }
      fields.add("p" + i);
      record.append(i == 0 ? "" : ", ").append('p').append(i).append(' ').append(types[i]);
    }
    int where = sql.indexOf(" WHERE ");
    sql.insert(where, " FROM json_to_recordset(?::json) AS " + JSON_ROWS_ALIAS + "(" + record + ")");
    return new JsonShape(sql.toString(), JsonRows.fields(fields), types);
  }

  /**
   * The JSON form of a prepared statement's text (an update, an insert or an upsert), built once per text; its
   * text null when a column's type cannot be read (the rows then go as tuples, and the statement says what is
   * wrong).
   */
  private JsonShape jsonStatement(Connection c, Prepared first) throws SQLException {
    JsonShape json = jsonStatements.get(first.sql());
    if (json == null) {
      json = first.write().type() == Write.Type.UPDATE ? updateJson(c, first) : rowsJson(c, first.shape());
      if (jsonStatements.size() >= MAX_STATEMENTS) {
        jsonStatements.clear();
      }
      jsonStatements.put(first.sql(), json);
    }
    return json;
  }

  /** The JSON form of an insert's or upsert's statement; its text null when a column's type cannot be read. */
  private JsonShape rowsJson(Connection c, Shape shape) throws SQLException {
    Map<String, String> sqlTypes = JsonRows.sqlTypes(c, shape.table());
    List<String> types = new ArrayList<>(shape.columns().size());
    for (String column : shape.columns()) {
      String type = sqlTypes.get(column.toLowerCase(java.util.Locale.ROOT));
      if (type == null) {
        return new JsonShape(null, null, null);
      }
      types.add(type);
    }
    return new JsonShape(JsonRows.rows(shapes.get(shape), shape.columns(), types), JsonRows.fields(shape.columns()),
        types.toArray(new String[0]));
  }

  /** The row alias of a JSON update's target table, and that of its rows. */
  private static final String JSON_TARGET_ALIAS = "cutover_row";
  private static final String JSON_ROWS_ALIAS = "cutover_x";

  /** Rows per multi-row statement, largest first: a few statement texts per shape, a few statements per run. */
  private static final int[] ROWS_PER_STATEMENT = {256, 64, 16, 4, 1};
  /** At most this many parameters in one statement (PostgreSQL's protocol takes 65,535). */
  private static final int MAX_PARAMETERS = 30_000;

  /**
   * Writes a run of unconditional upserts of one table (whole images of rows mirrored one way) as multi-row
   * statements. Only the last image of each row is written: each one replaces the row whole, and one statement
   * may not change a row twice. Rows of the run are then written in another order than the changes came, which
   * only a unique index besides the primary key could tell apart: such tables are not taken here (see
   * {@link #regroupable}).
   */
  private void upsertRows(Connection c, Shape shape, List<Prepared> run) throws SQLException {
    Map<Row, Prepared> last = new java.util.LinkedHashMap<>(run.size() * 2);
    for (Prepared p : run) {
      if (last.put(p.key(), p) != null) {
        last.remove(p.key());
        last.put(p.key(), p);
      }
    }
    List<Prepared> rows = new ArrayList<>(last.values());
    if (dialect == Dialect.POSTGRESQL) {
      rows = upsertJson(c, rows);
    }
    int width = shape.columns().size();
    int from = 0;
    while (from < rows.size()) {
      int left = rows.size() - from;
      int n = 1;
      for (int size : ROWS_PER_STATEMENT) {
        if (size <= left && size * width <= MAX_PARAMETERS) {
          n = size;
          break;
        }
      }
      int count = n;
      String sql = multiRow.computeIfAbsent(shape, k -> new HashMap<>()).computeIfAbsent(count,
          k -> dialect.upsertRows(shape.table(), shape.columns(), shape.keys(), count));
      PreparedStatement ps = statement(c, sql);
      int p = 1;
      for (int r = from; r < from + n; r++) {
        for (Value value : rows.get(r).values()) {
          JdbcValues.bind(ps, p++, value);
        }
      }
      ps.executeUpdate();
      batches++;
      from += n;
    }
  }

  /** Rows per JSON statement: bounds the parameter's size, not the round trips (one per statement). */
  private static final int JSON_ROWS = 1_000;
  /** And at most about this many characters (big rows): a statement is sent once its parameter passes it. */
  private static final int JSON_CHARS = 8 << 20;

  /**
   * Writes rows of a run as JSON statements ({@link JsonRows}): one statement text per shape whatever the count, one
   * round trip per {@value #JSON_ROWS} rows (or 8 MiB of them). Returns the rows that have no exact JSON form, to
   * be written as tuples.
   */
  private List<Prepared> upsertJson(Connection c, List<Prepared> rows) throws SQLException {
    JsonShape json = jsonStatement(c, rows.get(0));
    return json.sql() == null ? rows : runJson(c, json, rows, new int[1]);
  }

  /**
   * Runs a JSON statement over rows, {@value #JSON_ROWS} rows (or 8 MiB of them) per round trip.
   *
   * @param changed where the count of rows the statements changed is added.
   * @return the rows that have no exact JSON form, to be written as tuples.
   */
  private List<Prepared> runJson(Connection c, JsonShape json, List<Prepared> rows, int[] changed)
      throws SQLException {
    List<Prepared> left = new ArrayList<>(0);
    StringBuilder out = new StringBuilder(rows.size() * 64 + 2).append('[');
    int inStatement = 0;
    for (Prepared row : rows) {
      if (!JsonRows.append(out, json.fields(), json.types(), row.values())) {
        left.add(row);
        continue;
      }
      if (++inStatement == JSON_ROWS || out.length() >= JSON_CHARS) {
        changed[0] += executeJson(c, json, out);
        out.setLength(1);
        inStatement = 0;
      }
    }
    if (inStatement > 0) {
      changed[0] += executeJson(c, json, out);
    }
    return left;
  }

  private int executeJson(Connection c, JsonShape json, StringBuilder rows) throws SQLException {
    PreparedStatement ps = statement(c, json.sql());
    ps.setString(1, rows.append(']').toString());
    int changed = ps.executeUpdate();
    batches++;
    return changed;
  }

  /** A shape's JSON statement, its columns' field names and their SQL types. */
  private record JsonShape(String sql, String[] fields, String[] types) {}

  /**
   * Checks that a row (in the monolith's names) fits this side's table: every column it carries that the mapping
   * sends here exists, with a type its value fits.
   *
   * @param monolithTable the monolith's table.
   * @param row the row.
   * @return null when it fits, else what does not (schema drift).
   * @throws SQLException if the side cannot be read.
   */
  public String drift(String monolithTable, Row row) throws SQLException {
    TableMapping mapping = mappings.get(monolithTable);
    String table = side.isMonolith() ? mapping.sourceTable() : mapping.targetTable();
    Fitting known = fitting.get(table);
    if (known != null && known.matches(row)) {
      return null; // the same columns with values of the same types as a row that fitted: they fit
    }
    Map<String, String> types = types(table);
    boolean byType = true;
    for (Map.Entry<String, Value> column : row.columns().entrySet()) {
      String name = column(mapping, column.getKey());
      if (name == null) {
        continue;
      }
      String type = types.get(name.toLowerCase(java.util.Locale.ROOT));
      if (type == null) {
        return "column " + name + " is not in " + where(table);
      }
      if (!fits(column.getValue(), type)) {
        byType = false;
        if (convert(column.getValue(), type) == null) {
          return "column " + name + " of " + where(table) + " is " + type + ", the other side sends "
              + column.getValue().type() + " " + column.getValue();
        }
      }
    }
    if (byType) {
      fitting.put(table, Fitting.of(row));
    }
    return null;
  }

  /**
   * A row's shape: its columns and the types of their values.
   *
   * @param names the columns, in order.
   * @param types their values' types.
   */
  private record Fitting(String[] names, ValueType[] types) {
    static Fitting of(Row row) {
      String[] names = new String[row.size()];
      ValueType[] types = new ValueType[row.size()];
      int i = 0;
      for (Map.Entry<String, Value> column : row.columns().entrySet()) {
        names[i] = column.getKey();
        types[i++] = column.getValue().type();
      }
      return new Fitting(names, types);
    }

    boolean matches(Row row) {
      if (row.size() != names.length) {
        return false;
      }
      int i = 0;
      for (Map.Entry<String, Value> column : row.columns().entrySet()) {
        if (types[i] != column.getValue().type() || !names[i].equals(column.getKey())) {
          return false;
        }
        i++;
      }
      return true;
    }
  }

  private String where(String table) {
    return (side.isMonolith() ? "the monolith's" : side.service() + "'s") + " table " + table;
  }

  static Value convert(Value value, String type) {
    return io.cutover.engine.db.ValueConversions.toColumn(value, type);
  }

  /** Forgets what it knows of the tables' columns (after a failure, or to see whether a schema changed). */
  public void forgetSchemas() {
    columnTypes.clear();
    jsonStatements.clear();
    regroupable.clear();
    fitting.clear();
  }

  private static Map<String, String> readColumns(Connection c, String table) throws SQLException {
    return io.cutover.engine.db.ValueConversions.columnTypes(c, table);
  }

  static boolean fits(Value value, String type) {
    return io.cutover.engine.db.ValueConversions.fits(value, type);
  }

  /**
   * A write and the journal index of the change that caused it.
   *
   * @param journalIndex the change's index.
   * @param write the write.
   * @param held whether the change was held (its table's sync was paused) and is applied late: its position is
   *     tracked per table, apart from the journal order.
   */
  public record Indexed(long journalIndex, Write write, boolean held) {

    /**
     * A write of a change applied in journal order.
     *
     * @param journalIndex the change's index.
     * @param write the write.
     */
    public Indexed(long journalIndex, Write write) {
      this(journalIndex, write, false);
    }
  }

  private String heldKey(String table) {
    return applier + "#held-" + Integer.toHexString(table.hashCode());
  }

  private long position(Connection c, String key) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT journal_index FROM " + POSITION_TABLE
        + " WHERE applier = ?")) {
      ps.setString(1, key);
      try (java.sql.ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getLong(1) : Journal.NO_INDEX;
      }
    }
  }

  /**
   * The last journal index this writer committed to its database (its {@value #POSITION_TABLE} row).
   *
   * @return the index; {@link Journal#NO_INDEX} if none.
   * @throws SQLException if the database cannot be read.
   */
  public long position() throws SQLException {
    try {
      applied = appliedPosition(connection());
      return applied;
    } catch (SQLException | RuntimeException e) {
      close();
      throw e;
    }
  }

  private long appliedPosition(Connection c) throws SQLException {
    try (Statement st = c.createStatement()) {
      st.execute("CREATE TABLE IF NOT EXISTS " + POSITION_TABLE
          + " (applier VARCHAR(64) PRIMARY KEY, journal_index BIGINT NOT NULL)");
    }
    long position = Journal.NO_INDEX;
    try (PreparedStatement ps = c.prepareStatement("SELECT journal_index FROM " + POSITION_TABLE
        + " WHERE applier = ?")) {
      ps.setString(1, applier);
      try (java.sql.ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          position = rs.getLong(1);
        }
      }
    }
    c.commit();
    return position;
  }

  /**
   * A statement ready to run.
   *
   * @param sql its text (its shape).
   * @param values its parameters, converted to the columns' types.
   * @param countsMiss whether changing no row counts as a skipped write.
   * @param table this side's table, for updates and inserts of missing rows, which may be regrouped; null for any
   *     other statement.
   * @param key the row's key.
   * @param shape for an insert or upsert, its shape (runs of them go as multi-row statements); else null.
   * @param write the write.
   */
  private record Prepared(String sql, List<Value> values, boolean countsMiss, String table, Row key,
      Shape shape, Write write) {}

  /**
   * The shape of an insert or upsert statement.
   *
   * @param type the write's type.
   * @param table this side's table.
   * @param columns the columns given, in parameter order.
   * @param keys the key columns.
   */
  private record Shape(Write.Type type, String table, List<String> columns, List<String> keys) {}

  /**
   * Regroups runs of updates and inserts of missing rows to one table so that statements of one shape sit
   * together and go in one JDBC batch (or one JSON statement). Each statement touches only its own row, an update
   * changes no row's existence and an insert of a missing row none that exists, so such writes of different rows
   * commute; each row's own writes keep their order (a write's level is one more than the row's previous one, and
   * levels run in order; the insert that follows an update of a row sync never saw stays after it). Other inserts,
   * deletes and writes of another table end a run and stay where they are.
   * Only tables whose one unique index is the primary key are regrouped: with another unique column, an order in
   * which two rows swap values could collide where the source's order did not. Without this, a table whose
   * updates alternate between two shapes (a counter that changed or not, a column set that differs) sent a few
   * rows per round trip: at 10,000 changes/s, about 4 rows per batch on PostgreSQL.
   */
  private List<Prepared> groupByShape(List<Prepared> in) throws SQLException {
    List<Prepared> out = null;
    int i = 0;
    while (i < in.size()) {
      String table = in.get(i).table();
      int j = i + 1;
      while (table != null && j < in.size() && table.equals(in.get(j).table())) {
        j++;
      }
      if (j - i > 2 && regroupable(table)) {
        if (out == null) {
          out = new ArrayList<>(in.subList(0, i));
        }
        regroup(in.subList(i, j), out);
      } else if (out != null) {
        out.addAll(in.subList(i, j));
      }
      i = j;
    }
    return out == null ? in : out;
  }

  private static void regroup(List<Prepared> run, List<Prepared> out) {
    Map<Row, Integer> lastLevel = new HashMap<>();
    List<List<Prepared>> levels = new ArrayList<>();
    for (Prepared p : run) {
      int level = lastLevel.merge(p.key(), 0, (previous, zero) -> previous + 1);
      if (level == levels.size()) {
        levels.add(new ArrayList<>());
      }
      levels.get(level).add(p);
    }
    for (List<Prepared> level : levels) {
      Map<String, List<Prepared>> byShape = new java.util.LinkedHashMap<>();
      for (Prepared p : level) {
        byShape.computeIfAbsent(p.sql(), k -> new ArrayList<>()).add(p);
      }
      byShape.values().forEach(out::addAll);
    }
  }

  private boolean regroupable(String table) throws SQLException {
    Boolean known = regroupable.get(table);
    if (known == null) {
      io.cutover.engine.analysis.Schema.Table t = io.cutover.engine.analysis.Schema.read(dataSource,
          List.of(table)).table(table.toLowerCase(java.util.Locale.ROOT));
      known = t != null && !t.primaryKey().isEmpty() && t.indexes().stream().noneMatch(index -> index.unique()
          && !new java.util.HashSet<>(index.columns()).equals(new java.util.HashSet<>(t.primaryKey())));
      regroupable.put(table, known);
    }
    return known;
  }

  private Prepared prepare(Write write) throws SQLException {
    TableMapping mapping = mappings.get(write.table());
    String table = side.isMonolith() ? mapping.sourceTable() : mapping.targetTable();
    List<String> keys = keyColumns(mapping, write);
    List<Param> params = new ArrayList<>();
    StringBuilder sql = new StringBuilder();
    Shape shape = null;
    switch (write.type()) {
      case UPDATE -> {
        if (!updateStatement(sql, write, mapping, table, keys, params, false)) {
          return null;
        }
      }
      case DELETE, FORCE_DELETE -> {
        sql.append("DELETE FROM ").append(dialect.name(table));
        whereKey(sql, keys, write.key(), params, false);
        if (write.type() == Write.Type.DELETE && write.expected() != null) {
          for (Map.Entry<String, Value> column : write.expected().columns().entrySet()) {
            String name = column(mapping, column.getKey());
            if (name != null && !keys.contains(name) && comparable(column.getValue())) {
              sql.append(" AND ").append(dialect.name(name)).append(" IS NOT DISTINCT FROM ?");
              params.add(new Param(name, column.getValue()));
            }
          }
        }
      }
      case INSERT, UPSERT, INSERT_MISSING -> {
        List<String> columns = new ArrayList<>();
        for (Map.Entry<String, Value> column : write.values().columns().entrySet()) {
          String name = column(mapping, column.getKey());
          if (name != null) {
            columns.add(name);
            params.add(new Param(name, column.getValue()));
          }
        }
        shape = new Shape(write.type(), table, columns, keys);
        sql.append(shapes.computeIfAbsent(shape, k -> k.type() == Write.Type.UPSERT
            ? dialect.upsert(k.table(), k.columns(), k.keys()) : dialect.insertIfAbsent(k.table(), k.columns(), k.keys())));
        if (write.type() != Write.Type.UPSERT) {
          if (dialect.insertIfAbsentRepeatsKey()) {
            int k = 0;
            for (Value value : write.key().columns().values()) {
              params.add(new Param(keys.get(k++), value));
            }
          }
        }
      }
      default -> throw new IllegalStateException("unknown write " + write.type());
    }
    Map<String, String> types = types(table);
    List<Value> values = new ArrayList<>(params.size());
    for (Param param : params) {
      String type = types.get(param.column().toLowerCase(java.util.Locale.ROOT));
      Value converted = type == null ? null : convert(param.value(), type);
      values.add(converted == null ? param.value() : converted);
    }
    return new Prepared(sql.toString(), values, write.type() != Write.Type.FORCE_DELETE
        && write.type() != Write.Type.INSERT_MISSING, write.type() == Write.Type.UPDATE
        || write.type() == Write.Type.INSERT_MISSING ? table : null, write.key(), shape, write);
  }

  /** The side's names of a write's key columns, in the key's order. */
  private List<String> keyColumns(TableMapping mapping, Write write) {
    List<String> keys = new ArrayList<>(write.key().columns().size());
    for (String column : write.key().columns().keySet()) {
      String name = column(mapping, column);
      if (name == null) {
        throw new IllegalStateException("mapping of table " + write.table() + " drops key column " + column);
      }
      keys.add(name);
    }
    return keys;
  }

  /**
   * Builds an update's statement: per column, the value set where the side still holds what sync last saw (a column
   * the side changed meanwhile keeps its value: its change is on the way), counter deltas added, the row chosen by
   * its key. With {@code json}, the same statement over rows given as JSON: each parameter is the field {@code p<n>}
   * of the rows' alias, the table's columns are qualified by the table's alias, and the caller adds the rows'
   * {@code FROM} before the {@code WHERE}.
   *
   * @return false when it sets nothing.
   */
  private boolean updateStatement(StringBuilder sql, Write write, TableMapping mapping, String table,
      List<String> keys, List<Param> params, boolean json) {
    sql.append("UPDATE ").append(dialect.name(table)).append(json ? " AS " + JSON_TARGET_ALIAS : "").append(" SET ");
    String own = json ? JSON_TARGET_ALIAS + "." : "";
    int set = 0;
    for (Map.Entry<String, Value> column : write.values().columns().entrySet()) {
      String name = column(mapping, column.getKey());
      if (name == null || keys.contains(name)) {
        continue;
      }
      String n = dialect.name(name);
      sql.append(set++ == 0 ? "" : ", ").append(n).append(" = ");
      Value expected = write.expected() == null ? null : write.expected().get(column.getKey());
      if (comparable(expected)) {
        // Per column: a column the side changed meanwhile keeps its value (its change is on the way).
        sql.append("CASE WHEN ").append(own).append(n).append(" IS NOT DISTINCT FROM ");
        parameter(sql, params, new Param(name, expected), json);
        sql.append(" THEN ");
        parameter(sql, params, new Param(name, column.getValue()), json);
        sql.append(" ELSE ").append(own).append(n).append(" END");
      } else {
        parameter(sql, params, new Param(name, column.getValue()), json);
      }
    }
    if (write.deltas() != null) {
      for (Map.Entry<String, Value> column : write.deltas().columns().entrySet()) {
        String name = column(mapping, column.getKey());
        if (name != null && !keys.contains(name)) {
          String n = dialect.name(name);
          sql.append(set++ == 0 ? "" : ", ").append(n).append(" = ").append(own).append(n).append(" + ");
          parameter(sql, params, new Param(name, column.getValue()), json);
        }
      }
    }
    if (set == 0) {
      return false;
    }
    whereKey(sql, keys, write.key(), params, json);
    return true;
  }

  private static void parameter(StringBuilder sql, List<Param> params, Param param, boolean json) {
    if (json) {
      sql.append(JSON_ROWS_ALIAS).append(".p").append(params.size());
    } else {
      sql.append('?');
    }
    params.add(param);
  }

  /**
   * On a side keeping row versions: locks the rows the batch writes conditionally (so no application change can
   * slip in before the batch commits), reads their versions, and drops every write (values, counter deltas, a
   * delete, an insert) to a row the side changed after the last change sync reconciled: that change is on its way,
   * an insert there could bring back a row the application deleted, and a delta landing there would be missing
   * from the change's image. Reconciling the change answers it with what it lacks, deltas included, so each
   * change's image shows exactly what its side holds.
   */
  private List<Write> checkVersions(Connection c, List<Write> writes) throws SQLException {
    RowVersions.Kind kind = versions();
    if (kind == RowVersions.Kind.NONE) {
      return writes;
    }
    // the side's table -> the rows' keys (the version table's text, and the key values in the side's names)
    Map<String, Map<String, Row>> rows = new java.util.LinkedHashMap<>();
    String[] keyTexts = new String[writes.size()];
    for (int i = 0; i < writes.size(); i++) {
      Write write = writes.get(i);
      if (write.seen() != Write.UNSEEN) {
        Row key = sideKey(write);
        keyTexts[i] = RowVersions.key(key.columns());
        rows.computeIfAbsent(sideTable(write), t -> new java.util.TreeMap<>()).put(keyTexts[i], key);
      }
    }
    if (rows.isEmpty()) {
      return writes;
    }
    Map<String, Map<String, Long>> versionsByTable = new HashMap<>();
    for (Map.Entry<String, Map<String, Row>> table : rows.entrySet()) {
      lockRows(c, table.getKey(), new ArrayList<>(table.getValue().values()));
      versionsByTable.put(table.getKey(), readVersions(c, kind, table.getKey(), table.getValue().keySet()));
    }
    List<Write> out = new ArrayList<>(writes.size());
    for (int i = 0; i < writes.size(); i++) {
      Write write = writes.get(i);
      Long version = keyTexts[i] == null ? null : versionsByTable.get(sideTable(write)).get(keyTexts[i]);
      boolean unseen = version != null && (kind == RowVersions.Kind.SEQUENCE ? version > write.seen()
          : version != write.seen());
      if (!unseen) {
        out.add(write);
      } else {
        unseenWrites++;
      }
    }
    return out;
  }

  private String sideTable(Write write) {
    TableMapping mapping = mappings.get(write.table());
    return side.isMonolith() ? mapping.sourceTable() : mapping.targetTable();
  }

  private Row sideKey(Write write) {
    TableMapping mapping = mappings.get(write.table());
    Row.Builder key = Row.builder();
    write.key().columns().forEach((column, value) -> key.put(column(mapping, column), value));
    return key.build();
  }

  /** Locks rows in key order ({@code SELECT ... ORDER BY key FOR UPDATE}), in one statement for most batches. */
  private void lockRows(Connection c, String table, List<Row> keys) throws SQLException {
    List<String> columns = keys.get(0).names();
    String names = String.join(", ", columns.stream().map(dialect::name).toList());
    String tuple = "(" + String.join(", ", java.util.Collections.nCopies(columns.size(), "?")) + ")";
    Map<String, String> types = types(table);
    // One statement for as many rows as its parameters allow (the database then takes the locks in key order, as
    // an application locking rows in key order does; chunks, each in order, would not be ordered among themselves).
    int perStatement = Math.max(1, LOCK_PARAMETERS / columns.size());
    for (int from = 0; from < keys.size(); from += perStatement) {
      List<Row> chunk = keys.subList(from, Math.min(keys.size(), from + perStatement));
      String sql = "SELECT " + names + " FROM " + dialect.name(table) + " WHERE (" + names + ") IN ("
          + String.join(", ", java.util.Collections.nCopies(chunk.size(), tuple)) + ") ORDER BY " + names
          + " FOR UPDATE";
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        int p = 1;
        for (Row key : chunk) {
          for (String column : columns) {
            String type = types.get(column.toLowerCase(java.util.Locale.ROOT));
            Value value = key.get(column);
            Value converted = type == null ? null : convert(value, type);
            JdbcValues.bind(ps, p++, converted == null ? value : converted);
          }
        }
        ps.executeQuery().close();
      }
    }
  }

  private Map<String, Long> readVersions(Connection c, RowVersions.Kind kind, String table,
      java.util.Set<String> keys) throws SQLException {
    Map<String, Long> versions = new HashMap<>();
    if (dialect == Dialect.POSTGRESQL) {
      // one statement text whatever the count: prepared once on the server
      PreparedStatement ps = statement(c, RowVersions.selectArray(kind));
      ps.setString(1, table.toLowerCase(java.util.Locale.ROOT));
      ps.setArray(2, c.createArrayOf("text", keys.toArray()));
      readVersions(ps, versions);
      return versions;
    }
    List<String> all = new ArrayList<>(keys);
    for (int from = 0; from < all.size(); from += VERSION_CHUNK) {
      List<String> chunk = all.subList(from, Math.min(all.size(), from + VERSION_CHUNK));
      try (PreparedStatement ps = c.prepareStatement(RowVersions.select(kind, chunk.size()))) {
        ps.setString(1, table.toLowerCase(java.util.Locale.ROOT));
        for (int i = 0; i < chunk.size(); i++) {
          ps.setString(i + 2, chunk.get(i));
        }
        readVersions(ps, versions);
      }
    }
    return versions;
  }

  private static void readVersions(PreparedStatement ps, Map<String, Long> versions) throws SQLException {
    try (java.sql.ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        versions.put(rs.getString(1), rs.getLong(2));
      }
    }
  }

  private static final int VERSION_CHUNK = 500;
  /** The most key values one locking statement binds (PostgreSQL allows 65,535 parameters). */
  private static final int LOCK_PARAMETERS = 30_000;

  /**
   * How the side keeps row versions (trigger capture: change sequence numbers; logical capture: transaction ids):
   * sync's writes to it are then conditioned on the last change sync reconciled from it, as well as on values.
   * Known once per connection.
   *
   * @return the kind; {@link RowVersions.Kind#NONE} if it keeps none.
   * @throws IllegalStateException if the database cannot be reached now (the batch fails and is decided again).
   */
  public RowVersions.Kind versions() {
    if (versions == null) {
      try {
        Connection c = connection();
        RowVersions.Kind kind = DataSources.tableExists(c, RowVersions.TABLE) ? RowVersions.Kind.SEQUENCE
            : DataSources.tableExists(c, RowVersions.TRANSACTIONS) ? RowVersions.Kind.TRANSACTION
            : RowVersions.Kind.NONE;
        c.commit();
        versions = kind;
      } catch (SQLException e) {
        close();
        // not NONE: the batch would then be decided without the side's versions, and a write could land on a
        // change of the side's that sync has not seen (a counter delta counted twice once that change arrives)
        throw new IllegalStateException("cannot tell whether the " + side + " database keeps row versions: "
            + e.getMessage(), e);
      }
    }
    return versions;
  }

  /** A statement parameter and the column it goes to (for conversions to the column's type). */
  private record Param(String column, Value value) {}

  private Map<String, String> types(String table) throws SQLException {
    Map<String, String> types = columnTypes.get(table);
    if (types == null) {
      types = readColumns(connection(), table);
      columnTypes.put(table, types);
    }
    return types;
  }

  private void whereKey(StringBuilder sql, List<String> keys, Row key, List<Param> params, boolean json) {
    sql.append(" WHERE ");
    int i = 0;
    for (Value value : key.columns().values()) {
      sql.append(i == 0 ? "" : " AND ").append(json ? JSON_TARGET_ALIAS + "." : "").append(dialect.name(keys.get(i)))
          .append(" = ");
      parameter(sql, params, new Param(keys.get(i), value), json);
      i++;
    }
  }


  /** PostgreSQL's json type has no equality; such columns are written without a condition. */
  private static boolean comparable(Value value) {
    return value != null && value.type() != ValueType.JSON;
  }

  private String column(TableMapping mapping, String column) {
    return side.isMonolith() ? column : mapping.targetColumn(column);
  }

  private Connection connection() throws SQLException {
    if (connection == null) {
      Connection c = dataSource.getConnection();
      try {
        dialect = Dialect.of(c);
        ApplySessions.mark(c, session, takeSessionsOver);
        c.setAutoCommit(false);
      } catch (SQLException | RuntimeException e) {
        c.close();
        throw e;
      }
      connection = c;
    }
    return connection;
  }

  /** Rolls back and closes the connection; the next write opens a new one. */
  @Override
  public void close() {
    statements.clear();
    simple = null;
    jsonStatements.clear(); // the columns' types are read again with the next session
    versions = null;
    columnTypes.clear();
    fitting.clear();
    applied = Journal.NO_INDEX - 1;
    DataSources.discard(connection);
    connection = null;
  }
}
