package io.cutover.engine.migration.internal;

import io.cutover.engine.backfill.Backfill;
import io.cutover.engine.config.MigrationConfig;
import io.cutover.engine.config.MigrationConfig.TableConfig;
import io.cutover.engine.event.Side;
import io.cutover.engine.kafka.KafkaCapture;
import io.cutover.engine.kafka.KafkaPublisher;
import io.cutover.engine.kafka.KafkaStateChangelog;
import io.cutover.engine.kafka.ServiceAssignor;
import io.cutover.engine.sync.BidirectionalSync;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;

/** How a migration with a {@code kafka} section is put together from the Kafka parts. */
public final class KafkaWiring {
  private KafkaWiring() {}

  /**
   * Each change topic of a Kafka migration, to the service whose sync consumes it (the backfill's watermarks to
   * none).
   *
   * @param config the configuration (with a Kafka section).
   * @return topic to service, in name order.
   */
  public static Map<String, String> topics(MigrationConfig config) {
    Map<String, String> units = new TreeMap<>();
    String prefix = config.kafka().topics();
    for (TableConfig table : config.tables()) {
      units.put(KafkaPublisher.topic(prefix, Side.MONOLITH, table.source()), table.service());
      if (table.bidirectional()) {
        units.put(KafkaPublisher.topic(prefix, Side.service(table.service()), table.target()), table.service());
      }
    }
    if (config.backfill() != null) {
      units.put(KafkaPublisher.topic(prefix, Side.MONOLITH, Backfill.WATERMARK_TABLE), "");
    }
    return units;
  }

  /**
   * The state changelog topic of a service's sync.
   *
   * @param kafka the Kafka section.
   * @param service the service.
   * @return {@code <prefix>.state.<service>}.
   */
  public static String stateTopic(MigrationConfig.KafkaSection kafka, String service) {
    return kafka.topics() + ".state." + service.toLowerCase(Locale.ROOT);
  }

  /**
   * A service sync's changelog, written under the service's transactional id (the same on every instance).
   *
   * @param kafka the Kafka section.
   * @param service the service.
   * @return the changelog.
   */
  public static KafkaStateChangelog changelog(MigrationConfig.KafkaSection kafka, String service) {
    return new KafkaStateChangelog(kafka.bootstrap(), stateTopic(kafka, service), "cutover-state-" + kafka.group()
        + "-" + service, kafka.properties());
  }

  /**
   * The consumer of an apply instance: the group's assignor hands out whole services, and each service given to
   * this instance is taken over (from its changelog) before any of its changes.
   *
   * @param kafka the Kafka section.
   * @param units topic to service.
   * @param syncs this instance's syncs, by service.
   * @return the capture, not started.
   */
  public static KafkaCapture consumer(MigrationConfig.KafkaSection kafka, Map<String, String> units,
      Map<String, BidirectionalSync> syncs) {
    KafkaCapture capture = new KafkaCapture(Side.MONOLITH, kafka.bootstrap(), kafka.group(),
        new ArrayList<>(units.keySet()));
    kafka.properties().forEach(capture::with);
    return capture.with(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, ServiceAssignor.class.getName())
        .with(ServiceAssignor.UNITS, ServiceAssignor.units(units))
        .onAssignment(partitions -> {
          Set<String> services = new TreeSet<>();
          partitions.forEach(p -> services.add(units.get(p.topic())));
          return services.stream().filter(syncs::containsKey).map(BidirectionalSync::takeOver).toList();
        });
  }

  /**
   * The database name of a JDBC URL (for the envelope's {@code source.db}).
   *
   * @param url the URL.
   * @return its last path element, without parameters.
   */
  public static String database(String url) {
    String path = url.replaceFirst("\\?.*$", "").replaceFirst(";.*$", "");
    return path.substring(Math.max(path.lastIndexOf('/'), path.lastIndexOf(':')) + 1);
  }

  /**
   * Deletes a directory and everything in it (nothing if it does not exist).
   *
   * @param dir the directory.
   * @throws IOException if something cannot be deleted.
   */
  public static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
