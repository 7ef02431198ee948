package io.cutover.engine.capture;

import io.cutover.engine.apply.JdbcApplier;
import io.cutover.engine.apply.TableMapping;
import io.cutover.engine.event.Side;
import io.cutover.engine.pipeline.ChangeHandler;
import io.cutover.engine.pipeline.ChangeRecord;
import io.cutover.engine.pipeline.Pipeline;
import io.cutover.engine.pipeline.PipelineConfig;
import io.cutover.journal.JournalConfig;
import io.cutover.journal.SyncPolicy;
import java.nio.file.Path;
import java.util.Properties;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The engine process the sync crash property kills: logical capture of the monolith's {@code stock} table,
 * journaled, applied to the service. Run as {@code SyncWorker MONOLITH_URL SERVICE_URL JOURNAL_DIR SLOT}.
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
    Properties user = new Properties();
    user.setProperty("user", "postgres");
    PostgresLogicalCapture capture = PostgresLogicalCapture.builder(Side.MONOLITH, args[0], user).tables("stock")
        .slot(args[3]).replicaIdentityFull(true).heartbeat(java.time.Duration.ofMillis(500)).build();
    capture.install();
    PGSimpleDataSource service = new PGSimpleDataSource();
    service.setURL(args[1]);
    service.setUser("postgres");
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
