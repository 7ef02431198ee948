package io.cutover.engine.kafka;

import io.cutover.engine.capture.ChangeCapture;
import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.Side;
import io.cutover.engine.pipeline.Pipeline;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Capture from Kafka topics: Cutover's own ({@link KafkaPublisher}) or an existing Debezium connector's, so a team
 * can put Cutover's resolve, apply and validate stages behind the capture it already runs. Records are published
 * into the pipeline in partition order (per-key order holds); their offsets are committed only after every stage
 * of the pipeline has handled them (journaled and applied), so a crash, even of the host and its journal,
 * re-delivers to whichever instance takes the partitions over and never loses; apply's idempotence absorbs the
 * re-delivery. Several captures in one consumer group share the partitions. One thread of its own.
 */
public final class KafkaCapture implements ChangeCapture {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(KafkaCapture.class);
  private final Side side;
  private final List<String> topics;
  private final Properties properties = new Properties();
  private final AtomicLong published = new AtomicLong();
  private volatile boolean running;
  private volatile KafkaConsumer<byte[], byte[]> consumer;
  private Thread thread;
  private java.util.function.Function<java.util.Collection<TopicPartition>, List<ChangeEvent>> onAssignment =
      partitions -> List.of();

  /**
   * A capture.
   *
   * @param side the side foreign (Debezium) records come from.
   * @param bootstrapServers Kafka's bootstrap servers.
   * @param groupId the consumer group (instances sharing a migration share it).
   * @param topics the topics to consume.
   */
  public KafkaCapture(Side side, String bootstrapServers, String groupId, List<String> topics) {
    this.side = side;
    this.topics = List.copyOf(topics);
    properties.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    properties.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    properties.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    properties.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    properties.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    properties.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1_000);
  }

  /**
   * Sets a consumer property (before {@link #start}), e.g. {@code session.timeout.ms} to bound how long a dead
   * instance's partitions wait before the group moves them.
   *
   * @param key the property.
   * @param value its value.
   * @return this capture.
   */
  public KafkaCapture with(String key, Object value) {
    properties.put(key, value);
    return this;
  }

  /**
   * What to do when the group gives this capture its partitions (before any of their records): the changes
   * returned are published into the pipeline and handled by every stage first (e.g. a bi-directional sync taking
   * a service over from its state changelog). Set before {@link #start}.
   *
   * @param events the changes to publish, given the partitions now assigned (all of them).
   * @return this capture.
   */
  public KafkaCapture onAssignment(
      java.util.function.Function<java.util.Collection<TopicPartition>, List<ChangeEvent>> events) {
    this.onAssignment = events;
    return this;
  }

  /** Nothing to install: topics are Kafka's. */
  @Override
  public void install() {
    // the topics exist, or are created by the producer's broker defaults
  }

  /** Nothing to remove: the topics and the group's offsets are Kafka's. */
  @Override
  public void uninstall() {
    // nothing Cutover created
  }

  @Override
  public synchronized void start(Pipeline pipeline) {
    if (running) {
      throw new IllegalStateException("the Kafka capture of " + topics + " is already running");
    }
    running = true;
    thread = new Thread(() -> run(pipeline), "cutover-kafka-capture");
    thread.setDaemon(true);
    thread.start();
  }

  /** Records published but not yet handled by every stage: the highest journal index, the offsets to commit. */
  private record InFlight(long index, Map<TopicPartition, OffsetAndMetadata> offsets) {}

  private void run(Pipeline pipeline) {
    while (running) {
      java.util.ArrayDeque<InFlight> inFlight = new java.util.ArrayDeque<>();
      try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(properties, new ByteArrayDeserializer(),
          new ByteArrayDeserializer())) {
        consumer = c;
        c.subscribe(topics, new org.apache.kafka.clients.consumer.ConsumerRebalanceListener() {
          @Override
          public void onPartitionsRevoked(java.util.Collection<TopicPartition> partitions) {
            // before the partitions go: everything polled is handled and its offset committed
            if (!inFlight.isEmpty()) {
              awaitHandled(pipeline, inFlight.getLast().index());
              commitHandled(c, pipeline, inFlight, true);
            }
          }

          @Override
          public void onPartitionsAssigned(java.util.Collection<TopicPartition> partitions) {
            long last = -1;
            for (ChangeEvent event : onAssignment.apply(partitions)) {
              last = Math.max(last, pipeline.publish(event).join());
            }
            if (last >= 0) {
              awaitHandled(pipeline, last);
            }
          }
        });
        while (running) {
          // At most a few polls ahead of what every stage has handled; then wait for the stages to catch up.
          if (inFlight.size() >= MAX_IN_FLIGHT) {
            awaitHandled(pipeline, inFlight.getFirst().index());
          }
          commitHandled(c, pipeline, inFlight, false);
          ConsumerRecords<byte[], byte[]> records = c.poll(Duration.ofMillis(inFlight.isEmpty() ? 200 : 5));
          if (records.isEmpty()) {
            continue;
          }
          Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
          long last = -1;
          int count = 0;
          List<CompletableFuture<Long>> durable = new ArrayList<>();
          for (ConsumerRecord<byte[], byte[]> r : records) {
            ChangeEvent event = DebeziumEnvelope.parse(r.key(), r.value(), r.topic(), r.partition(), r.offset(), side);
            if (event != null) {
              durable.add(pipeline.publish(event));
            }
            offsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
          }
          for (CompletableFuture<Long> index : durable) {
            last = Math.max(last, index.join());
            count++;
          }
          published.addAndGet(count);
          inFlight.addLast(new InFlight(last, offsets));
        }
      } catch (WakeupException e) {
        // stopping
      } catch (RuntimeException e) {
        if (running) {
          LOG.warn("Kafka capture of {} failed, resuming from the committed offsets: {}", topics, e.toString());
          try {
            Thread.sleep(500);
          } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            return;
          }
        }
      } finally {
        consumer = null;
      }
    }
  }

  private static final int MAX_IN_FLIGHT = 8;

  /**
   * Commits the offsets of the polls every stage has handled (applied, not only journaled), oldest first, so an
   * instance taking the partitions over (on another host, without this journal) loses nothing.
   */
  private void commitHandled(KafkaConsumer<byte[], byte[]> c, Pipeline pipeline,
      java.util.ArrayDeque<InFlight> inFlight, boolean sync) {
    if (inFlight.isEmpty()) {
      return;
    }
    long handled = pipeline.handledIndex();
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    while (!inFlight.isEmpty() && inFlight.getFirst().index() <= handled) {
      offsets.putAll(inFlight.removeFirst().offsets()); // later polls' offsets replace earlier ones
    }
    if (offsets.isEmpty()) {
      return;
    }
    if (sync) {
      c.commitSync(offsets);
    } else {
      c.commitAsync(offsets, (done, error) -> {
        if (error != null) {
          LOG.debug("an offset commit failed; a later one covers it: {}", error.toString());
        }
      });
    }
  }

  /**
   * Waits until every stage has checkpointed a journal index: the changes are applied, not only journaled, so an
   * instance taking over the partitions (on another host, without this journal) loses nothing.
   */
  private void awaitHandled(Pipeline pipeline, long index) {
    while (running) {
      if (pipeline.handledIndex() >= index) {
        return;
      }
      try {
        Thread.sleep(1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new org.apache.kafka.common.errors.InterruptException(e);
      }
    }
    throw new WakeupException(); // stopping: nothing is committed, the group re-delivers
  }

  @Override
  public long published() {
    return published.get();
  }

  /** Stops consuming; what is not committed is consumed again by the group. */
  @Override
  public synchronized void close() {
    running = false;
    KafkaConsumer<byte[], byte[]> c = consumer;
    if (c != null) {
      c.wakeup();
    }
    if (thread != null) {
      try {
        thread.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
