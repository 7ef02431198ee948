package io.cutover.engine.kafka;

import io.cutover.engine.sync.StateChangelog;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
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
 * before, one plain record each.
 *
 * <p><b>Ownership.</b> Every transaction, the take-over's own included, carries a writer record (key: a zero byte
 * and {@code w}) naming the take-over that wrote it and the append's sequence number. A producer that fails for
 * any reason but a fencing (a timeout, a record the broker refuses, an abortable error) is closed and replaced: the
 * instance first reads the topic after its last write, and if another instance's writer record is there it was
 * taken over and counts as fenced (its new producer would otherwise fence the successor); else a new producer
 * opens the log again ({@code initTransactions}, which settles the failed transaction) and the rest of the topic
 * is read again, which tells whether the failed append was committed after all. A fenced instance stays fenced
 * until it takes the log over again.
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
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(KafkaStateChangelog.class);

  private final String topic;
  private final TopicPartition partition;
  private final int maxRecordBytes;
  private final Properties producerProperties = new Properties();
  private final Properties consumerProperties = new Properties();
  private KafkaProducer<byte[], byte[]> producer;
  /** This instance's take-over, named in its writer records; null until the log is taken over (or closed). */
  private byte[] owner;
  /** Why this instance may no longer write: another one took the log over. */
  private RuntimeException fenced;
  /** The highest append sequence number in the log (read or written). */
  private long sequence;
  /** The offset after the last record this instance read or committed. */
  private long position;
  /** Each entry (map, zero byte, key) whose fragment records beyond the first may be live: the highest index. */
  private final Map<Bytes, Integer> fragments = new HashMap<>();
  /** The maps with an entry in {@link #fragments}: an append looks up no entry of another map. */
  private final Set<String> fragmentedMaps = new HashSet<>();

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
    fragments.clear();
    sequence = 0;
    KafkaProducer<byte[], byte[]> p = open(); // fences the previous writer and settles its open transaction
    try {
      Reading reading = new Reading(into, true);
      position = read(0, reading);
      reading.end();
      fragmentsChanged();
      byte[] me = new byte[16];
      UUID id = UUID.randomUUID();
      ByteBuffer.wrap(me).putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits());
      owner = me;
      // the writer record alone: whoever wrote before sees that the log was taken over
      position = write(p, List.of(), ++sequence, new HashMap<>()) + 1;
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
    if (producer == null) {
      recover(Long.MAX_VALUE); // an earlier append failed, and so did the attempt to replace its producer
    }
    KafkaProducer<byte[], byte[]> p = producer;
    long seq = ++sequence;
    Map<Bytes, Integer> written = new HashMap<>();
    try {
      position = write(p, entries, seq, written) + 1;
    } catch (RuntimeException e) {
      producer = null; // in an error state, or in a transaction an unexpected error left open
      p.close(Duration.ZERO);
      if (isFencing(e)) {
        fenced = e;
        throw fencedError(e);
      }
      if (!(e instanceof KafkaException)) {
        throw e; // the next append replaces the producer
      }
      LOG.warn("an append to the state changelog {} failed ({}); a new producer takes over from this instance",
          topic, e.toString());
      try {
        if (recover(seq)) {
          LOG.info("the failed append to the state changelog {} was committed after all", topic);
          return;
        }
      } catch (RuntimeException recovery) {
        if (fenced != null) {
          recovery.addSuppressed(e);
          throw recovery;
        }
        e.addSuppressed(recovery);
      }
      throw e;
    }
    if (!written.isEmpty()) {
      for (Map.Entry<Bytes, Integer> f : written.entrySet()) {
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

  /** Whether a producer's failure means another instance took the log over (a newer epoch). */
  private static boolean isFencing(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ProducerFencedException || t instanceof InvalidProducerEpochException) {
        return true;
      }
    }
    return false;
  }

  private IllegalStateException fencedError(RuntimeException cause) {
    return new IllegalStateException("the state changelog " + topic + " was taken over by another instance: this "
        + "one is fenced and writes nothing more", cause);
  }

  /**
   * Replaces a failed producer, unless another instance took the log over since this one's last write: then this
   * one is fenced. Reads the topic from there first without fencing anyone, then opens a new producer (which
   * settles the failed transaction) and reads it again.
   *
   * @param failed the sequence number of the append that failed.
   * @return whether that append was committed after all.
   */
  private boolean recover(long failed) {
    Reading before = new Reading(null, false);
    read(position, before);
    if (before.foreign) {
      fenced = new IllegalStateException("another instance's writer record after this one's last write");
      throw fencedError(fenced);
    }
    KafkaProducer<byte[], byte[]> p = open();
    Reading after = new Reading(null, true);
    try {
      position = read(position, after);
    } catch (RuntimeException e) {
      p.close(Duration.ZERO);
      throw e;
    } finally {
      fragmentsChanged();
    }
    if (after.foreign) {
      // taken over between the two reads: the new producer has fenced the successor in turn, so neither writes
      // until the group assigns the service again
      p.close(Duration.ZERO);
      LOG.error("the state changelog {} was taken over while this instance replaced its failed producer; both "
          + "are fenced until the service is assigned again", topic);
      fenced = new IllegalStateException("taken over while this instance replaced its failed producer");
      throw fencedError(fenced);
    }
    producer = p;
    return after.ownSequence >= failed;
  }

  /**
   * Writes one transaction: the writer record, then each entry (in fragments where it does not fit a record, with
   * tombstones for fragments left over from its earlier value).
   *
   * @param written receives each entry's new highest fragment index where it had or has fragments.
   * @return the offset of the transaction's last record.
   */
  private long write(KafkaProducer<byte[], byte[]> p, List<Entry> entries, long seq, Map<Bytes, Integer> written) {
    p.beginTransaction();
    Future<RecordMetadata> last = p.send(new ProducerRecord<>(topic, 0, WRITER_KEY,
        ByteBuffer.allocate(Long.BYTES + owner.length).putLong(seq).put(owner).array()));
    for (Entry e : entries) {
      byte[] key = key(e);
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
        last = p.send(new ProducerRecord<>(topic, 0, key, value));
      } else {
        int per = room(key);
        for (int i = 0; i < count; i++) {
          RecordHeaders headers = new RecordHeaders();
          headers.add(FRAGMENT_HEADER, ByteBuffer.allocate(Long.BYTES + 2 * Integer.BYTES).putLong(seq).putInt(i)
              .putInt(count).array());
          last = p.send(new ProducerRecord<>(topic, 0, i == 0 ? key : fragmentKey(key, i),
              Arrays.copyOfRange(value, i * per, Math.min(value.length, (i + 1) * per)), headers));
        }
      }
      for (int i = count; i <= before; i++) {
        last = p.send(new ProducerRecord<>(topic, 0, fragmentKey(key, i), null));
      }
      if (count > 1 || before > 0) {
        written.put(k, count - 1);
        fragmentedMaps.add(e.map()); // the same entry again in this append looks its fragments up
      }
    }
    p.commitTransaction(); // flushes; throws if any record failed or another instance fenced this one
    try {
      return last.get().offset();
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

  /** One pass over the topic: entries (reassembled) to a consumer, and the changelog's bookkeeping. */
  private final class Reading {
    private final Consumer<Entry> into;
    private final boolean track;
    /** Whether another take-over's writer record was read. */
    boolean foreign;
    /** The highest sequence number of this take-over's writer records read. */
    long ownSequence = -1;
    /** The entry being reassembled (its first fragment's key), the append it belongs to, its fragments. */
    private byte[] key;
    private long seq;
    private byte[][] parts;
    private int next;

    /**
     * A pass.
     *
     * @param into receives each entry, or null when only the bookkeeping counts.
     * @param track whether the pass updates the sequence number and the fragments' bookkeeping.
     */
    Reading(Consumer<Entry> into, boolean track) {
      this.into = into;
      this.track = track;
    }

    void accept(ConsumerRecord<byte[], byte[]> r) {
      byte[] k = r.key();
      byte[] value = r.value();
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
        sequence(s);
        if (into != null && value != null && count <= 1) {
          into.accept(entry(k, value)); // not split after all
        } else if (into != null && value != null) {
          key = k;
          seq = s;
          parts = new byte[count][];
          parts[0] = value;
          next = 1;
        }
        return;
      }
      if (Arrays.equals(k, WRITER_KEY)) {
        if (value != null) {
          long s = ByteBuffer.wrap(value).getLong();
          sequence(s);
          if (owner != null) {
            if (Arrays.equals(value, Long.BYTES, value.length, owner, 0, owner.length)) {
              ownSequence = Math.max(ownSequence, s);
            } else {
              foreign = true;
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
      sequence(s);
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

    private void sequence(long s) {
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
