package io.cutover.engine.kafka;

import io.cutover.engine.sync.StateChangelog;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.Bytes;

/**
 * A bi-directional sync's state in a compacted, single-partition Kafka topic ({@code <prefix>.state.<service>}),
 * written in Kafka transactions by a transactional producer whose id is the service's: the instance that takes the
 * service over fences the previous one (its next append fails before it writes anything to a database), then
 * reads the topic to its end (committed records only). Keys are the state map's name, a zero byte and the entry's
 * key; removed entries are tombstones, so compaction keeps exactly the live state.
 *
 * <p><b>Bounded records.</b> No record (key, value and headers) exceeds {@link #maxRecordBytes()}, far below the
 * producer's {@code max.request.size} and the broker's {@code message.max.bytes} (1 MiB by default), however big
 * a batch: an entry that does not fit (typically the pending batch, which holds every write of a batch) is split
 * into fragments within the append's transaction. Its first fragment keeps the entry's key, the others have keys of
 * their own (a zero byte, {@code f}, the fragment's index, the entry's key); each carries a header with the
 * append's sequence number, its index and the fragment count, and the take-over reassembles only fragments of one
 * append. When an entry is written again with fewer fragments, or removed, the append also writes tombstones for
 * its fragments left over from before, so compaction keeps no stale fragment. Entries that fit are written as
 * before, one plain record each. An entry whose key leaves a fragment less than 1 KiB of a record is refused
 * before the append sends anything. (An older version reads a first fragment as the whole value: all instances
 * must run this version or a later one before any of them writes a fragment.)
 *
 * <p><b>Ownership.</b> Every transaction carries a writer record (key: a zero byte and {@code w}) naming the
 * take-over that wrote it and the append's sequence number. A take-over commits its writer record alone right after
 * its producer fenced the previous one, before it reads the topic, so that the take-over shows in the log within
 * milliseconds. The owners whose writer records come before it are the ones it superseded.
 *
 * <p><b>Failures.</b> A new producer ({@code initTransactions}) fences whoever holds the log, a successor too, so an
 * instance opens one only at a take-over and, after that, only when it cannot go on otherwise:
 * <ul>
 *   <li>An abortable error (a record the broker refuses, a send that timed out, any error after which the producer
 *       accepts {@code abortTransaction}) aborts the transaction; the producer goes on, and the next append uses it.
 *       An abort that times out is asked again before the next transaction.</li>
 *   <li>A commit that times out is asked again ({@code commitTransaction} once more: the producer finishes the commit
 *       it started and tells how it went), and if that times out too, before the next append's transaction.</li>
 *   <li>A fencing error ({@code ProducerFencedException}, or {@code InvalidProducerEpochException}, which the
 *       coordinator also causes when it aborts a transaction that ran past {@code transaction.timeout.ms}): the
 *       instance reads the topic after its last write, without fencing anyone. Another take-over's writer record
 *       there: fenced, for good (until the instance takes the log over again). Only writer records of owners it
 *       superseded (one that reopened its producer after a fatal error without seeing this take-over, and has
 *       fenced it; that one stands down on seeing this take-over): it takes the log back. No writer record: an
 *       {@code InvalidProducerEpochException} is taken for the coordinator's abort and aborted like any abortable
 *       error (a successor's producer behind it makes the abort fail as fenced); after a
 *       {@code ProducerFencedException} the instance writes nothing until the log shows who fenced it, or until
 *       twice {@code max.block.ms} passed without a take-over showing (a take-over commits its writer record within
 *       that time or fails, and then starts again with a new producer), when it takes the log back.</li>
 *   <li>A fatal error of any other kind (the producer accepts no abort): the instance opens a new producer through
 *       the take-over's own path: a read after its last write first (another take-over there: fenced, nothing
 *       opened), the new producer, its writer record at once, then the read to the end, which tells whether the
 *       failed append was committed after all, and whether a take-over slipped in before the new producer: then
 *       this instance stands down (fenced) and the successor takes the log back as above.</li>
 * </ul>
 */
public final class KafkaStateChangelog implements StateChangelog {
  /** The default bound on a record's bytes (key, value and headers): 256 KiB. */
  public static final int DEFAULT_MAX_RECORD_BYTES = 256 * 1024;
  private static final int MIN_RECORD_BYTES = 4 * 1024;
  /** The least value bytes a fragment carries; an entry whose key leaves less room is refused. */
  private static final int MIN_FRAGMENT_BYTES = 1024;
  private static final String FRAGMENT_HEADER = "cutover.fragment";
  /** A fragment's header bytes: its name and the sequence number, index and count. */
  private static final int FRAGMENT_HEADER_BYTES = FRAGMENT_HEADER.length() + Long.BYTES + 2 * Integer.BYTES;
  /** What a fragment's key adds to the entry's: a zero byte, {@code f}, the index. */
  private static final int FRAGMENT_KEY_BYTES = 2 + Integer.BYTES;
  private static final byte[] WRITER_KEY = {0, 'w'};
  /** The sequence number of a take-over's own writer record, written before the topic's numbers are read. */
  private static final long CLAIM_SEQUENCE = 0;
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(KafkaStateChangelog.class);

  private final String topic;
  private final TopicPartition partition;
  private final int maxRecordBytes;
  private final Properties producerProperties = new Properties();
  private final Properties consumerProperties = new Properties();
  /** How long a fencing by nobody the log shows keeps this instance from taking the log back: 2 max.block.ms. */
  private final long unseenFencingNanos;
  private KafkaProducer<byte[], byte[]> producer;
  /** This instance's take-over, named in its writer records; null until the log is taken over (or closed). */
  private byte[] owner;
  /** The take-overs this instance's take-over superseded (their writer records came before its own). */
  private final Set<Bytes> superseded = new HashSet<>();
  /** Why this instance may no longer write: another one took the log over. */
  private RuntimeException fenced;
  /** Since when (nanoTime) this instance's producer is fenced by a producer the log does not show yet; 0: not. */
  private long unseenFencingSince;
  /** A transaction an earlier append left open (its commit or abort timed out), finished before the next one. */
  private Transaction unsettled;
  /** The highest append sequence number in the log (read or written). */
  private long sequence;
  /** The offset after the last record this instance read or committed. */
  private long position;
  /** The offset after this instance's last committed transaction. */
  private long lastWrite;
  /** Each entry (map, zero byte, key) whose fragment records beyond the first may be live: the highest index. */
  private final Map<Bytes, Integer> fragments = new HashMap<>();
  /** The maps with an entry in {@link #fragments}: an append looks up no entry of another map. */
  private final Set<String> fragmentedMaps = new HashSet<>();
  /**
   * For tests: called at named points of a take-over and of the failure paths ({@code initialized},
   * {@code writer-sent}, {@code sent}, {@code failed}, {@code commit-timed-out}, {@code aborted},
   * {@code reopening}, {@code settled}).
   */
  volatile Consumer<String> hook = point -> { };

  /**
   * A changelog whose records are at most {@link #DEFAULT_MAX_RECORD_BYTES} long.
   *
   * @param bootstrapServers Kafka's bootstrap servers.
   * @param topic the topic (compacted, one partition; see {@link KafkaTopics}).
   * @param transactionalId the writer's identity, the same on every instance for one service.
   * @param clientProperties extra client properties (security, timeouts), applied to both clients.
   */
  public KafkaStateChangelog(String bootstrapServers, String topic, String transactionalId,
      Map<String, String> clientProperties) {
    this(bootstrapServers, topic, transactionalId, clientProperties, DEFAULT_MAX_RECORD_BYTES);
  }

  /**
   * A changelog.
   *
   * @param bootstrapServers Kafka's bootstrap servers.
   * @param topic the topic (compacted, one partition; see {@link KafkaTopics}).
   * @param transactionalId the writer's identity, the same on every instance for one service.
   * @param clientProperties extra client properties (security, timeouts), applied to both clients.
   * @param maxRecordBytes the most bytes of a record (key, value and headers), at least 4 KiB; at most half the
   *     producer's {@code max.request.size} when the client properties set it lower.
   */
  public KafkaStateChangelog(String bootstrapServers, String topic, String transactionalId,
      Map<String, String> clientProperties, int maxRecordBytes) {
    if (maxRecordBytes < MIN_RECORD_BYTES) {
      throw new IllegalArgumentException("a state changelog record bound of " + maxRecordBytes + " bytes is below "
          + MIN_RECORD_BYTES);
    }
    this.topic = topic;
    this.partition = new TopicPartition(topic, 0);
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
    consumerProperties.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    consumerProperties.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 10_000);
    int bound = maxRecordBytes;
    String requestSize = clientProperties.get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
    if (requestSize != null) {
      try {
        bound = Math.max(MIN_RECORD_BYTES, Math.min(bound, Integer.parseInt(requestSize.trim()) / 2));
      } catch (NumberFormatException e) {
        // the producer refuses the property itself, with Kafka's message
      }
    }
    this.maxRecordBytes = bound;
    long maxBlockMs = 60_000;
    String maxBlock = clientProperties.get(ProducerConfig.MAX_BLOCK_MS_CONFIG);
    if (maxBlock != null) {
      try {
        maxBlockMs = Math.max(0, Long.parseLong(maxBlock.trim()));
      } catch (NumberFormatException e) {
        // the producer refuses the property itself, with Kafka's message
      }
    }
    this.unseenFencingNanos = Duration.ofMillis(2 * maxBlockMs).toNanos();
  }

  /**
   * The most bytes of one record this changelog writes (key, value and headers).
   *
   * @return bytes.
   */
  public int maxRecordBytes() {
    return maxRecordBytes;
  }

  @Override
  public void takeOver(Consumer<Entry> into) {
    close();
    fenced = null;
    unseenFencingSince = 0;
    fragments.clear();
    fragmentedMaps.clear();
    superseded.clear();
    sequence = 0;
    byte[] me = new byte[16];
    UUID id = UUID.randomUUID();
    ByteBuffer.wrap(me).putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits());
    KafkaProducer<byte[], byte[]> p = open(); // fences the previous writer and settles its open transaction
    try {
      owner = me;
      hook.accept("initialized");
      // the writer record alone, at once: whoever wrote before sees within milliseconds that the log was taken over
      lastWrite = write(p, List.of(), List.of(), new Transaction(CLAIM_SEQUENCE)) + 1;
      Reading reading = new Reading(into, 0, CLAIM_SEQUENCE, -1);
      position = read(0, reading);
      reading.end();
      fragmentsChanged();
      superseded.addAll(reading.before);
    } catch (RuntimeException e) {
      owner = null;
      p.close(Duration.ZERO);
      throw e;
    }
    producer = p;
  }

  @Override
  public void append(List<Entry> entries) {
    if (fenced != null) {
      throw fencedError(fenced);
    }
    if (owner == null) {
      throw new IllegalStateException("the state changelog " + topic + " was not taken over by this instance");
    }
    List<byte[]> keys = keys(entries); // refuses what no record can carry before anything is sent
    if (producer == null) {
      reopen(-1); // an earlier append's producer failed for good, or was fenced by a producer not in the log yet
    }
    if (unsettled != null) {
      settle();
    }
    for (boolean again = false; ; again = true) {
      Transaction t = new Transaction(++sequence);
      try {
        lastWrite = write(producer, entries, keys, t) + 1;
        position = lastWrite;
      } catch (RuntimeException e) {
        if (recover(e, t, !again)) {
          LOG.info("the failed append to the state changelog {} was committed after all", topic);
          return;
        }
        continue; // the log was taken back from an instance this one had superseded: the append goes again, once
      }
      committed(t);
      return;
    }
  }

  /** Records an append's fragments once its transaction committed. */
  private void committed(Transaction t) {
    if (!t.written.isEmpty()) {
      for (Map.Entry<Bytes, Integer> f : t.written.entrySet()) {
        if (f.getValue() > 0) {
          fragments.put(f.getKey(), f.getValue());
        } else {
          fragments.remove(f.getKey());
        }
      }
      fragmentsChanged();
    }
  }

  /** Finds the maps with fragmented entries again, after {@link #fragments} changed. */
  private void fragmentsChanged() {
    fragmentedMaps.clear();
    for (Bytes key : fragments.keySet()) {
      fragmentedMaps.add(entry(key.get(), null).map());
    }
  }

  @Override
  public void close() {
    owner = null;
    unsettled = null;
    if (producer != null) {
      producer.close(Duration.ofSeconds(5));
      producer = null;
    }
  }

  private KafkaProducer<byte[], byte[]> open() {
    KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(producerProperties, new ByteArraySerializer(),
        new ByteArraySerializer());
    try {
      p.initTransactions();
    } catch (RuntimeException e) {
      p.close(Duration.ZERO);
      throw e;
    }
    return p;
  }

  /** Drops the producer, which can do no more for this instance (fenced, or failed for good). */
  private void dropProducer() {
    unsettled = null;
    if (producer != null) {
      producer.close(Duration.ZERO);
      producer = null;
    }
  }

  private static boolean has(Throwable e, Class<? extends Throwable> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }

  /** Whether a producer's failure says that its epoch is not the transactional id's latest. */
  private static boolean isFencing(Throwable e) {
    return has(e, ProducerFencedException.class) || has(e, InvalidProducerEpochException.class);
  }

  private IllegalStateException fencedError(RuntimeException cause) {
    return new StateChangelog.Fenced("the state changelog " + topic + " was taken over by another instance: this "
        + "one is fenced and writes nothing more", cause);
  }

  /** Marks this instance fenced for good (until it takes the log over again) and says so. */
  private IllegalStateException fencedForGood(RuntimeException cause) {
    dropProducer();
    fenced = cause;
    return fencedError(cause);
  }

  /**
   * Brings the producer back to a state it can go on from after an append (or the finishing of an earlier one)
   * failed, without a new producer unless the old one cannot go on.
   *
   * @param e the failure.
   * @param t the append's transaction.
   * @param mayGoAgain whether the append may be written again after this instance took the log back.
   * @return true if the append was committed after all; false if it was not, and may be written again on a new
   *     producer (the log was taken back).
   * @throws RuntimeException {@code e}, or why this instance is fenced or holds back.
   */
  private boolean recover(RuntimeException e, Transaction t, boolean mayGoAgain) {
    hook.accept("failed");
    KafkaProducer<byte[], byte[]> p = producer;
    RuntimeException error = e;
    if (t.committing && e instanceof TimeoutException) {
      // the commit's outcome is not known yet: the producer goes on with the commit it started, asked again
      LOG.warn("a commit to the state changelog {} timed out ({}); asked again", topic, e.toString());
      hook.accept("commit-timed-out");
      try {
        p.commitTransaction();
        lastWrite = Math.max(lastWrite, offset(t) + 1);
        position = Math.max(position, lastWrite);
        committed(t);
        return true;
      } catch (TimeoutException again) {
        unsettled = t; // asked again before the next append's transaction
        again.addSuppressed(e);
        throw again;
      } catch (RuntimeException other) {
        other.addSuppressed(e);
        error = other;
      }
    }
    if (isFencing(error)) {
      Boolean committed = fencedBy(error, t.seq, mayGoAgain);
      if (committed != null) {
        return committed;
      }
      if (!has(error, InvalidProducerEpochException.class) || has(error, ProducerFencedException.class)) {
        throw unseenFencing(error);
      }
      // no other take-over in the log: the coordinator aborted the transaction, which ran past
      // transaction.timeout.ms (KIP-588), and bumped the epoch; the producer aborts and goes on
    }
    RuntimeException abortFailure = null;
    try {
      p.abortTransaction(); // no new producer: initTransactions would fence a successor that took over meanwhile
    } catch (RuntimeException a) {
      abortFailure = a;
    }
    if (abortFailure == null) {
      LOG.warn("an append to the state changelog {} failed ({}); its transaction is aborted and the producer goes "
          + "on", topic, error.toString());
      hook.accept("aborted");
      throw error;
    }
    error.addSuppressed(abortFailure);
    if (abortFailure instanceof TimeoutException) {
      t.committing = false;
      unsettled = t; // aborted again before the next append's transaction
      throw error;
    }
    if (isFencing(abortFailure)) {
      Boolean committed = fencedBy(abortFailure, t.seq, mayGoAgain);
      if (committed != null) {
        return committed;
      }
      throw unseenFencing(abortFailure);
    }
    // a fatal error: this producer cannot go on
    LOG.warn("an append to the state changelog {} failed ({}) and its producer cannot go on ({}); a new one takes "
        + "the log over again unless another instance did", topic, error.toString(), abortFailure.toString());
    dropProducer();
    if (!reopenAfter(error, t.seq)) {
      throw error; // the sync writes its batch again
    }
    return true;
  }

  /**
   * Opens a new producer after an append failed ({@link #reopen}).
   *
   * @return whether the append was committed after all.
   * @throws RuntimeException why this instance is fenced, or {@code error} if the new producer could not be opened
   *     (the next append tries again).
   */
  private boolean reopenAfter(RuntimeException error, long failed) {
    try {
      return reopen(failed);
    } catch (RuntimeException r) {
      if (fenced != null) {
        r.addSuppressed(error);
        throw r;
      }
      error.addSuppressed(r);
      throw error;
    }
  }

  /**
   * Finishes the transaction an earlier append left open (its commit or abort timed out) before the next begins.
   */
  private void settle() {
    Transaction t = unsettled;
    unsettled = null;
    try {
      if (t.committing) {
        producer.commitTransaction();
        lastWrite = Math.max(lastWrite, offset(t) + 1);
        position = Math.max(position, lastWrite);
        committed(t);
        LOG.info("an earlier append to the state changelog {}, whose commit timed out, was committed", topic);
      } else {
        producer.abortTransaction();
      }
    } catch (RuntimeException e) {
      try {
        recover(e, t, false);
      } catch (RuntimeException failed) {
        if (producer == null || unsettled != null || fenced != null) {
          throw failed;
        }
        // aborted: the log stands as it was before that append, and this one can begin
      }
    }
    hook.accept("settled");
  }

  /**
   * Reads the log after this instance's last write, without fencing anyone, after its producer was fenced: another
   * take-over's writer record there means this instance is fenced for good; writer records of take-overs this one
   * superseded only mean that one of them opened a new producer (after a fatal error) without seeing this
   * take-over, and stood down when it saw it: this instance takes the log back.
   *
   * @param failure the fencing error.
   * @param failed the sequence number of the append that failed.
   * @param mayGoAgain whether the append may be written again after the log was taken back.
   * @return null if the log shows no other take-over; else (taken back) whether the append was committed after
   *     all, false only if it may go again.
   * @throws RuntimeException why this instance is fenced; or {@code failure}, after the log was taken back, if the
   *     append was not committed and may not go again.
   */
  private Boolean fencedBy(RuntimeException failure, long failed, boolean mayGoAgain) {
    Reading r = new Reading(null, Long.MAX_VALUE, Long.MAX_VALUE, -1);
    read(lastWrite, r);
    if (successor(r.before)) {
      throw fencedForGood(failure);
    }
    if (!r.before.isEmpty()) {
      LOG.warn("the state changelog {} was fenced by an instance this one had taken it over from; taken back",
          topic);
      dropProducer();
      if (reopenAfter(failure, failed)) {
        return true;
      }
      if (!mayGoAgain) {
        throw failure;
      }
      return false;
    }
    return null;
  }

  /** Whether any of these owners' take-overs came after this instance's. */
  private boolean successor(Set<Bytes> owners) {
    for (Bytes o : owners) {
      if (!superseded.contains(o)) {
        return true;
      }
    }
    return false;
  }

  /** This instance's producer was fenced by one whose take-over the log does not show (yet). */
  private IllegalStateException unseenFencing(RuntimeException cause) {
    dropProducer();
    if (unseenFencingSince == 0) {
      unseenFencingSince = System.nanoTime();
    }
    return new IllegalStateException("the state changelog " + topic + " is held by another producer whose take-"
        + "over is not in the log yet: this instance writes nothing until the log tells who took it over", cause);
  }

  /**
   * Opens a new producer for this instance through a take-over's own path: after its producer failed for good, to
   * take the log back from an instance it superseded, or after a fencing by a producer no take-over in the log
   * shows. The log after this instance's last write is read first without fencing anyone: another take-over there
   * and this instance is fenced, and opens nothing. Else the new producer fences whoever holds the log (and settles
   * this instance's open transaction), its writer record is committed at once, and the log is read to its end: a
   * take-over that came before the new producer (this one fenced it) makes this instance stand down, fenced.
   *
   * @param failed the sequence number of an append that failed, or -1.
   * @return whether that append was committed after all.
   */
  private boolean reopen(long failed) {
    Reading check = new Reading(null, Long.MAX_VALUE, Long.MAX_VALUE, -1);
    read(lastWrite, check);
    if (successor(check.before)) {
      throw fencedForGood(new IllegalStateException("another instance's writer record after this one's last "
          + "write"));
    }
    if (check.before.isEmpty() && unseenFencingSince != 0
        && System.nanoTime() - unseenFencingSince < unseenFencingNanos) {
      throw new IllegalStateException("the state changelog " + topic + " is held by another producer whose take-"
          + "over is not in the log yet: this instance writes nothing until the log tells who took it over");
    }
    hook.accept("reopening");
    KafkaProducer<byte[], byte[]> p = open();
    Reading after;
    long claimed;
    try {
      Transaction claim = new Transaction(++sequence);
      claimed = write(p, List.of(), List.of(), claim) + 1;
      after = new Reading(null, position, claim.seq, failed);
      position = Math.max(read(lastWrite, after), claimed);
    } catch (RuntimeException e) {
      p.close(Duration.ZERO);
      if (isFencing(e) && unseenFencingSince == 0) {
        unseenFencingSince = System.nanoTime();
      }
      throw e;
    } finally {
      fragmentsChanged();
    }
    if (successor(after.before)) {
      // a take-over between the first read and the new producer, which fenced it: its instance takes the log back
      // (this one is among those it superseded) when its next append fails
      p.close(Duration.ZERO);
      LOG.warn("the state changelog {} was taken over while this instance opened a new producer; this one stands "
          + "down", topic);
      throw fencedForGood(new IllegalStateException("taken over while this instance opened a new producer"));
    }
    lastWrite = claimed;
    unseenFencingSince = 0;
    producer = p;
    return after.watched;
  }

  /** Each entry's record key, refusing what no record can carry (nothing is sent then). */
  private List<byte[]> keys(List<Entry> entries) {
    List<byte[]> keys = new ArrayList<>(entries.size());
    for (Entry e : entries) {
      byte[] key = key(e);
      room(key); // also for entries that fit: their left-over fragments' tombstones and later values need it
      keys.add(key);
    }
    return keys;
  }

  /**
   * Writes one transaction: the writer record, then each entry (in fragments where it does not fit a record, with
   * tombstones for fragments left over from its earlier value).
   *
   * @param t the append: receives each entry's new highest fragment index where it had or has fragments.
   * @return the offset of the transaction's last record.
   */
  private long write(KafkaProducer<byte[], byte[]> p, List<Entry> entries, List<byte[]> keys, Transaction t) {
    Map<Bytes, Integer> written = t.written;
    p.beginTransaction();
    t.last = p.send(new ProducerRecord<>(topic, 0, WRITER_KEY,
        ByteBuffer.allocate(Long.BYTES + owner.length).putLong(t.seq).put(owner).array()));
    hook.accept("writer-sent");
    for (int n = 0; n < entries.size(); n++) {
      Entry e = entries.get(n);
      byte[] key = keys.get(n);
      byte[] value = e.value();
      int count = value == null || key.length + value.length <= maxRecordBytes ? 1 : fragmentCount(key, value);
      Bytes k = null;
      int before = 0;
      if (count > 1 || fragmentedMaps.contains(e.map())) {
        k = Bytes.wrap(key);
        Integer w = written.get(k);
        before = w != null ? w : fragments.getOrDefault(k, 0);
      }
      if (count == 1) {
        t.last = p.send(new ProducerRecord<>(topic, 0, key, value));
      } else {
        int per = room(key);
        for (int i = 0; i < count; i++) {
          RecordHeaders headers = new RecordHeaders();
          headers.add(FRAGMENT_HEADER, ByteBuffer.allocate(Long.BYTES + 2 * Integer.BYTES).putLong(t.seq).putInt(i)
              .putInt(count).array());
          t.last = p.send(new ProducerRecord<>(topic, 0, i == 0 ? key : fragmentKey(key, i),
              Arrays.copyOfRange(value, i * per, Math.min(value.length, (i + 1) * per)), headers));
        }
      }
      for (int i = count; i <= before; i++) {
        t.last = p.send(new ProducerRecord<>(topic, 0, fragmentKey(key, i), null));
      }
      if (count > 1 || before > 0) {
        written.put(k, count - 1);
        fragmentedMaps.add(e.map()); // the same entry again in this append looks its fragments up
      }
    }
    hook.accept("sent");
    t.committing = true;
    p.commitTransaction(); // flushes; throws if any record failed or another instance fenced this one
    return offset(t);
  }

  /** The offset of a committed transaction's last record. */
  private long offset(Transaction t) {
    try {
      return t.last.get().offset();
    } catch (ExecutionException e) {
      throw new KafkaException("a committed record of " + topic + " has no offset", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new org.apache.kafka.common.errors.InterruptException(e);
    }
  }

  private int fragmentCount(byte[] key, byte[] value) {
    int room = room(key);
    return (int) ((value.length + (long) room - 1) / room);
  }

  /** The value bytes each fragment of an entry carries (the last one the rest). */
  private int room(byte[] key) {
    int room = maxRecordBytes - key.length - FRAGMENT_KEY_BYTES - FRAGMENT_HEADER_BYTES;
    if (room < MIN_FRAGMENT_BYTES) {
      throw new IllegalArgumentException("a state entry's key of " + key.length + " bytes leaves no room for its "
          + "value in a record of at most " + maxRecordBytes + " bytes");
    }
    return room;
  }

  private static byte[] key(Entry e) {
    if (e.map().isEmpty() || e.map().indexOf(0) >= 0) {
      throw new IllegalArgumentException("a state map's name must be non-empty and free of zero characters");
    }
    byte[] name = e.map().getBytes(StandardCharsets.UTF_8);
    byte[] key = new byte[name.length + 1 + e.key().length];
    System.arraycopy(name, 0, key, 0, name.length);
    System.arraycopy(e.key(), 0, key, name.length + 1, e.key().length);
    return key;
  }

  /** The entry a record's key (map, zero byte, key) and value stand for. */
  private static Entry entry(byte[] key, byte[] value) {
    int zero = 0;
    while (zero < key.length && key[zero] != 0) {
      zero++;
    }
    return new Entry(new String(key, 0, zero, StandardCharsets.UTF_8),
        Arrays.copyOfRange(key, Math.min(zero + 1, key.length), key.length), value);
  }

  private static byte[] fragmentKey(byte[] key, int index) {
    byte[] k = new byte[FRAGMENT_KEY_BYTES + key.length];
    k[1] = 'f';
    ByteBuffer.wrap(k, 2, Integer.BYTES).putInt(index);
    System.arraycopy(key, 0, k, FRAGMENT_KEY_BYTES, key.length);
    return k;
  }

  /**
   * Reads the committed records from an offset (0: the beginning) to the end.
   *
   * @return the offset after the last record read.
   */
  private long read(long from, Reading reading) {
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(consumerProperties, new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      c.assign(List.of(partition));
      if (from == 0) {
        c.seekToBeginning(List.of(partition));
      } else {
        c.seek(partition, from);
      }
      long end = c.endOffsets(List.of(partition)).get(partition);
      while (c.position(partition) < end) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
          reading.accept(r);
        }
      }
      return c.position(partition);
    }
  }

  /** One append's transaction. */
  private static final class Transaction {
    final long seq;
    /** Each entry's new highest fragment index where it had or has fragments. */
    final Map<Bytes, Integer> written = new HashMap<>();
    /** The last record sent. */
    Future<RecordMetadata> last;
    /** Whether the commit was asked for. */
    boolean committing;

    Transaction(long seq) {
      this.seq = seq;
    }
  }

  /** One pass over the topic: entries (reassembled) to a consumer, the changelog's bookkeeping, writer records. */
  private final class Reading {
    private final Consumer<Entry> into;
    /** Records from this offset on update the sequence number and the fragments' bookkeeping. */
    private final long trackFrom;
    /** The sequence number of this instance's writer record that claims the log in this pass (none: MAX_VALUE). */
    private final long claim;
    /** The sequence number of an append of this instance to look for before the claim, or -1. */
    private final long watch;
    /** Other take-overs whose writer records came before the claim. */
    final Set<Bytes> before = new LinkedHashSet<>();
    /** Whether this instance's claim was read. */
    boolean claimed;
    /** Whether the append looked for was read (before the claim). */
    boolean watched;
    /** The entry being reassembled (its first fragment's key), the append it belongs to, its fragments. */
    private byte[] key;
    private long seq;
    private byte[][] parts;
    private int next;

    /**
     * A pass.
     *
     * @param into receives each entry, or null when only the bookkeeping counts.
     * @param trackFrom the offset from which on the pass updates the sequence number and the fragments.
     * @param claim the sequence number of this instance's writer record that claims the log in this pass.
     * @param watch the sequence number of an append of this instance to look for, or -1.
     */
    Reading(Consumer<Entry> into, long trackFrom, long claim, long watch) {
      this.into = into;
      this.trackFrom = trackFrom;
      this.claim = claim;
      this.watch = watch;
    }

    void accept(ConsumerRecord<byte[], byte[]> r) {
      byte[] k = r.key();
      byte[] value = r.value();
      boolean track = r.offset() >= trackFrom;
      if (k == null || k.length == 0) {
        return; // not this changelog's
      }
      if (k[0] != 0) {
        Header h = r.headers().lastHeader(FRAGMENT_HEADER);
        if (h == null) {
          if (into != null) {
            into.accept(entry(k, value));
          }
          return;
        }
        ByteBuffer f = ByteBuffer.wrap(h.value());
        long s = f.getLong();
        f.getInt();
        int count = f.getInt();
        sequence(s, track);
        if (into != null && value != null && count <= 1) {
          into.accept(entry(k, value)); // not split after all
        } else if (into != null && value != null) {
          if (key != null) {
            LOG.warn("the state changelog {} holds an incomplete entry ({} of {} fragments of append {}) before "
                + "offset {}; it is left out", topic, next, parts.length, seq, r.offset());
          }
          key = k;
          seq = s;
          parts = new byte[count][];
          parts[0] = value;
          next = 1;
        }
        return;
      }
      if (Arrays.equals(k, WRITER_KEY)) {
        if (value != null && value.length >= Long.BYTES) {
          long s = ByteBuffer.wrap(value).getLong();
          sequence(s, track);
          if (owner != null) {
            if (Arrays.equals(value, Long.BYTES, value.length, owner, 0, owner.length)) {
              if (!claimed && s == watch) {
                watched = true;
              }
              if (s >= claim) {
                claimed = true;
              }
            } else if (!claimed) {
              before.add(Bytes.wrap(Arrays.copyOfRange(value, Long.BYTES, value.length)));
            }
          }
        }
        return;
      }
      if (k.length < FRAGMENT_KEY_BYTES || k[1] != 'f') {
        return; // a reserved key of a later version
      }
      int index = ByteBuffer.wrap(k, 2, Integer.BYTES).getInt();
      if (track) {
        Bytes entry = Bytes.wrap(Arrays.copyOfRange(k, FRAGMENT_KEY_BYTES, k.length));
        int highest = fragments.getOrDefault(entry, 0);
        highest = value != null ? Math.max(highest, index) : Math.min(highest, index - 1);
        if (highest > 0) {
          fragments.put(entry, highest);
        } else {
          fragments.remove(entry);
        }
      }
      Header h = r.headers().lastHeader(FRAGMENT_HEADER);
      if (value == null || h == null) {
        return;
      }
      long s = ByteBuffer.wrap(h.value()).getLong();
      sequence(s, track);
      if (key != null && s == seq && index == next
          && Arrays.equals(k, FRAGMENT_KEY_BYTES, k.length, key, 0, key.length)) {
        parts[next++] = value;
        if (next == parts.length) {
          int length = 0;
          for (byte[] part : parts) {
            length += part.length;
          }
          byte[] whole = new byte[length];
          int at = 0;
          for (byte[] part : parts) {
            System.arraycopy(part, 0, whole, at, part.length);
            at += part.length;
          }
          into.accept(entry(key, whole));
          key = null;
          parts = null;
        }
      }
      // else a fragment of another append's value, which compaction has not removed yet: not part of the state
    }

    private void sequence(long s, boolean track) {
      if (track) {
        sequence = Math.max(sequence, s);
      }
    }

    /** The end of the topic: an entry still incomplete there was never committed whole (cannot happen). */
    void end() {
      if (key != null) {
        LOG.warn("the state changelog {} ends in an incomplete entry ({} of {} fragments); it is left out", topic,
            next, parts.length);
      }
    }
  }
}
