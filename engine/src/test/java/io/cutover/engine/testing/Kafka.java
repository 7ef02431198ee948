package io.cutover.engine.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * A real Kafka broker for tests (KRaft, broker and controller in one node), started by the test run itself in a
 * JVM of its own from the test classpath: storage formatted with {@code kafka.tools.StorageTool}, then
 * {@code kafka.Kafka}. One per test JVM, stopped with it.
 */
public final class Kafka {
  private static String bootstrap;
  private static Process broker;

  private Kafka() {}

  /**
   * The broker's bootstrap address, starting the broker on first use.
   *
   * @return {@code 127.0.0.1:PORT}.
   */
  public static synchronized String bootstrap() {
    if (bootstrap == null) {
      try {
        start();
      } catch (Exception e) {
        throw new IllegalStateException("the test Kafka broker did not start: " + e.getMessage(), e);
      }
    }
    return bootstrap;
  }

  private static void start() throws Exception {
    Path dir = Files.createTempDirectory("cutover-kafka");
    int port = TestSupport.freePort();
    int controller = TestSupport.freePort();
    Path config = Files.writeString(dir.resolve("server.properties"), String.join("\n",
        "process.roles=broker,controller", "node.id=1",
        "controller.quorum.voters=1@127.0.0.1:" + controller,
        "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controller,
        "advertised.listeners=PLAINTEXT://127.0.0.1:" + port,
        "controller.listener.names=CONTROLLER", "inter.broker.listener.name=PLAINTEXT",
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs=" + dir.resolve("logs"), "offsets.topic.replication.factor=1", "offsets.topic.num.partitions=3",
        "transaction.state.log.num.partitions=3",
        "transaction.state.log.replication.factor=1", "transaction.state.log.min.isr=1",
        "share.coordinator.state.topic.replication.factor=1", "share.coordinator.state.topic.min.isr=1",
        "group.initial.rebalance.delay.ms=0", "log.cleaner.dedupe.buffer.size=2097152", "num.partitions=3", ""));
    String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
    String classpath = System.getProperty("java.class.path");
    Process format = new ProcessBuilder(java, "-cp", classpath, "kafka.tools.StorageTool", "format", "-t",
        UUID.randomUUID().toString().replace("-", "").substring(0, 22), "-c", config.toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("format.log").toFile()).start();
    if (format.waitFor() != 0) {
      throw new IllegalStateException("formatting Kafka's storage failed: " + Files.readString(dir.resolve(
          "format.log")));
    }
    broker = new ProcessBuilder(java, "-Xmx384m", "-Dlog4j2.level=warn", "-cp", classpath, "kafka.Kafka",
        config.toString()).redirectErrorStream(true).redirectOutput(dir.resolve("broker.log").toFile()).start();
    Process started = broker;
    Runtime.getRuntime().addShutdownHook(new Thread(started::destroyForcibly));
    Properties p = new Properties();
    p.put("bootstrap.servers", "127.0.0.1:" + port);
    try (Admin admin = Admin.create(p)) {
      long deadline = System.nanoTime() + 90_000_000_000L;
      while (true) {
        try {
          admin.describeCluster().nodes().get();
          break;
        } catch (Exception e) {
          if (System.nanoTime() > deadline || !broker.isAlive()) {
            throw new IllegalStateException("no broker at 127.0.0.1:" + port + "; its log: " + dir.resolve(
                "broker.log"), e);
          }
          Thread.sleep(200);
        }
      }
    }
    bootstrap = "127.0.0.1:" + port;
  }

  /**
   * Creates topics.
   *
   * @param partitions partitions per topic.
   * @param names the topics.
   * @throws Exception if Kafka refuses.
   */
  public static void createTopics(int partitions, String... names) throws Exception {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap());
    try (Admin admin = Admin.create(p)) {
      admin.createTopics(java.util.Arrays.stream(names).map(n -> new NewTopic(n, partitions, (short) 1)).toList())
          .all().get();
    }
  }
}
