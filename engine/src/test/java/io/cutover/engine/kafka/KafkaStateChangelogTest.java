package io.cutover.engine.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.sync.StateChangelog.Entry;
import io.cutover.engine.testing.Kafka;
import java.nio.ByteBuffer;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.InvalidTxnStateException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.Bytes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The state changelog against a real broker the test run starts: a batch's state of several megabytes (a pending
 * batch of several megabytes among it) goes through in records far below Kafka's size limits and is read back
 * exactly by the instance that takes over, also from a compacted topic; a later smaller pending batch leaves no
 * fragment of an earlier bigger one behind. Failures: an abortable error is aborted on the same producer and fences
 * no successor, not even one whose take-over is under way; a transaction the coordinator aborted (past
 * transaction.timeout.ms) leaves the owner unfenced; a producer that failed for good is replaced through the
 * take-over's path, and if that fenced a successor, the instance stands down and the successor takes the log back;
 * a commit that timed out is asked again; a fenced instance stays fenced and never takes the log back from its
 * successor. Hook points ({@code KafkaStateChangelog.hook}) place the races and pauses deterministically; the
 * commit time-outs stop the broker process ({@code SIGSTOP}) and let it go on ({@code SIGCONT}).
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

  /** Hook points an instance passed, and actions to run once at a point. */
  private static final class Points implements Consumer<String> {
    final List<String> seen = new CopyOnWriteArrayList<>();
    private final Map<String, Action> once = new ConcurrentHashMap<>();

    interface Action {
      void run() throws Exception;
    }

    Points at(String point, Action action) {
      once.put(point, action);
      return this;
    }

    @Override
    public void accept(String point) {
      seen.add(point);
      Action action = once.remove(point);
      if (action != null) {
        try {
          action.run();
        } catch (RuntimeException e) {
          throw e;
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }
    }
  }

  private static Points points(KafkaStateChangelog changelog) {
    Points points = new Points();
    changelog.hook = points;
    return points;
  }

  private static KafkaStateChangelog changelog(String topic, String transactionalId, Map<String, String> properties) {
    return new KafkaStateChangelog(Kafka.bootstrap(), topic, transactionalId, properties);
  }

  /** Waits until the coordinator aborted the transactional id's transaction (past its transaction.timeout.ms). */
  private static void awaitAbortByCoordinator(String transactionalId) throws Exception {
    Properties p = new Properties();
    p.put("bootstrap.servers", Kafka.bootstrap());
    try (Admin admin = Admin.create(p)) {
      long deadline = System.nanoTime() + 90_000_000_000L;
      while (admin.describeTransactions(List.of(transactionalId)).description(transactionalId).get().state()
          != TransactionState.COMPLETE_ABORT) {
        assertTrue(System.nanoTime() < deadline, "the coordinator did not abort the transaction");
        Thread.sleep(100);
      }
    }
  }

  /** The test run's broker process (a child of this JVM). */
  private static ProcessHandle broker() {
    Kafka.bootstrap();
    return ProcessHandle.current().children().filter(p -> {
      try { // ProcessHandle.Info leaves out arguments this long (the classpath)
        return new String(java.nio.file.Files.readAllBytes(java.nio.file.Path.of("/proc", String.valueOf(p.pid()),
            "cmdline")), StandardCharsets.UTF_8).contains("\0kafka.Kafka\0");
      } catch (java.io.IOException e) {
        return false;
      }
    }).findFirst().orElseThrow(() -> new IllegalStateException("no broker process among this JVM's children"));
  }

  private static void signal(ProcessHandle process, String signal) throws Exception {
    assertEquals(0, new ProcessBuilder("kill", "-" + signal, String.valueOf(process.pid())).inheritIO().start()
        .waitFor(), "kill -" + signal);
  }

  private static boolean caused(Throwable e, Class<? extends Throwable> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }

  @Test
  void aRecordTheBrokerRefusesIsAbortedAndTheSameProducerGoesOnWhileAFencedInstanceStaysFenced() throws Exception {
    // The broker refuses records over 10,000 bytes on this topic: an abortable error of the producer.
    String topic = newTopic(Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, "10000"));
    String id = "state-recover-" + UUID.randomUUID();
    try (KafkaStateChangelog first = changelog(topic, id); KafkaStateChangelog second = changelog(topic, id);
         KafkaStateChangelog third = changelog(topic, id)) {
      takeOver(first);
      Points points = points(first);
      Entry one = entry("rows", "1", bytes(100));
      first.append(List.of(one));
      assertThrows(org.apache.kafka.common.KafkaException.class,
          () -> first.append(List.of(entry("rows", "2", bytes(50_000)))), "the broker refuses the record");
      assertEquals(List.of("writer-sent", "sent", "writer-sent", "sent", "failed", "aborted"), points.seen,
          "the transaction aborted, no new producer");
      Entry three = entry("rows", "3", bytes(100));
      first.append(List.of(three)); // the same producer
      Entry four = entry("rows", "4", bytes(100));
      first.append(List.of(four));
      assertFalse(points.seen.contains("reopening"), points.seen.toString());

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
  void anAbortableErrorFencesNoSuccessorWhoseTakeOverIsUnderWay() throws Exception {
    // The old recovery opened a new producer here: its initTransactions fenced the successor, whose take-over was
    // past its own initTransactions but had not shown in the log yet, and both instances ended fenced.
    String topic = newTopic(Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, "10000"));
    String id = "state-abortable-" + UUID.randomUUID();
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try (KafkaStateChangelog first = changelog(topic, id); KafkaStateChangelog second = changelog(topic, id);
         KafkaStateChangelog third = changelog(topic, id)) {
      takeOver(first);
      Entry one = entry("rows", "1", bytes(100));
      first.append(List.of(one));
      CountDownLatch initialized = new CountDownLatch(1);
      CountDownLatch proceed = new CountDownLatch(1);
      points(second).at("initialized", () -> {
        initialized.countDown();
        assertTrue(proceed.await(60, TimeUnit.SECONDS));
      });
      List<Future<List<Entry>>> successor = new CopyOnWriteArrayList<>();
      Points points = points(first).at("failed", () -> {
        // the broker refused the record; before this instance recovers, another one's take-over fences its
        // producer, and has not committed its writer record yet
        successor.add(pool.submit(() -> takeOver(second)));
        assertTrue(initialized.await(60, TimeUnit.SECONDS));
      });
      RuntimeException failed = assertThrows(RuntimeException.class,
          () -> first.append(List.of(entry("rows", "2", bytes(50_000)))));
      assertFalse(points.seen.contains("reopening"), "no new producer: " + points.seen + " " + failed);
      proceed.countDown();
      assertEquals(describe(List.of(one)), describe(successor.get(0).get(60, TimeUnit.SECONDS)),
          "the successor's take-over went through: it was not fenced");
      Entry three = entry("rows", "3", bytes(100));
      second.append(List.of(three));
      IllegalStateException fenced = assertThrows(IllegalStateException.class,
          () -> first.append(List.of(entry("rows", "4", bytes(100)))));
      assertTrue(fenced.getMessage().contains("fenced"), fenced.getMessage());
      assertFalse(points.seen.contains("reopening"), points.seen.toString());
      Entry five = entry("rows", "5", bytes(100));
      second.append(List.of(five));
      assertEquals(describe(List.of(one, three, five)), describe(takeOver(third)));
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aTransactionTheCoordinatorAbortedIsAbortedOrReopenedAndTheOwnerGoesOnUnfenced() throws Exception {
    String topic = newTopic(Map.of());
    String id = "state-timeout-" + UUID.randomUUID();
    Map<String, String> quick = Map.of("transaction.timeout.ms", "3000");
    try (KafkaStateChangelog first = changelog(topic, id, quick); KafkaStateChangelog second = changelog(topic, id)) {
      takeOver(first);
      Entry one = entry("rows", "1", bytes(100));
      first.append(List.of(one));

      // A pause after the writer record was sent: the coordinator aborts the transaction and bumps the epoch,
      // and the next record's send fails with InvalidProducerEpochException (KIP-588). No other take-over is in
      // the log, so the owner aborts and goes on, not fenced.
      Points points = points(first).at("writer-sent", () -> awaitAbortByCoordinator(id));
      RuntimeException epoch = assertThrows(RuntimeException.class,
          () -> first.append(List.of(entry("rows", "2", bytes(100)))));
      assertTrue(caused(epoch, InvalidProducerEpochException.class), epoch.toString());
      assertTrue(points.seen.contains("aborted"), points.seen.toString());
      assertFalse(points.seen.contains("reopening"), points.seen.toString());
      Entry three = entry("rows", "3", bytes(100));
      first.append(List.of(three));

      // A pause after every record was sent: the coordinator aborts; the commit then fails with
      // InvalidTxnStateException, which leaves the producer no abort (a fatal error): a new producer, through the
      // take-over's own path, and no other take-over in the log, so the owner goes on.
      points = points(first).at("sent", () -> awaitAbortByCoordinator(id));
      RuntimeException fatal = assertThrows(RuntimeException.class,
          () -> first.append(List.of(entry("rows", "4", bytes(100)))));
      assertTrue(caused(fatal, InvalidTxnStateException.class), fatal.toString());
      assertTrue(points.seen.contains("reopening"), points.seen.toString());
      Entry five = entry("rows", "5", bytes(100));
      first.append(List.of(five));

      assertEquals(describe(List.of(one, three, five)), describe(takeOver(second)), "nothing of the aborted ones");
    }
  }

  @Test
  void anInstanceWhoseProducerFailedForGoodDoesNotTakeTheLogBackFromItsSuccessor() throws Exception {
    String topic = newTopic(Map.of());
    String id = "state-partition-" + UUID.randomUUID();
    Map<String, String> quick = Map.of("transaction.timeout.ms", "3000");
    try (KafkaStateChangelog first = changelog(topic, id, quick); KafkaStateChangelog second = changelog(topic, id);
         KafkaStateChangelog third = changelog(topic, id)) {
      takeOver(first);
      Points points = points(first);
      Entry one = entry("rows", "1", bytes(100));
      first.append(List.of(one));
      assertThrows(IllegalArgumentException.class,
          () -> first.append(List.of(entry("rows", "2", bytes(100)), new Entry("rows", bytes(BOUND), bytes(100)))),
          "a key too long for any record is refused before anything is sent");
      assertEquals(List.of("writer-sent", "sent"), points.seen, "nothing of the refused append was sent");
      // The owner's producer fails for good (its transaction ran past transaction.timeout.ms before the commit),
      // and the new producer cannot be opened (as in a network partition), while the group gives the service to
      // another instance.
      points.at("sent", () -> awaitAbortByCoordinator(id)).at("reopening", () -> {
        throw new org.apache.kafka.common.errors.TimeoutException("Kafka out of reach (the test's)");
      });
      assertThrows(InvalidTxnStateException.class, () -> first.append(List.of(entry("rows", "3", bytes(100)))));
      assertEquals(describe(List.of(one)), describe(takeOver(second)), "nothing of the failed append");
      int seen = points.seen.size();
      IllegalStateException fenced = assertThrows(IllegalStateException.class,
          () -> first.append(List.of(entry("rows", "4", bytes(100)))), "the old owner finds it was taken over");
      assertTrue(fenced.getMessage().contains("fenced"), fenced.getMessage());
      assertEquals(List.of(), points.seen.subList(seen, points.seen.size()), "and opens no producer");
      Entry five = entry("rows", "5", bytes(100));
      second.append(List.of(five)); // still the owner: the old one did not fence it on its way back
      assertEquals(describe(List.of(one, five)), describe(takeOver(third)));
    }
  }

  @Test
  void anOwnerWhoseNewProducerFencedItsSuccessorStandsDownAndTheSuccessorTakesTheLogBack() throws Exception {
    String topic = newTopic(Map.of());
    String id = "state-reopen-race-" + UUID.randomUUID();
    Map<String, String> quick = Map.of("transaction.timeout.ms", "3000");
    try (KafkaStateChangelog first = changelog(topic, id, quick); KafkaStateChangelog second = changelog(topic, id);
         KafkaStateChangelog third = changelog(topic, id)) {
      takeOver(first);
      Entry one = entry("rows", "1", bytes(100));
      first.append(List.of(one));
      // The owner's producer fails for good; after it read the log (no other take-over), and before its new
      // producer's initTransactions, another instance takes the service over completely. The new producer then
      // fences that successor.
      Points points = points(first).at("sent", () -> awaitAbortByCoordinator(id))
          .at("reopening", () -> assertEquals(describe(List.of(one)), describe(takeOver(second))));
      IllegalStateException stoodDown = assertThrows(IllegalStateException.class,
          () -> first.append(List.of(entry("rows", "2", bytes(100)))));
      assertTrue(stoodDown.getMessage().contains("fenced"), stoodDown.getMessage());
      assertTrue(points.seen.contains("reopening"), points.seen.toString());
      // The successor's next append finds the old owner's writer record, an instance it superseded: it takes the
      // log back, and the append goes through.
      Points successor = points(second);
      Entry three = entry("rows", "3", bytes(100));
      second.append(List.of(three));
      assertTrue(successor.seen.contains("reopening"), successor.seen.toString());
      Entry four = entry("rows", "4", bytes(100));
      second.append(List.of(four));
      assertThrows(IllegalStateException.class, () -> first.append(List.of(entry("rows", "5", bytes(100)))),
          "the old owner stays fenced");
      assertEquals(describe(List.of(one, three, four)), describe(takeOver(third)));
    }
  }

  @Test
  void aFencingByAProducerTheLogDoesNotShowHoldsTheOwnerBackThenItTakesTheLogBack() throws Exception {
    String topic = newTopic(Map.of());
    String id = "state-unseen-" + UUID.randomUUID();
    // max.block.ms of 3 s: an owner fenced by a producer that never shows in the log waits 6 s
    try (KafkaStateChangelog first = changelog(topic, id, Map.of("max.block.ms", "3000"));
         KafkaStateChangelog second = changelog(topic, id)) {
      takeOver(first);
      Points points = points(first);
      Entry one = entry("rows", "1", bytes(100));
      first.append(List.of(one));
      // another producer of the transactional id starts and ends before it writes anything (an instance that
      // died in the middle of its take-over)
      Properties p = new Properties();
      p.put("bootstrap.servers", Kafka.bootstrap());
      p.put("transactional.id", id);
      try (KafkaProducer<byte[], byte[]> other = new KafkaProducer<>(p, new ByteArraySerializer(),
          new ByteArraySerializer())) {
        other.initTransactions();
      }
      IllegalStateException held = assertThrows(IllegalStateException.class,
          () -> first.append(List.of(entry("rows", "2", bytes(100)))));
      long fencedAt = System.nanoTime();
      assertTrue(held.getMessage().contains("not in the log yet"), held.getMessage());
      held = assertThrows(IllegalStateException.class, () -> first.append(List.of(entry("rows", "3", bytes(100)))));
      assertTrue(held.getMessage().contains("not in the log yet"), held.getMessage());
      assertFalse(points.seen.contains("reopening"), "no new producer yet: " + points.seen);
      Thread.sleep(Math.max(0, 6_200 - (System.nanoTime() - fencedAt) / 1_000_000));
      Entry four = entry("rows", "4", bytes(100));
      first.append(List.of(four)); // no take-over showed: the log is taken back
      assertTrue(points.seen.contains("reopening"), points.seen.toString());
      assertEquals(describe(List.of(one, four)), describe(takeOver(second)));
    }
  }

  @Test
  void aCommitThatTimedOutIsAskedAgainAndFoundCommitted() throws Exception {
    String topic = newTopic(Map.of());
    String id = "state-commit-timeout-" + UUID.randomUUID();
    ProcessHandle broker = broker();
    try (KafkaStateChangelog first = changelog(topic, id, Map.of("max.block.ms", "4000"));
         KafkaStateChangelog second = changelog(topic, id)) {
      takeOver(first);
      Entry one = entry("rows", "1", bytes(100));
      first.append(List.of(one));
      // The broker stops answering once the records are sent: the commit times out (max.block.ms); the broker
      // comes back, and the commit asked again is found committed, so the append succeeds.
      Points points = points(first).at("sent", () -> signal(broker, "STOP"))
          .at("commit-timed-out", () -> signal(broker, "CONT"));
      Entry two = entry("rows", "2", bytes(100));
      try {
        first.append(List.of(two));
      } finally {
        signal(broker, "CONT");
      }
      assertEquals(List.of("writer-sent", "sent", "failed", "commit-timed-out"), points.seen);
      Entry three = entry("rows", "3", bytes(100));
      first.append(List.of(three));
      assertEquals(describe(List.of(one, two, three)), describe(takeOver(second)));
    }
  }

  @Test
  void aCommitStillUnknownAfterTheSecondAskIsSettledBeforeTheNextAppend() throws Exception {
    String topic = newTopic(Map.of());
    String id = "state-commit-unknown-" + UUID.randomUUID();
    ProcessHandle broker = broker();
    try (KafkaStateChangelog first = changelog(topic, id, Map.of("max.block.ms", "2500"));
         KafkaStateChangelog second = changelog(topic, id)) {
      takeOver(first);
      Entry one = entry("rows", "1", bytes(100));
      first.append(List.of(one));
      Points points = points(first).at("sent", () -> signal(broker, "STOP"));
      Entry two = entry("rows", "2", bytes(100));
      try {
        assertThrows(org.apache.kafka.common.errors.TimeoutException.class, () -> first.append(List.of(two)),
            "the commit's outcome is not known");
      } finally {
        signal(broker, "CONT");
      }
      assertEquals(List.of("writer-sent", "sent", "failed", "commit-timed-out"), points.seen);
      Entry three = entry("rows", "3", bytes(100));
      first.append(List.of(three)); // asks the commit again first: committed
      assertTrue(points.seen.contains("settled"), points.seen.toString());
      assertFalse(points.seen.contains("reopening"), points.seen.toString());
      assertEquals(describe(List.of(one, two, three)), describe(takeOver(second)));
    }
  }

  @Test
  void anIncompleteEntryInTheLogIsLeftOutAndTheNextOneReadWhole() throws Exception {
    String topic = newTopic(Map.of());
    byte[] a = "rows\0a".getBytes(StandardCharsets.UTF_8);
    byte[] b = "rows\0b".getBytes(StandardCharsets.UTF_8);
    byte[] b0 = bytes(2_000);
    byte[] b1 = bytes(1_000);
    Properties p = new Properties();
    p.put("bootstrap.servers", Kafka.bootstrap());
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
        new ByteArraySerializer())) {
      producer.send(new ProducerRecord<>(topic, 0, a, bytes(2_000), fragment(5, 0, 2))).get();
      producer.send(new ProducerRecord<>(topic, 0, b, b0, fragment(6, 0, 2))).get();
      producer.send(new ProducerRecord<>(topic, 0, fragmentKey(b, 1), b1, fragment(6, 1, 2))).get();
    }
    try (KafkaStateChangelog reader = changelog(topic, "state-incomplete-" + UUID.randomUUID())) {
      byte[] whole = new byte[b0.length + b1.length];
      System.arraycopy(b0, 0, whole, 0, b0.length);
      System.arraycopy(b1, 0, whole, b0.length, b1.length);
      assertEquals(describe(List.of(entry("rows", "b", whole))), describe(takeOver(reader)));
    }
  }

  private static RecordHeaders fragment(long seq, int index, int count) {
    RecordHeaders headers = new RecordHeaders();
    headers.add("cutover.fragment", ByteBuffer.allocate(16).putLong(seq).putInt(index).putInt(count).array());
    return headers;
  }

  private static byte[] fragmentKey(byte[] key, int index) {
    byte[] k = new byte[6 + key.length];
    k[1] = 'f';
    ByteBuffer.wrap(k, 2, 4).putInt(index);
    System.arraycopy(key, 0, k, 6, key.length);
    return k;
  }
}
