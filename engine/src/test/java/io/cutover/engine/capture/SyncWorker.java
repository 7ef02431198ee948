package io.cutover.engine.capture;

import io.cutover.engine.apply.JdbcApplier;
import io.cutover.engine.apply.TableMapping;
import io.cutover.engine.db.DataSources;
import io.cutover.engine.event.Side;
import io.cutover.engine.pipeline.ChangeHandler;
import io.cutover.engine.pipeline.ChangeRecord;
import io.cutover.engine.pipeline.Pipeline;
import io.cutover.engine.pipeline.PipelineConfig;
import io.cutover.journal.JournalConfig;
import io.cutover.journal.SyncPolicy;
import java.nio.file.Path;
import java.util.Properties;

/**
 * The engine process the sync crash property kills: capture of the monolith's {@code stock} table (logical
 * decoding on PostgreSQL, triggers on H2), journaled, applied to the service. Run as
 * {@code SyncWorker MONOLITH_URL SERVICE_URL JOURNAL_DIR SLOT}.
 */
public final class SyncWorker {
  private SyncWorker() {}

  /**
   * Runs until killed.
   *
   * @param args monolith JDBC URL, service JDBC URL, journal directory, replication slot name.
   * @throws Exception on failure.
   */
  public static void main(String[] args) throws Exception {
    boolean h2 = args[0].startsWith("jdbc:h2:");
    String userName = h2 ? "sa" : "postgres";
    ChangeCapture capture;
    if (h2) {
      capture = TriggerCapture.builder(Side.MONOLITH, DataSources.of(args[0], userName, "")).tables("stock")
          .pollInterval(java.time.Duration.ofMillis(2)).build();
    } else {
      Properties user = new Properties();
      user.setProperty("user", userName);
      capture = PostgresLogicalCapture.builder(Side.MONOLITH, args[0], user).tables("stock")
          .slot(args[3]).replicaIdentityFull(true).heartbeat(java.time.Duration.ofMillis(500)).build();
    }
    capture.install();
    javax.sql.DataSource service = DataSources.of(args[1], userName, "");
    JdbcApplier applier = JdbcApplier.builder("stock-apply", service).map(TableMapping.identity("stock")).build();
    // A slow commit widens the window in which changes are journaled but not yet applied, where a crash tests
    // replay from the journal rather than re-delivery from the replication slot.
    ChangeHandler slowApply = new ChangeHandler() {
      @Override
      public String name() {
        return applier.name();
      }

      @Override
      public long durablePosition() throws Exception {
        return applier.durablePosition();
      }

      @Override
      public void onChange(ChangeRecord change) {
        applier.onChange(change);
      }

      @Override
      public void onBatchEnd() throws Exception {
        Thread.sleep(200);
        applier.onBatchEnd();
      }
    };
    Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(
            JournalConfig.builder(Path.of(args[2])).syncPolicy(SyncPolicy.NONE).build()).ringSize(1024).build())
        .apply(slowApply).start();
    capture.start(pipeline);
    System.out.println("READY");
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
