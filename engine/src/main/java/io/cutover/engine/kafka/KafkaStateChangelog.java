package io.cutover.engine.kafka;

import io.cutover.engine.sync.StateChangelog;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * A bi-directional sync's state in a compacted, single-partition Kafka topic ({@code <prefix>.state.<service>}),
 * written in Kafka transactions by a transactional producer whose id is the service's: the instance that takes the
 * service over fences the previous one (its next append fails before it writes anything to a database), then
 * reads the topic to its end (committed records only). Keys are the state map's name, a zero byte and the entry's
 * key; removed entries are tombstones, so compaction keeps exactly the live state.
 */
public final class KafkaStateChangelog implements StateChangelog {
  private final String topic;
  private final Properties producerProperties = new Properties();
  private final Properties consumerProperties = new Properties();
  private KafkaProducer<byte[], byte[]> producer;

  /**
   * A changelog.
   *
   * @param bootstrapServers Kafka's bootstrap servers.
   * @param topic the topic (compacted, one partition; see {@link KafkaTopics}).
   * @param transactionalId the writer's identity, the same on every instance for one service.
   * @param clientProperties extra client properties (security, timeouts), applied to both clients.
   */
  public KafkaStateChangelog(String bootstrapServers, String topic, String transactionalId,
      Map<String, String> clientProperties) {
    this.topic = topic;
    producerProperties.putAll(clientProperties);
    producerProperties.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    producerProperties.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    producerProperties.put(ProducerConfig.ACKS_CONFIG, "all");
    producerProperties.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    producerProperties.put(ProducerConfig.LINGER_MS_CONFIG, 0);
    consumerProperties.putAll(clientProperties);
    consumerProperties.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    consumerProperties.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    consumerProperties.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    consumerProperties.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 10_000);
  }

  @Override
  public void takeOver(Consumer<Entry> into) {
    close();
    KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(producerProperties, new ByteArraySerializer(),
        new ByteArraySerializer());
    try {
      p.initTransactions(); // fences the previous writer and completes or aborts its open transaction
    } catch (RuntimeException e) {
      p.close(Duration.ZERO);
      throw e;
    }
    producer = p;
    TopicPartition partition = new TopicPartition(topic, 0);
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(consumerProperties, new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      c.assign(List.of(partition));
      c.seekToBeginning(List.of(partition));
      long end = c.endOffsets(List.of(partition)).get(partition);
      while (c.position(partition) < end) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
          byte[] key = r.key();
          int zero = 0;
          while (zero < key.length && key[zero] != 0) {
            zero++;
          }
          into.accept(new Entry(new String(key, 0, zero, StandardCharsets.UTF_8),
              Arrays.copyOfRange(key, Math.min(zero + 1, key.length), key.length), r.value()));
        }
      }
    }
  }

  @Override
  public void append(List<Entry> entries) {
    KafkaProducer<byte[], byte[]> p = producer;
    if (p == null) {
      throw new IllegalStateException("the state changelog " + topic + " was not taken over by this instance");
    }
    try {
      p.beginTransaction();
      for (Entry e : entries) {
        byte[] name = e.map().getBytes(StandardCharsets.UTF_8);
        byte[] key = new byte[name.length + 1 + e.key().length];
        System.arraycopy(name, 0, key, 0, name.length);
        System.arraycopy(e.key(), 0, key, name.length + 1, e.key().length);
        p.send(new ProducerRecord<>(topic, 0, key, e.value()));
      }
      p.commitTransaction(); // flushes; throws if any record failed or another instance fenced this one
    } catch (KafkaException e) {
      try {
        p.abortTransaction();
      } catch (RuntimeException ignored) {
        // fenced or broken: the producer is closed below, the next take-over opens a new one
      }
      close();
      throw e;
    }
  }

  @Override
  public void close() {
    if (producer != null) {
      producer.close(Duration.ofSeconds(5));
      producer = null;
    }
  }
}
