package io.cutover.engine.migration;

import io.cutover.engine.apply.JdbcApplier;
import io.cutover.engine.apply.TableMapping;
import io.cutover.engine.capture.ChangeCapture;
import io.cutover.engine.capture.PostgresLogicalCapture;
import io.cutover.engine.capture.TriggerCapture;
import io.cutover.engine.config.ConfigChecker;
import io.cutover.engine.config.MigrationConfig;
import io.cutover.engine.config.MigrationConfig.SideConfig;
import io.cutover.engine.config.MigrationConfig.TableConfig;
import io.cutover.engine.db.DataSources;
import io.cutover.engine.event.Side;
import io.cutover.engine.pipeline.ChangeHandler;
import io.cutover.engine.pipeline.Pipeline;
import io.cutover.engine.pipeline.PipelineConfig;
import io.cutover.journal.JournalConfig;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * One-way sync from the monolith into every configured service, assembled from a {@link MigrationConfig}:
 * the configuration is checked against the databases first (nothing is written if it is wrong), then capture is
 * installed on the monolith, one applier per service is built from the table mappings, the pipeline starts
 * (replaying what an earlier run left unapplied), and capture starts. Thread-safe to close from any thread.
 */
public final class Migration implements AutoCloseable {
  private final MigrationConfig config;
  private final ChangeCapture capture;
  private final Pipeline pipeline;
  private final List<JdbcApplier> appliers;

  private Migration(MigrationConfig config, ChangeCapture capture, Pipeline pipeline, List<JdbcApplier> appliers) {
    this.config = config;
    this.capture = capture;
    this.pipeline = pipeline;
    this.appliers = appliers;
  }

  /**
   * Checks the configuration, installs capture and starts syncing.
   *
   * @param config a loaded configuration.
   * @return the running migration.
   * @throws io.cutover.engine.config.ConfigException if the configuration does not fit the databases.
   * @throws SQLException if installing capture fails.
   */
  public static Migration start(MigrationConfig config) throws SQLException {
    ConfigChecker.verify(config);
    ChangeCapture capture = capture(config);
    capture.install();
    Map<String, List<TableMapping>> mappings = new LinkedHashMap<>();
    for (TableConfig table : config.tables()) {
      TableMapping mapping = TableMapping.renamed(table.source(), table.target());
      if (!table.columns().isEmpty()) {
        mapping = mapping.withColumns(table.columns());
      }
      if (!table.filter().isEmpty()) {
        mapping = mapping.withFilter(table.filter());
      }
      mappings.computeIfAbsent(table.service(), s -> new ArrayList<>()).add(mapping);
    }
    List<JdbcApplier> appliers = new ArrayList<>();
    for (Map.Entry<String, List<TableMapping>> service : mappings.entrySet()) {
      SideConfig side = config.services().get(service.getKey());
      appliers.add(JdbcApplier.builder("to-" + service.getKey(),
              DataSources.of(side.url(), side.user(), side.password()))
          .source(Side.MONOLITH)
          .map(service.getValue().toArray(new TableMapping[0]))
          .build());
    }
    Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.builder(config.journalDirectory())
            .syncPolicy(config.sync()).build()).build())
        .apply(appliers.toArray(new ChangeHandler[0]))
        .start();
    capture.start(pipeline);
    return new Migration(config, capture, pipeline, appliers);
  }

  private static ChangeCapture capture(MigrationConfig config) {
    SideConfig monolith = config.monolith();
    String[] tables = config.tables().stream().map(TableConfig::source).distinct().toArray(String[]::new);
    if (monolith.capture() == MigrationConfig.CaptureMethod.LOGICAL) {
      Properties credentials = new Properties();
      if (!monolith.user().isEmpty()) {
        credentials.setProperty("user", monolith.user());
      }
      if (!monolith.password().isEmpty()) {
        credentials.setProperty("password", monolith.password());
      }
      return PostgresLogicalCapture.builder(Side.MONOLITH, monolith.url(), credentials).tables(tables).build();
    }
    return TriggerCapture.builder(Side.MONOLITH, DataSources.of(monolith.url(), monolith.user(),
        monolith.password())).tables(tables).build();
  }

  /**
   * The pipeline (for status and statistics).
   *
   * @return the pipeline.
   */
  public Pipeline pipeline() {
    return pipeline;
  }

  /**
   * The monolith's capture.
   *
   * @return the capture.
   */
  public ChangeCapture capture() {
    return capture;
  }

  /**
   * The configuration it runs.
   *
   * @return the configuration.
   */
  public MigrationConfig config() {
    return config;
  }

  /** Stops capture, drains the pipeline into the services, and closes everything. */
  @Override
  public void close() {
    capture.close();
    pipeline.close();
    appliers.forEach(JdbcApplier::close);
  }
}
