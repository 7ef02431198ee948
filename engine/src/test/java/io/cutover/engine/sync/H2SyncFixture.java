package io.cutover.engine.sync;

import static io.cutover.engine.testing.TestSupport.rows;

import io.cutover.engine.capture.TriggerCapture;
import io.cutover.engine.event.Side;
import io.cutover.engine.pipeline.Pipeline;
import io.cutover.engine.pipeline.PipelineConfig;
import io.cutover.journal.JournalConfig;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.UUID;
import java.util.function.Consumer;
import org.h2.jdbcx.JdbcDataSource;

/** A monolith and a service on embedded H2, trigger capture on both, one pipeline, bi-directional sync. */
public final class H2SyncFixture implements AutoCloseable {
  public final JdbcDataSource monolith = h2("monolith");
  public final JdbcDataSource service = h2("service");
  /** The checksum stage's clock (validation reads it). */
  public final io.cutover.engine.validate.ChangeClock clock =
      io.cutover.engine.validate.ChangeClock.trackingKeys(100_000);
  private final Path dir;
  private final String serviceName;
  private final String[] monolithTables;
  private final String[] serviceTables;
  private final Consumer<BidirectionalSync.Builder> tables;
  TriggerCapture monolithCapture;
  TriggerCapture serviceCapture;
  public Pipeline pipeline;
  public BidirectionalSync sync;

  public H2SyncFixture(Path dir, String serviceName, String[] monolithTables, String[] serviceTables,
      Consumer<BidirectionalSync.Builder> tables) {
    this.dir = dir;
    this.serviceName = serviceName;
    this.monolithTables = monolithTables;
    this.serviceTables = serviceTables;
    this.tables = tables;
  }

  public static JdbcDataSource h2(String name) {
    JdbcDataSource ds = new JdbcDataSource();
    ds.setURL("jdbc:h2:mem:" + name + "-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
    return ds;
  }

  /** Installs capture on both sides (tables must exist) and starts everything. */
  public void start() throws SQLException {
    start(null);
  }

  /**
   * Installs capture on both sides and starts everything, the monolith's capture feeding an online backfill's
   * watermarked pipeline (the backfill's tables installed here too); run the backfill afterwards.
   *
   * @param backfill the backfill, or null for none.
   * @throws SQLException if capture cannot be installed.
   */
  public void start(io.cutover.engine.backfill.Backfill backfill) throws SQLException {
    BidirectionalSync.Builder builder = BidirectionalSync.builder(serviceName, monolith, service,
        dir.resolve("state")).syncState(false);
    tables.accept(builder);
    sync = builder.build();
    pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(dir.resolve("journal")))
        .ringSize(1024).retryBackoff(Duration.ofMillis(5), Duration.ofMillis(50)).build()).apply(sync).checksum(clock).start();
    String[] captured = monolithTables;
    if (backfill != null) {
      backfill.install();
      captured = java.util.Arrays.copyOf(monolithTables, monolithTables.length + 1);
      captured[monolithTables.length] = io.cutover.engine.backfill.Backfill.WATERMARK_TABLE;
    }
    monolithCapture = TriggerCapture.builder(Side.MONOLITH, monolith).tables(captured)
        .pollInterval(Duration.ofMillis(2)).build();
    serviceCapture = TriggerCapture.builder(Side.service(serviceName), service).tables(serviceTables)
        .pollInterval(Duration.ofMillis(2)).build();
    monolithCapture.install();
    serviceCapture.install();
    monolithCapture.start(backfill == null ? pipeline : backfill.watermarked(pipeline));
    serviceCapture.start(pipeline);
  }

  /** Starts the monolith's capture again after a test closed it (to let changes pile up on that side). */
  void restartMonolithCapture() {
    monolithCapture = TriggerCapture.builder(Side.MONOLITH, monolith).tables(monolithTables)
        .pollInterval(Duration.ofMillis(2)).build();
    monolithCapture.start(pipeline);
  }

  /** Starts the service's capture again after a test closed it. */
  void restartServiceCapture() {
    serviceCapture = TriggerCapture.builder(Side.service(serviceName), service).tables(serviceTables)
        .pollInterval(Duration.ofMillis(2)).build();
    serviceCapture.start(pipeline);
  }

  /** Waits until both change tables are drained and the pipeline has handled everything, twice over. */
  public void awaitQuiet() throws Exception {
    awaitQuiet(monolith, service);
  }

  /** Waits until the given sides' change tables are drained and the pipeline has handled everything. */
  void awaitQuiet(JdbcDataSource... sides) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    int quietRounds = 0;
    while (quietRounds < 3) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("sync did not settle: " + pipeline.stats());
      }
      boolean drained = true;
      for (JdbcDataSource side : sides) {
        drained &= rows(side, "SELECT COUNT(*) FROM cutover_changes").equals(java.util.List.of("0"));
      }
      drained = drained && pipeline.awaitIdle(Duration.ofSeconds(5));
      quietRounds = drained ? quietRounds + 1 : 0;
      Thread.sleep(20);
    }
  }

  /** Stops capture, drains and closes the pipeline and the sync. */
  void stop() {
    if (monolithCapture != null) {
      monolithCapture.close();
      monolithCapture = null;
    }
    if (serviceCapture != null) {
      serviceCapture.close();
      serviceCapture = null;
    }
    if (pipeline != null) {
      pipeline.close();
      sync.close();
      pipeline = null;
    }
  }

  @Override
  public void close() {
    stop();
  }
}
