package io.cutover.engine.kafka;

import static io.cutover.engine.testing.TestSupport.exec;
import static io.cutover.engine.testing.TestSupport.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.Operation;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import io.cutover.engine.event.Value;
import io.cutover.engine.testing.Kafka;
import io.cutover.engine.testing.Postgres;
import io.cutover.engine.testing.TestSupport;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import javax.sql.DataSource;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three engine instances in separate JVMs share one topic through a consumer group; one is killed with SIGKILL
 * while records flow. The survivors take over its partitions from the group's committed offsets (written only
 * for what an instance had journaled) and every key ends at its last version: nothing lost, per-key order kept
 * (a key lives in one partition, consumed by one instance at a time), re-delivered records absorbed by idempotent
 * apply.
 */
@Timeout(240)
class KafkaScaleOutTest {
  private static final int KEYS = 60;
  private static final int VERSIONS = 60;
  @TempDir Path dir;

  @Test
  void threeInstancesShareAMigrationAndTheSurvivorsFinishAfterOneIsKilled() throws Exception {
    String topic = "scale" + UUID.randomUUID().toString().substring(0, 6) + ".versions";
    Kafka.createTopics(6, topic);
    DataSource service = Postgres.newDatabase("kafka_scale");
    exec(service, "CREATE TABLE versions (k BIGINT PRIMARY KEY, v BIGINT NOT NULL)",
        "CREATE TABLE log (k BIGINT, v BIGINT, PRIMARY KEY (k, v))");
    String url = TestSupport.url(service);
    String group = "scale-" + UUID.randomUUID();
    List<Process> engines = new ArrayList<>();
    try {
      for (int i = 1; i <= 3; i++) {
        Process p = new ProcessBuilder(TestSupport.javaCommand(KafkaEngineWorker.class, Kafka.bootstrap(), group,
            topic, url, dir.resolve("journal-" + i).toString(), "engine-" + i)).redirectErrorStream(true).start();
        engines.add(p);
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = out.readLine()) != null && !line.startsWith("ready")) {
          // its start-up output
        }
        assertTrue(line != null, "engine " + i + " started");
        Thread drain = new Thread(() -> {
          try {
            while (out.readLine() != null) {
              // keep its pipe from filling
            }
          } catch (java.io.IOException ignored) {
            // it was killed
          }
        });
        drain.setDaemon(true);
        drain.start();
      }
      Properties props = new Properties();
      props.put("bootstrap.servers", Kafka.bootstrap());
      props.put("acks", "all");
      props.put("enable.idempotence", true);
      try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props, new ByteArraySerializer(),
          new ByteArraySerializer())) {
        for (int v = 1; v <= VERSIONS; v++) {
          for (int k = 1; k <= KEYS; k++) {
            ChangeEvent e = ChangeEvent.builder(Side.MONOLITH, "versions", Operation.UPDATE)
                .key(Row.of("k", Value.of((long) k))).before(Row.of("k", Value.of((long) k), "v",
                    Value.of((long) v - 1))).after(Row.of("k", Value.of((long) k), "v", Value.of((long) v)))
                .commitTimeMicros(System.currentTimeMillis() * 1000).build();
            producer.send(new ProducerRecord<>(topic, DebeziumEnvelope.key(e), DebeziumEnvelope.value(e, "shop")));
            ChangeEvent logged = ChangeEvent.builder(Side.MONOLITH, "log", Operation.INSERT)
                .key(Row.of("k", Value.of((long) k), "v", Value.of((long) v)))
                .after(Row.of("k", Value.of((long) k), "v", Value.of((long) v))).build();
            producer.send(new ProducerRecord<>(topic, DebeziumEnvelope.key(logged),
                DebeziumEnvelope.value(logged, "shop")));
          }
          producer.flush();
          if (v == VERSIONS / 3) {
            engines.get(1).destroyForcibly(); // SIGKILL mid-stream
            engines.get(1).waitFor();
          }
          Thread.sleep(20);
        }
      }
      List<String> expected = new ArrayList<>();
      for (int k = 1; k <= KEYS; k++) {
        expected.add(k + "|" + VERSIONS);
      }
      long deadline = System.nanoTime() + 120_000_000_000L;
      while (!rows(service, "SELECT k, v FROM versions ORDER BY k").equals(expected) && System.nanoTime() < deadline) {
        Thread.sleep(200);
      }
      assertEquals(expected, rows(service, "SELECT k, v FROM versions ORDER BY k"),
          "every key at its last version: the killed instance's partitions were taken over");
      while (!rows(service, "SELECT COUNT(*) FROM log").equals(List.of(Integer.toString(KEYS * VERSIONS)))
          && System.nanoTime() < deadline) {
        Thread.sleep(200);
      }
      assertEquals(List.of(Integer.toString(KEYS * VERSIONS)), rows(service, "SELECT COUNT(*) FROM log"),
          "every record applied, those the killed instance had journaled but not applied included");
      assertTrue(engines.get(0).isAlive() && engines.get(2).isAlive(), "the survivors ran on");
    } finally {
      engines.forEach(Process::destroyForcibly);
    }
  }
}
