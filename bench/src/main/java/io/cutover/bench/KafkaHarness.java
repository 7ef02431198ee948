package io.cutover.bench;

import io.cutover.engine.apply.JdbcApplier;
import io.cutover.engine.apply.TableMapping;
import io.cutover.engine.db.DataSources;
import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.Operation;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import io.cutover.engine.event.Value;
import io.cutover.engine.kafka.DebeziumEnvelope;
import io.cutover.engine.kafka.KafkaCapture;
import io.cutover.engine.kafka.KafkaPublisher;
import io.cutover.engine.pipeline.Pipeline;
import io.cutover.engine.pipeline.PipelineConfig;
import io.cutover.journal.JournalConfig;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import javax.sql.DataSource;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Changes through Kafka with 1, 2 and 3 engine instances (separate JVMs in one consumer group, each journaling and
 * applying its partitions into PostgreSQL), next to the direct path (the same changes published into one
 * pipeline and applied, no Kafka), in one run. RATE changes/s for SECONDS; each change inserts a row that records
 * when it was sent, and PostgreSQL stamps when it was applied, so latency is applied minus sent, over every row.
 * Starts its own PostgreSQL and Kafka broker.
 *
 * <pre>
 * java $FLAGS -Xmx1g -cp bench/target/benchmarks.jar io.cutover.bench.KafkaHarness [RATE] [SECONDS]
 * </pre>
 */
public final class KafkaHarness {
  private KafkaHarness() {}

  /** One engine instance (forked): consume the topic through the group, journal, apply. */
  public static final class Engine {
    private Engine() {}

    /**
     * Runs until killed.
     *
     * @param args bootstrap, group, topic, JDBC URL, journal directory, name.
     * @throws Exception if it cannot start.
     */
    public static void main(String[] args) throws Exception {
      JdbcApplier applier = JdbcApplier.builder(args[5], DataSources.of(args[3], "postgres", ""))
          .source(Side.MONOLITH).map(TableMapping.identity("events")).build();
      Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(Path.of(args[4]))).build())
          .apply(applier).start();
      new KafkaCapture(Side.MONOLITH, args[0], args[1], List.of(args[2])).with("session.timeout.ms", 6_000)
          .start(pipeline);
      System.out.println("ready");
      System.out.flush();
      Thread.sleep(Long.MAX_VALUE);
    }
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /**
   * Runs it.
   *
   * @param args rate, seconds.
   * @throws Exception on failure.
   */
  public static void main(String[] args) throws Exception {
    int rate = args.length > 0 ? Integer.parseInt(args[0]) : 2_000;
    int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    Path dir = Files.createTempDirectory("cutover-kafka-bench");
    String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
    String classpath = System.getProperty("java.class.path");
    int port = freePort();
    int controller = freePort();
    Path config = Files.writeString(dir.resolve("server.properties"), String.join("\n",
        "process.roles=broker,controller", "node.id=1", "controller.quorum.voters=1@127.0.0.1:" + controller,
        "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controller,
        "advertised.listeners=PLAINTEXT://127.0.0.1:" + port, "controller.listener.names=CONTROLLER",
        "inter.broker.listener.name=PLAINTEXT", "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs=" + dir.resolve("kafka"), "offsets.topic.replication.factor=1",
        "transaction.state.log.replication.factor=1", "transaction.state.log.min.isr=1",
        "share.coordinator.state.topic.replication.factor=1", "share.coordinator.state.topic.min.isr=1",
        "group.initial.rebalance.delay.ms=0", "log.cleaner.dedupe.buffer.size=2097152", ""));
    new ProcessBuilder(java, "-cp", classpath, "kafka.tools.StorageTool", "format", "-t", "q1Sh-9_ISia_zwGINzRvyQ",
        "-c", config.toString()).redirectErrorStream(true).redirectOutput(dir.resolve("format.log").toFile())
        .start().waitFor();
    Process broker = new ProcessBuilder(java, "-Xmx512m", "-cp", classpath, "kafka.Kafka", config.toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("broker.log").toFile()).start();
    String bootstrap = "127.0.0.1:" + port;
    System.out.printf("JDK %s, %d cores; %,d changes/s for %d s per run%n", System.getProperty("java.version"),
        Runtime.getRuntime().availableProcessors(), rate, seconds);
    try (EmbeddedPostgres pg = BenchEvents.postgres(dir)) {
      DataSource service = pg.getDatabase("postgres", "service");
      String url = pg.getJdbcUrl("postgres", "service");
      Properties p = new Properties();
      p.put("bootstrap.servers", bootstrap);
      try (Admin admin = Admin.create(p)) {
        long deadline = System.nanoTime() + 90_000_000_000L;
        while (true) {
          try {
            admin.describeCluster().nodes().get();
            break;
          } catch (Exception e) {
            if (System.nanoTime() > deadline) {
              throw e;
            }
            Thread.sleep(200);
          }
        }
        direct(service, dir, rate, seconds);
        for (int instances = 1; instances <= 3; instances++) {
          String topic = "bench" + instances;
          admin.createTopics(List.of(new NewTopic(topic, 6, (short) 1))).all().get();
          viaKafka(service, url, bootstrap, topic, dir, rate, seconds, instances, java, classpath);
        }
      }
    } finally {
      broker.destroyForcibly();
    }
  }

  private static void reset(DataSource service) throws Exception {
    try (Connection c = service.getConnection(); Statement st = c.createStatement()) {
      st.execute("DROP TABLE IF EXISTS events");
      st.execute("CREATE TABLE events (id BIGINT PRIMARY KEY, sent_micros BIGINT NOT NULL, "
          + "applied_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())");
    }
  }

  private static ChangeEvent event(long id) {
    long now = System.currentTimeMillis() * 1_000 + (System.nanoTime() / 1_000) % 1_000;
    return ChangeEvent.builder(Side.MONOLITH, "events", Operation.INSERT).key(Row.of("id", Value.of(id)))
        .after(Row.of("id", Value.of(id), "sent_micros", Value.of(now))).build();
  }

  private static void direct(DataSource service, Path dir, int rate, int seconds) throws Exception {
    reset(service);
    try (JdbcApplier applier = JdbcApplier.builder("direct", service).source(Side.MONOLITH)
             .map(TableMapping.identity("events")).build();
         Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(dir.resolve("direct")))
             .build()).apply(applier).start()) {
      warmUp(service, rate, id -> pipeline.publish(event(id)));
      long total = paced(rate, seconds, id -> pipeline.publish(event(id)));
      report("direct (no Kafka)", service, total);
    }
  }

  private static void viaKafka(DataSource service, String url, String bootstrap, String topic, Path dir, int rate,
      int seconds, int instances, String java, String classpath) throws Exception {
    reset(service);
    List<Process> engines = new ArrayList<>();
    try {
      String group = "bench-" + UUID.randomUUID();
      for (int i = 1; i <= instances; i++) {
        List<String> command = new ArrayList<>(List.of(java));
        // the engine needs the same JVM flags as this harness (Chronicle Queue's module opens)
        ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
            .filter(a -> a.startsWith("--add-") || a.startsWith("-XX:") || a.startsWith("-D")).forEach(command::add);
        command.addAll(List.of("-Xmx256m", "-cp", classpath, Engine.class.getName(), bootstrap, group, topic, url,
            dir.resolve(topic + "-" + i).toString(), topic + "-engine-" + i));
        Process engine = new ProcessBuilder(command).redirectErrorStream(true).start();
        engines.add(engine);
        java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(
            engine.getInputStream()));
        String line;
        StringBuilder startup = new StringBuilder();
        while ((line = out.readLine()) != null && !line.equals("ready")) {
          startup.append(line).append('\n');
        }
        if (line == null) {
          throw new IllegalStateException("engine " + i + " did not start:\n" + startup);
        }
        Thread drain = new Thread(() -> {
          try {
            while (out.readLine() != null) {
              // keep the pipe open
            }
          } catch (java.io.IOException ignored) {
            // gone
          }
        });
        drain.setDaemon(true);
        drain.start();
      }
      Thread.sleep(3_000); // the group settles its partitions
      Properties p = new Properties();
      p.put("bootstrap.servers", bootstrap);
      p.put("acks", "all");
      p.put("enable.idempotence", true);
      p.put("linger.ms", 2);
      try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
          new ByteArraySerializer())) {
        Send send = id -> {
          ChangeEvent e = event(id);
          producer.send(new ProducerRecord<>(topic, DebeziumEnvelope.key(e), DebeziumEnvelope.value(e, "bench")));
        };
        warmUp(service, rate, send);
        long total = paced(rate, seconds, send);
        producer.flush();
        report("through Kafka, " + instances + " instance" + (instances == 1 ? "" : "s"), service, total);
      }
    } finally {
      engines.forEach(Process::destroyForcibly);
    }
  }

  /**
   * Two seconds at the rate before measuring, applied and then deleted: JIT compilation, connection pools and
   * the consumer group's first fetches are not what the run measures.
   */
  private static void warmUp(DataSource service, int rate, Send send) throws Exception {
    long warm = paced(rate, 2, id -> send.send(WARM_UP_IDS + id));
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (System.nanoTime() < deadline) {
      try (Connection c = service.getConnection(); Statement st = c.createStatement();
           ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM events")) {
        rs.next();
        if (rs.getLong(1) >= warm) {
          break;
        }
      }
      Thread.sleep(100);
    }
    try (Connection c = service.getConnection(); Statement st = c.createStatement()) {
      st.execute("DELETE FROM events");
    }
  }

  private static final long WARM_UP_IDS = 1_000_000_000L;

  private interface Send {
    void send(long id) throws Exception;
  }

  private static long paced(int rate, int seconds, Send send) throws Exception {
    long start = System.nanoTime();
    long total = (long) rate * seconds;
    for (long id = 1; id <= total; id++) {
      long due = start + (id - 1) * 1_000_000_000L / rate;
      long wait = due - System.nanoTime();
      if (wait > 200_000) {
        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
      }
      send.send(id);
    }
    return total;
  }

  private static void report(String label, DataSource service, long total) throws Exception {
    long deadline = System.nanoTime() + 120_000_000_000L;
    long applied = 0;
    while (applied < total && System.nanoTime() < deadline) {
      try (Connection c = service.getConnection(); Statement st = c.createStatement();
           ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM events")) {
        rs.next();
        applied = rs.getLong(1);
      }
      Thread.sleep(100);
    }
    try (Connection c = service.getConnection(); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY l), "
             + "percentile_cont(0.95) WITHIN GROUP (ORDER BY l), percentile_cont(0.99) WITHIN GROUP (ORDER BY l), "
             + "max(l), (max(extract(epoch FROM applied_at)) - min(sent_micros) / 1e6) FROM (SELECT "
             + "extract(epoch FROM applied_at) * 1e3 - sent_micros / 1e3 AS l, applied_at, sent_micros FROM events) x")) {
      rs.next();
      System.out.printf("%-28s applied %,d of %,d; p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms; %,.0f "
          + "changes/s end to end%n", label, applied, total, rs.getDouble(1), rs.getDouble(2), rs.getDouble(3),
          rs.getDouble(4), applied / rs.getDouble(5));
    }
  }
}
