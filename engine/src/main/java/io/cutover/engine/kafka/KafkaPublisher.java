package io.cutover.engine.kafka;

import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.pipeline.ChangeHandler;
import io.cutover.engine.pipeline.ChangeRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * A pipeline stage that publishes every journaled change to Kafka: one topic per side and table
 * ({@code <prefix>.<side>.<table>}, the side {@code monolith} or the service's name),
 * keyed by the primary key so per-key order holds within a partition, in the {@link DebeziumEnvelope}. The producer
 * is idempotent with {@code acks=all}; a batch's checkpoint is taken only once Kafka acknowledged every record of
 * it, so a crash re-publishes rather than loses (consumers apply idempotently). One thread (the pipeline's).
 */
public final class KafkaPublisher implements ChangeHandler, AutoCloseable {
  private final String name;
  private final String topicPrefix;
  private final String database;
  private final KafkaProducer<byte[], byte[]> producer;
  private final List<Future<RecordMetadata>> sent = new ArrayList<>();

  /**
   * A publisher.
   *
   * @param name the handler's name (its journal checkpoint).
   * @param bootstrapServers Kafka's bootstrap servers.
   * @param topicPrefix the topics' prefix, e.g. {@code cutover.shop}.
   * @param database the source database's name, for the envelope's {@code source.db}.
   */
  public KafkaPublisher(String name, String bootstrapServers, String topicPrefix, String database) {
    this(name, bootstrapServers, topicPrefix, database, java.util.Map.of());
  }

  /**
   * A publisher with extra producer properties (security, compression, timeouts); {@code acks} and idempotence
   * are always Cutover's.
   *
   * @param name the handler's name (its journal checkpoint).
   * @param bootstrapServers Kafka's bootstrap servers.
   * @param topicPrefix the topics' prefix, e.g. {@code cutover.shop}.
   * @param database the source database's name, for the envelope's {@code source.db}.
   * @param clientProperties extra producer properties.
   */
  public KafkaPublisher(String name, String bootstrapServers, String topicPrefix, String database,
      java.util.Map<String, String> clientProperties) {
    this.name = name;
    this.topicPrefix = topicPrefix;
    this.database = database;
    Properties p = new Properties();
    p.put(ProducerConfig.LINGER_MS_CONFIG, 2);
    p.putAll(clientProperties);
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "cutover-" + name);
    producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
  }

  /**
   * The topic of a side's table.
   *
   * @param prefix the prefix.
   * @param side the side.
   * @param table the side's table.
   * @return {@code prefix.side.table} ({@code monolith} or the service's name), lower case.
   */
  public static String topic(String prefix, io.cutover.engine.event.Side side, String table) {
    return prefix + "." + (side.isMonolith() ? "monolith" : side.service()).toLowerCase(Locale.ROOT) + "."
        + table.toLowerCase(Locale.ROOT);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public void onChange(ChangeRecord change) {
    ChangeEvent event = change.decode();
    sent.add(producer.send(new ProducerRecord<>(topic(topicPrefix, event.side(), event.table()), DebeziumEnvelope.key(event),
        DebeziumEnvelope.value(event, database))));
  }

  @Override
  public void onBatchEnd() throws ExecutionException, InterruptedException {
    producer.flush();
    try {
      for (Future<RecordMetadata> ack : sent) {
        ack.get(); // throws if Kafka refused a record: the batch is handed over again
      }
    } finally {
      sent.clear();
    }
  }

  /** Flushes and closes the producer. */
  @Override
  public void close() {
    producer.close();
  }
}
