package io.cutover.engine.apply;

import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.Side;
import io.cutover.engine.pipeline.ChangeHandler;
import io.cutover.engine.pipeline.ChangeRecord;
import io.cutover.journal.Journal;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * Applies journaled changes of a source's tables to a target database, as mirrors ({@link Mirror}): the engine
 * API's handler for one-way replication, through the same writer sync uses ({@link SideWriter}). {@link #onChange}
 * only maps and buffers; {@link #onBatchEnd} writes the whole batch in one transaction together with the last
 * journal index applied, in the target's {@value SideWriter#POSITION_TABLE} table. So the effect is exactly once:
 * after a crash the pipeline skips what the target already holds ({@link #durablePosition()}), and a failed commit
 * is rolled back and the whole batch is written again on retry, on a new connection.
 *
 * <p>Inserts and updates are upserts of the row's image; deletes are by primary key; a row an update takes out of
 * the mapping's filter is deleted. Changes of unmapped tables, or from a side other than the configured source,
 * are ignored. Its sessions are marked as apply sessions, so capture on the target does not send its writes back.
 * One thread (the pipeline's).
 */
public final class JdbcApplier implements ChangeHandler, AutoCloseable {
  private final String name;
  private final Side source;
  private final Map<String, TableMapping> mappings = new HashMap<>();
  private final SideWriter writer;
  private final List<SideWriter.Indexed> pending = new ArrayList<>();
  private long pendingIndex = Journal.NO_INDEX;

  private JdbcApplier(Builder builder) {
    this.name = builder.name;
    this.source = builder.source;
    for (TableMapping mapping : builder.mappings) {
      mappings.put(mapping.sourceTable().toLowerCase(Locale.ROOT), mapping);
    }
    this.writer = new SideWriter(name, name, TARGET, builder.target, mappings).rewritingReplays();
  }

  /** The side the writer writes: the target (its tables and columns are the mappings' target names). */
  private static final Side TARGET = Side.service("target");

  /**
   * Starts an applier.
   *
   * @param name its name, unique per target database (the checkpoint and the position row use it).
   * @param target the database written to.
   * @return a builder.
   */
  public static Builder builder(String name, DataSource target) {
    return new Builder(name, target);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public long durablePosition() throws SQLException {
    return writer.position();
  }

  @Override
  public void onChange(ChangeRecord change) {
    ChangeEvent event = change.decode();
    pendingIndex = change.journalIndex();
    if (source != null && !source.equals(event.side())) {
      return;
    }
    TableMapping mapping = mappings.get(event.table());
    if (mapping == null) {
      return;
    }
    for (String key : event.key().columns().keySet()) {
      if (mapping.targetColumn(key) == null) {
        throw new IllegalStateException("mapping of table " + event.table() + " drops key column " + key);
      }
    }
    ChangeEvent filtered = mapping.filtered(event);
    if (filtered != null) {
      Mirror.writes(TARGET, filtered, change.journalIndex(), false, pending);
    }
  }

  @Override
  public void onBatchEnd() throws SQLException {
    if (pendingIndex == Journal.NO_INDEX) {
      return;
    }
    writer.write(pending, pendingIndex);
    pending.clear();
    pendingIndex = Journal.NO_INDEX;
  }

  /** Closes the connection to the target. */
  @Override
  public void close() {
    writer.close();
  }

  /** Builds a {@link JdbcApplier}. Not thread-safe. */
  public static final class Builder {
    private final String name;
    private final DataSource target;
    private final List<TableMapping> mappings = new ArrayList<>();
    private Side source;

    private Builder(String name, DataSource target) {
      this.name = Objects.requireNonNull(name, "applier name");
      this.target = Objects.requireNonNull(target, "target");
    }

    /**
     * Adds table mappings.
     *
     * @param value the mappings.
     * @return this builder.
     */
    public Builder map(TableMapping... value) {
      mappings.addAll(List.of(value));
      return this;
    }

    /**
     * Applies only changes from this side (the other direction's changes are for another applier).
     *
     * @param value the source side.
     * @return this builder.
     */
    public Builder source(Side value) {
      this.source = value;
      return this;
    }

    /**
     * Validates and builds.
     *
     * @return the applier.
     */
    public JdbcApplier build() {
      if (mappings.isEmpty()) {
        throw new IllegalArgumentException("applier '" + name + "' maps no tables");
      }
      return new JdbcApplier(this);
    }
  }
}
