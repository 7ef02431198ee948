package io.cutover.engine.kafka;

import io.cutover.engine.apply.JdbcApplier;
import io.cutover.engine.apply.TableMapping;
import io.cutover.engine.db.DataSources;
import io.cutover.engine.event.Side;
import io.cutover.engine.pipeline.Pipeline;
import io.cutover.engine.pipeline.PipelineConfig;
import io.cutover.journal.JournalConfig;
import java.nio.file.Path;
import java.util.List;

/**
 * One engine instance for the scale-out test, in a JVM of its own: consumes its share of a topic's partitions
 * through the consumer group, journals and applies them to the service. Runs until killed.
 */
public final class KafkaEngineWorker {
  private KafkaEngineWorker() {}

  /**
   * Runs an instance.
   *
   * @param args bootstrap servers, group, topic, service JDBC URL, journal directory, instance name.
   * @throws Exception if it cannot start.
   */
  public static void main(String[] args) throws Exception {
    JdbcApplier applier = JdbcApplier.builder(args[5], DataSources.of(args[3], "postgres", "")).source(Side.MONOLITH)
        .map(TableMapping.identity("versions")).map(TableMapping.identity("log")).build();
    Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(Path.of(args[4]))).build())
        .apply(applier).start();
    KafkaCapture capture = new KafkaCapture(Side.MONOLITH, args[0], args[1], List.of(args[2]))
        .with("session.timeout.ms", 6_000).with("heartbeat.interval.ms", 1_000)
        .with("client.id", args[5]);
    capture.start(pipeline);
    System.out.println("ready " + args[5]);
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
