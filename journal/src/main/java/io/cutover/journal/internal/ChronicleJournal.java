package io.cutover.journal.internal;

import io.cutover.journal.ConsumerCheckpoint;
import io.cutover.journal.Journal;
import io.cutover.journal.JournalConfig;
import io.cutover.journal.JournalCorruptedException;
import io.cutover.journal.JournalException;
import io.cutover.journal.JournalReader;
import io.cutover.journal.JournalRollCycle;
import io.cutover.journal.SyncPolicy;
import io.cutover.journal.VerifyReport;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.bytes.SyncMode;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueStore;
import net.openhft.chronicle.queue.rollcycles.LegacyRollCycles;
import net.openhft.chronicle.queue.rollcycles.TestRollCycles;
import net.openhft.chronicle.wire.DocumentContext;
import org.agrona.DirectBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link Journal} on a Chronicle single-file-per-cycle queue. */
public final class ChronicleJournal implements Journal {
  private static final Logger LOG = LoggerFactory.getLogger(ChronicleJournal.class);
  private static final Pattern CONSUMER_NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  private static final String CONSUMERS_DIR = "consumers";

  private final JournalConfig config;
  private final Path directory;
  private final Path consumersDirectory;
  private final SingleChronicleQueue queue;
  private final Quarantine quarantine;
  private final Map<String, MappedCheckpoint> checkpoints = new ConcurrentHashMap<>();
  private final Set<ChronicleJournalReader> readers = ConcurrentHashMap.newKeySet();
  private final CRC32C crc = new CRC32C();
  private final boolean forceCheckpoints;
  private ExcerptAppender appender;
  private byte[] scratch = new byte[1024];
  private volatile long lastIndex;
  private boolean unsynced;
  private long writePosition;
  private final Pretoucher pretoucher;
  private volatile boolean closed;

  private ChronicleJournal(JournalConfig config, SingleChronicleQueue queue) {
    this.config = config;
    this.directory = config.directory();
    this.consumersDirectory = directory.resolve(CONSUMERS_DIR);
    this.queue = queue;
    this.quarantine = new Quarantine(directory);
    this.forceCheckpoints = config.syncPolicy() != SyncPolicy.NONE;
    long last = queue.lastIndex();
    this.lastIndex = last < 0 ? NO_INDEX : last;
    this.pretoucher = config.pretouch() ? new Pretoucher(directory.getFileName().toString()) : null;
  }

  /**
   * Opens a journal; see {@link Journal#open}.
   *
   * @param config the configuration.
   * @return the journal.
   */
  public static ChronicleJournal open(JournalConfig config) {
    return open(config, true);
  }

  /**
   * Opens a journal without checking its last record, so tools can inspect a damaged one.
   *
   * @param config the configuration.
   * @return the journal.
   */
  public static ChronicleJournal openForInspection(JournalConfig config) {
    return open(config, false);
  }

  private static ChronicleJournal open(JournalConfig config, boolean checkTail) {
    Path directory = config.directory();
    try {
      io.cutover.journal.PrivateDirectories.create(directory); // every captured row is in it: owner only
      Files.createDirectories(directory.resolve(CONSUMERS_DIR));
    } catch (IOException e) {
      throw new JournalException("cannot create journal directory " + directory + ": " + e, e);
    }
    SingleChronicleQueue queue;
    try {
      queue = SingleChronicleQueueBuilder.single(directory.toFile())
          .rollCycle(rollCycle(config.rollCycle()))
          .blockSize(blockSize(config.maxRecordBytes()))
          .syncMode(config.syncPolicy() == SyncPolicy.NONE ? SyncMode.NONE : SyncMode.SYNC)
          .timeoutMS(2_000)
          .build();
    } catch (RuntimeException e) {
      throw unreadable(directory, e);
    }
    ChronicleJournal journal;
    try {
      journal = new ChronicleJournal(config, queue);
    } catch (JournalException e) {
      queue.close();
      throw e;
    } catch (RuntimeException e) {
      queue.close();
      throw unreadable(directory, e);
    }
    try {
      journal.loadConsumers();
      if (checkTail) {
        journal.checkTail();
      }
    } catch (JournalException e) {
      journal.close();
      throw e;
    } catch (RuntimeException e) {
      journal.close();
      throw unreadable(directory, e);
    }
    return journal;
  }

  private static JournalCorruptedException unreadable(Path directory, RuntimeException cause) {
    JournalCorruptedException e = new JournalCorruptedException("journal " + directory + " cannot be opened: "
        + cause + ". A journal file was probably truncated or overwritten: run `JournalTool verify " + directory
        + "`, then restore the directory from a backup or move it aside to start afresh", NO_INDEX);
    e.initCause(cause);
    return e;
  }

  /** The smallest block Chronicle maps at a time; see {@link #blockSize(int)}. */
  static final long MIN_BLOCK_SIZE = 8L << 20;

  /**
   * How much of a cycle file Chronicle maps at a time: 8 MiB, or more when records may be larger (a record must fit
   * in a quarter of a block, Chronicle's overlap). Chronicle's default is 64 MiB; a mapped block is unmapped by its
   * background releaser once the writer has moved on, and unmapping 64 MiB of touched pages held a core for 3-5 ms
   * on the 2-core machine, long enough to stall the pipeline's threads (p99 publish-to-applied 1.1-2.3 ms against
   * 0.6-1.1 ms with 8 MiB blocks, docs/BENCHMARKS.md section 4).
   */
  static long blockSize(int maxRecordBytes) {
    long block = MIN_BLOCK_SIZE;
    while (block / 4 < maxRecordBytes + 64L * 1024) {
      block <<= 1;
    }
    return block;
  }

  static RollCycle rollCycle(JournalRollCycle cycle) {
    return switch (cycle) {
      case SECONDLY -> TestRollCycles.TEST_SECONDLY;
      case MINUTELY -> LegacyRollCycles.MINUTELY;
      case FIVE_MINUTELY -> RollCycles.FIVE_MINUTELY;
      case HOURLY -> RollCycles.FAST_HOURLY;
      case DAILY -> RollCycles.FAST_DAILY;
    };
  }

  private void loadConsumers() {
    try (Stream<Path> files = Files.list(consumersDirectory)) {
      for (Path file : (Iterable<Path>) files::iterator) {
        String fileName = file.getFileName().toString();
        if (fileName.endsWith(MappedCheckpoint.SUFFIX)) {
          String name = fileName.substring(0, fileName.length() - MappedCheckpoint.SUFFIX.length());
          checkpoints.put(name, MappedCheckpoint.open(name, file, forceCheckpoints));
        }
      }
    } catch (IOException e) {
      throw new JournalException("cannot list consumers in " + consumersDirectory + ": " + e, e);
    }
  }

  /** A crash can tear the last record only; check it at open so damage is reported before any replay. */
  private void checkTail() {
    long last = lastIndex;
    if (last == NO_INDEX || quarantine.contains(last)) {
      return;
    }
    ExcerptTailer tailer = queue.createTailer();
    try (ChronicleJournalReader reader = new ChronicleJournalReader(this, tailer, NO_INDEX)) {
      readers.add(reader);
      if (tailer.moveToIndex(last)) {
        String damage = reader.checkNext();
        if (damage != null) {
          throw damaged(last, damage);
        }
      }
    }
  }

  JournalCorruptedException damaged(long index, String damage) {
    return new JournalCorruptedException("journal " + directory + ": record at index " + RecordFormat.describe(index)
        + " is damaged (" + damage + "). It is never skipped silently. Run `JournalTool verify " + directory
        + "` to list every damaged record; if it is the last record it was a write torn by a crash and was never "
        + "acknowledged: `JournalTool quarantine " + directory + " " + index + "` lets readers skip it.", index);
  }

  boolean isQuarantined(long index) {
    return quarantine.contains(index);
  }

  @Override
  public long append(DirectBuffer buffer, int offset, int length) {
    if (length < 0 || length > config.maxRecordBytes()) {
      throw new IllegalArgumentException("journal record of " + length + " bytes exceeds maxRecordBytes "
          + config.maxRecordBytes() + " (journal " + directory + ")");
    }
    ensureOpen();
    if (appender == null) {
      appender = queue.createAppender();
      appender.singleThreadedCheckDisabled(true);
    }
    if (scratch.length < length) {
      scratch = new byte[Math.max(length, scratch.length * 2)];
    }
    buffer.getBytes(offset, scratch, 0, length);
    int checksum = RecordFormat.checksum(crc, scratch, length);
    try (DocumentContext dc = appender.writingDocument()) {
      Bytes<?> bytes = dc.wire().bytes();
      bytes.writeInt(checksum);
      bytes.writeInt(length);
      bytes.write(scratch, 0, length);
      writePosition = bytes.writePosition();
    }
    long index = appender.lastIndexAppended();
    lastIndex = index;
    if (config.syncPolicy() == SyncPolicy.EVERY_RECORD) {
      appender.sync();
    } else {
      unsynced = true;
    }
    return index;
  }

  @Override
  public void flush() {
    if (unsynced && config.syncPolicy() == SyncPolicy.BATCH && appender != null) {
      appender.sync();
    }
    unsynced = false;
    if (pretoucher != null && appender != null) {
      pretoucher.writerAt(appender.currentFile(), writePosition);
    }
  }

  @Override
  public JournalReader readAfter(long afterIndex) {
    ensureOpen();
    ExcerptTailer tailer = queue.createTailer();
    ChronicleJournalReader reader = new ChronicleJournalReader(this, tailer, afterIndex);
    readers.add(reader);
    if (afterIndex == NO_INDEX) {
      tailer.toStart();
      return reader;
    }
    if (!tailer.moveToIndex(afterIndex) || !reader.skipOne()) {
      reader.close();
      throw new JournalException("journal " + directory + " has no record at index "
          + RecordFormat.describe(afterIndex) + " to read after (kept: " + firstIndex() + " to " + lastIndex + ")");
    }
    return reader;
  }

  void readerClosed(ChronicleJournalReader reader) {
    readers.remove(reader);
  }

  @Override
  public ConsumerCheckpoint checkpoint(String consumerName) {
    ensureOpen();
    requireValidName(consumerName);
    return checkpoints.computeIfAbsent(consumerName, name ->
        MappedCheckpoint.open(name, consumersDirectory.resolve(name + MappedCheckpoint.SUFFIX), forceCheckpoints));
  }

  private static void requireValidName(String consumerName) {
    if (consumerName == null || !CONSUMER_NAME.matcher(consumerName).matches()) {
      throw new IllegalArgumentException("journal consumer name '" + consumerName
          + "' is not valid: use 1 to 64 characters from [A-Za-z0-9._-]");
    }
  }

  @Override
  public boolean removeConsumer(String consumerName) {
    requireValidName(consumerName);
    MappedCheckpoint checkpoint = checkpoints.remove(consumerName);
    if (checkpoint == null) {
      return false;
    }
    checkpoint.close();
    try {
      Files.deleteIfExists(checkpoint.file());
    } catch (IOException e) {
      throw new JournalException("cannot delete " + checkpoint.file() + ": " + e, e);
    }
    return true;
  }

  @Override
  public Map<String, Long> consumers() {
    Map<String, Long> result = new TreeMap<>();
    checkpoints.forEach((name, checkpoint) -> result.put(name, checkpoint.index()));
    return result;
  }

  @Override
  public long firstIndex() {
    if (lastIndex == NO_INDEX) {
      return NO_INDEX;
    }
    long first = queue.firstIndex();
    return first < 0 || first == Long.MAX_VALUE ? NO_INDEX : first;
  }

  @Override
  public long lastIndex() {
    return lastIndex;
  }

  @Override
  public synchronized int purge() {
    ensureOpen();
    RollCycle rollCycle = queue.rollCycle();
    int lastCycle = queue.lastCycle();
    int firstCycle = queue.firstCycle();
    if (lastIndex == NO_INDEX || firstCycle == Integer.MAX_VALUE || lastCycle < 0) {
      return 0;
    }
    long limitCycle = (long) lastCycle - config.retainedCycles() + 1;
    for (MappedCheckpoint checkpoint : checkpoints.values()) {
      long index = checkpoint.index();
      if (index == NO_INDEX) {
        return 0;
      }
      limitCycle = Math.min(limitCycle, rollCycle.toCycle(index));
    }
    int deleted = 0;
    NavigableSet<Long> cycles = queue.listCyclesBetween(firstCycle, lastCycle);
    for (long cycle : cycles) {
      if (cycle >= limitCycle || cycle >= queue.cycle()) {
        break;
      }
      SingleChronicleQueueStore store = queue.storeForCycle((int) cycle, queue.epoch(), false, null);
      if (store == null) {
        continue;
      }
      File file = store.file();
      queue.closeStore(store);
      try {
        if (Files.deleteIfExists(file.toPath())) {
          deleted++;
          LOG.info("journal {}: retention deleted cycle file {}", directory, file.getName());
        }
      } catch (IOException e) {
        throw new JournalException("journal " + directory + ": cannot delete " + file + ": " + e, e);
      }
    }
    if (deleted > 0) {
      queue.refreshDirectoryListing();
    }
    return deleted;
  }

  @Override
  public VerifyReport verify() {
    List<Long> damaged = new ArrayList<>();
    List<Long> quarantined = new ArrayList<>();
    long records = 0;
    long first = NO_INDEX;
    long last = NO_INDEX;
    ExcerptTailer tailer = queue.createTailer().toStart();
    try (ChronicleJournalReader reader = new ChronicleJournalReader(this, tailer, NO_INDEX)) {
      readers.add(reader);
      while (true) {
        long index;
        String damage;
        try (DocumentContext dc = tailer.readingDocument()) {
          if (!dc.isPresent()) {
            break;
          }
          index = dc.index();
          damage = reader.checkCurrent(dc.wire().bytes());
        }
        records++;
        if (first == NO_INDEX) {
          first = index;
        }
        last = index;
        if (damage != null) {
          (quarantine.contains(index) ? quarantined : damaged).add(index);
        }
      }
    }
    return new VerifyReport(records, first, last, damaged, quarantined);
  }

  @Override
  public void quarantine(long index) {
    quarantine.add(index);
  }

  @Override
  public Path directory() {
    return directory;
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("journal " + directory + " is closed");
    }
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (ChronicleJournalReader reader : List.copyOf(readers)) {
      reader.close();
    }
    if (appender != null) {
      if (unsynced && config.syncPolicy() != SyncPolicy.NONE) {
        appender.sync();
      }
      appender.close();
    }
    if (pretoucher != null) {
      pretoucher.close();
    }
    checkpoints.values().forEach(MappedCheckpoint::close);
    checkpoints.clear();
    queue.close();
  }
}
