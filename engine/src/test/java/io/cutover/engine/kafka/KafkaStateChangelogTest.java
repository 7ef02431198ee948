package io.cutover.engine.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.sync.StateChangelog.Entry;
import io.cutover.engine.testing.Kafka;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.Bytes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The state changelog against a real broker the test run starts: a batch's state of several megabytes (a pending
 * batch of several megabytes among it) goes through in records far below Kafka's size limits and is read back
 * exactly by the instance that takes over, also from a compacted topic; a later smaller pending batch leaves no
 * fragment of an earlier bigger one behind; a producer that failed is replaced, while a fenced instance stays
 * fenced and never takes the log back from its successor.
 */
@Timeout(180)
class KafkaStateChangelogTest {
  /** The record bound the changelog keeps to by default (key, value and headers). */
  private static final int BOUND = 256 * 1024;

  private final Random random = new Random(19);

  private static String newTopic(Map<String, String> config) throws Exception {
    String topic = "cutover.test.state." + UUID.randomUUID().toString().substring(0, 8);
    Properties p = new Properties();
    p.put("bootstrap.servers", Kafka.bootstrap());
    Map<String, String> configs = new TreeMap<>(config);
    configs.put(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);
    try (Admin admin = Admin.create(p)) {
      admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1).configs(configs))).all().get();
    }
    return topic;
  }

  private static KafkaStateChangelog changelog(String topic, String transactionalId) {
    return new KafkaStateChangelog(Kafka.bootstrap(), topic, transactionalId, Map.of());
  }

  private static List<Entry> takeOver(KafkaStateChangelog changelog) throws Exception {
    List<Entry> entries = new ArrayList<>();
    changelog.takeOver(entries::add);
    return entries;
  }

  private byte[] bytes(int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }

  private static Entry entry(String map, String key, byte[] value) {
    return new Entry(map, key.getBytes(StandardCharsets.UTF_8), value);
  }

  private static Entry batch(byte[] value) {
    return entry("batch", "batch", value);
  }

  /** An entry as text, its value as length and digest, so that lists compare with readable differences. */
  private static String describe(Entry e) {
    return e.map() + "/" + HexFormat.of().formatHex(e.key()) + "=" + describe(e.value());
  }

  private static String describe(byte[] value) {
    if (value == null) {
      return "removed";
    }
    try {
      return value.length + ":" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(value));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static List<String> describe(List<Entry> entries) {
    return entries.stream().map(KafkaStateChangelogTest::describe).toList();
  }

  /** The live state the entries leave, applied in order: map and key to value. */
  private static Map<String, String> live(List<Entry> entries) {
    Map<String, String> state = new TreeMap<>();
    for (Entry e : entries) {
      String key = e.map() + "/" + HexFormat.of().formatHex(e.key());
      if (e.value() == null) {
        state.remove(key);
      } else {
        state.put(key, describe(e.value()));
      }
    }
    return state;
  }

  private static String lastBatch(List<Entry> entries) {
    String last = null;
    for (Entry e : entries) {
      if (e.map().equals("batch")) {
        last = describe(e.value());
      }
    }
    return last;
  }

  /** Every committed record of a topic, oldest first. */
  private static List<ConsumerRecord<byte[], byte[]>> records(String topic) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, Kafka.bootstrap());
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
    TopicPartition partition = new TopicPartition(topic, 0);
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      c.assign(List.of(partition));
      c.seekToBeginning(List.of(partition));
      long end = c.endOffsets(List.of(partition)).get(partition);
      while (c.position(partition) < end) {
        c.poll(Duration.ofMillis(500)).forEach(out::add);
      }
    }
    return out;
  }

  private static int size(ConsumerRecord<byte[], byte[]> r) {
    int size = r.key().length + (r.value() == null ? 0 : r.value().length);
    for (Header h : r.headers()) {
      size += h.key().getBytes(StandardCharsets.UTF_8).length + (h.value() == null ? 0 : h.value().length);
    }
    return size;
  }

  /**
   * What compaction leaves of a topic, copied to a new one: each key's last record only, in offset order; its
   * tombstones kept (within {@code delete.retention.ms}) or gone with what they removed (after it).
   */
  private static String compactedCopy(String topic, boolean keepTombstones) throws Exception {
    Map<Bytes, ConsumerRecord<byte[], byte[]>> last = new LinkedHashMap<>();
    for (ConsumerRecord<byte[], byte[]> r : records(topic)) {
      last.remove(Bytes.wrap(r.key()));
      last.put(Bytes.wrap(r.key()), r);
    }
    String copy = newTopic(Map.of());
    Properties p = new Properties();
    p.put("bootstrap.servers", Kafka.bootstrap());
    p.put("max.request.size", String.valueOf(2 * BOUND));
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
        new ByteArraySerializer())) {
      for (ConsumerRecord<byte[], byte[]> r : last.values()) {
        if (r.value() != null || keepTombstones) {
          producer.send(new ProducerRecord<>(copy, 0, r.key(), r.value(), r.headers())).get();
        }
      }
    }
    return copy;
  }

  @Test
  void anAppendOfSeveralMegabytesGoesThroughInBoundedRecordsAndIsReadBackExactly() throws Exception {
    String topic = newTopic(Map.of());
    String id = "state-big-" + UUID.randomUUID();
    List<Entry> appended = new ArrayList<>();
    List<Entry> second = List.of(entry("rows", "row-6", bytes(100)), batch(bytes(1_500_000)));
    try (KafkaStateChangelog owner = changelog(topic, id)) {
      assertEquals(List.of(), takeOver(owner));
      for (int i = 0; i < 3_000; i++) {
        appended.add(entry("rows", "row-" + i, bytes(600))); // 1.8 MB of small entries
      }
      appended.add(new Entry("held", new byte[] {0, 0, 0, 0, 0, 0, 0, 7}, bytes(700 * 1024)));
      appended.add(entry("rows", "row-5", null));
      appended.add(batch(bytes(4 << 20))); // the write-ahead of a batch of 4 MiB of writes
      owner.append(appended);
      owner.append(second);
      appended.addAll(second);
    }
    try (KafkaStateChangelog successor = changelog(topic, id)) {
      List<Entry> read = takeOver(successor);
      assertEquals(describe(appended), describe(read), "the successor reads back exactly what was appended");
      assertEquals(describe(second.get(1).value()), lastBatch(read), "with the last pending batch whole");
    }
    List<ConsumerRecord<byte[], byte[]>> records = records(topic);
    for (ConsumerRecord<byte[], byte[]> r : records) {
      assertTrue(size(r) <= BOUND, "a record of " + size(r) + " bytes, over the bound of " + BOUND);
    }
    assertTrue(records.size() > 3_003, "the big entries were split over several records: " + records.size());
  }

  @Test
  void aSmallerPendingBatchAfterABiggerOneLeavesNoFragmentOfItAfterCompaction() throws Exception {
    String topic = newTopic(Map.of());
    String id = "state-shrink-" + UUID.randomUUID();
    List<Entry> appended = new ArrayList<>();
    byte[] small = bytes(1_000);
    try (KafkaStateChangelog owner = changelog(topic, id)) {
      takeOver(owner);
      List<List<Entry>> appends = List.of(
          List.of(entry("rows", "a", bytes(50)), entry("held", "h", bytes(900 * 1024)), batch(bytes(3 << 20))),
          List.of(entry("rows", "b", bytes(50)), batch(bytes(300 * 1024))),
          List.of(entry("held", "h", bytes(10)), entry("rows", "a", null), batch(small)));
      for (List<Entry> entries : appends) {
        owner.append(entries);
        appended.addAll(entries);
      }
    }
    try (KafkaStateChangelog successor = changelog(topic, id)) {
      List<Entry> read = takeOver(successor);
      assertEquals(describe(appended), describe(read));
      assertEquals(describe(small), lastBatch(read), "the last, small pending batch, not a mix");
    }
    Map<String, String> live = live(appended);
    long liveBytes = 50 + 10 + small.length; // rows/b, held/h, the last pending batch
    for (boolean keepTombstones : new boolean[] {true, false}) {
      String compacted = compactedCopy(topic, keepTombstones);
      long kept = 0;
      for (ConsumerRecord<byte[], byte[]> r : records(compacted)) {
        kept += r.value() == null ? 0 : r.value().length;
      }
      assertTrue(kept < liveBytes + 1_000, "compaction keeps the live state only, not " + kept + " bytes of "
          + "fragments of earlier values (tombstones kept: " + keepTombstones + ")");
      try (KafkaStateChangelog successor = changelog(compacted, "state-compacted-" + UUID.randomUUID())) {
        List<Entry> read = takeOver(successor);
        assertEquals(live, live(read), "the compacted topic gives the same state");
        assertEquals(describe(small), lastBatch(read), "and the last, small pending batch");
      }
    }
  }

  @Test
  void aFailedProducerIsReplacedAndLaterAppendsGoThroughWhileAFencedInstanceStaysFenced() throws Exception {
    // The broker refuses records over 10,000 bytes on this topic: an error of the producer, not a fencing.
    String topic = newTopic(Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, "10000"));
    String id = "state-recover-" + UUID.randomUUID();
    try (KafkaStateChangelog first = changelog(topic, id); KafkaStateChangelog second = changelog(topic, id);
         KafkaStateChangelog third = changelog(topic, id)) {
      takeOver(first);
      Entry one = entry("rows", "1", bytes(100));
      first.append(List.of(one));
      assertThrows(org.apache.kafka.common.KafkaException.class,
          () -> first.append(List.of(entry("rows", "2", bytes(50_000)))), "the broker refuses the record");
      Entry three = entry("rows", "3", bytes(100));
      first.append(List.of(three)); // a new producer, after checking that no other instance took over
      Entry four = entry("rows", "4", bytes(100));
      first.append(List.of(four));

      assertEquals(describe(List.of(one, three, four)), describe(takeOver(second)),
          "the successor reads what was committed, not the refused append");
      IllegalStateException fenced = assertThrows(IllegalStateException.class,
          () -> first.append(List.of(entry("rows", "5", bytes(100)))));
      assertTrue(fenced.getMessage().contains("fenced"), fenced.getMessage());
      assertThrows(IllegalStateException.class, () -> first.append(List.of(entry("rows", "6", bytes(100)))),
          "a fenced instance stays fenced");
      Entry seven = entry("rows", "7", bytes(100));
      second.append(List.of(seven)); // the fenced instance did not take the log back
      assertEquals(describe(List.of(one, three, four, seven)), describe(takeOver(third)));
    }
  }

  @Test
  void anInstanceWhoseProducerFailedDoesNotTakeTheLogBackFromItsSuccessor() throws Exception {
    String topic = newTopic(Map.of());
    String id = "state-partition-" + UUID.randomUUID();
    try (KafkaStateChangelog first = changelog(topic, id); KafkaStateChangelog second = changelog(topic, id);
         KafkaStateChangelog third = changelog(topic, id)) {
      takeOver(first);
      Entry one = entry("rows", "1", bytes(100));
      first.append(List.of(one));
      // The first owner's append fails in mid-transaction and leaves it without a producer (here a key too long
      // for any record; a network partition does the same when Kafka cannot be reached to replace the producer),
      // and meanwhile the group gives the service to another instance.
      assertThrows(IllegalArgumentException.class,
          () -> first.append(List.of(entry("rows", "2", bytes(100)), new Entry("rows", bytes(BOUND), bytes(100)))));
      assertEquals(describe(List.of(one)), describe(takeOver(second)), "nothing of the failed append");
      IllegalStateException fenced = assertThrows(IllegalStateException.class,
          () -> first.append(List.of(entry("rows", "3", bytes(100)))), "the old owner finds it was taken over");
      assertTrue(fenced.getMessage().contains("fenced"), fenced.getMessage());
      Entry four = entry("rows", "4", bytes(100));
      second.append(List.of(four)); // still the owner: the old one did not fence it on its way back
      assertEquals(describe(List.of(one, four)), describe(takeOver(third)));
    }
  }
}
