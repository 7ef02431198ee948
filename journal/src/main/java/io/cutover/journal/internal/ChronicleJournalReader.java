package io.cutover.journal.internal;

import io.cutover.journal.JournalCorruptedException;
import io.cutover.journal.JournalReader;
import io.cutover.journal.RecordHandler;
import java.util.zip.CRC32C;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.wire.DocumentContext;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A reader over a Chronicle tailer. One thread at a time; the record buffer is reused. */
final class ChronicleJournalReader implements JournalReader {
  private static final Logger LOG = LoggerFactory.getLogger(ChronicleJournalReader.class);

  private final ChronicleJournal journal;
  private final ExcerptTailer tailer;
  private final CRC32C crc = new CRC32C();
  private final UnsafeBuffer view = new UnsafeBuffer(new byte[0]);
  private byte[] scratch = new byte[1024];
  private long lastReadIndex;

  ChronicleJournalReader(ChronicleJournal journal, ExcerptTailer tailer, long afterIndex) {
    this.journal = journal;
    this.tailer = tailer;
    this.lastReadIndex = afterIndex;
    tailer.singleThreadedCheckDisabled(true);
  }

  @Override
  public boolean next(RecordHandler handler) {
    while (true) {
      try (DocumentContext dc = tailer.readingDocument()) {
        if (!dc.isPresent()) {
          return false;
        }
        long index = dc.index();
        Bytes<?> bytes = dc.wire().bytes();
        String damage = readRecord(bytes);
        if (damage != null) {
          if (journal.isQuarantined(index)) {
            LOG.warn("journal {}: skipping quarantined damaged record at index {}: {}",
                journal.directory(), RecordFormat.describe(index), damage);
            lastReadIndex = index;
            continue;
          }
          dc.rollbackOnClose();
          throw journal.damaged(index, damage);
        }
        int length = view.capacity();
        try {
          handler.onRecord(index, view, 0, length);
        } catch (RuntimeException | Error e) {
          dc.rollbackOnClose();
          throw e;
        }
        lastReadIndex = index;
        return true;
      }
    }
  }

  /** Reads and checks one record into the view; returns what is wrong with it, or null when intact. */
  private String readRecord(Bytes<?> bytes) {
    long remaining = bytes.readRemaining();
    if (remaining < RecordFormat.HEADER_BYTES) {
      return "record is " + remaining + " bytes, shorter than its " + RecordFormat.HEADER_BYTES + "-byte header";
    }
    int expectedCrc = bytes.readInt();
    int length = bytes.readInt();
    if (length < 0 || length != remaining - RecordFormat.HEADER_BYTES) {
      return "record length field says " + length + " bytes but " + (remaining - RecordFormat.HEADER_BYTES)
          + " follow";
    }
    if (scratch.length < length) {
      scratch = new byte[Math.max(length, scratch.length * 2)];
    }
    bytes.read(scratch, 0, length);
    int actualCrc = RecordFormat.checksum(crc, scratch, length);
    if (actualCrc != expectedCrc) {
      return "checksum mismatch: stored crc32c " + Integer.toHexString(expectedCrc) + ", computed "
          + Integer.toHexString(actualCrc);
    }
    view.wrap(scratch, 0, length);
    return null;
  }

  /** Checks the record at the reader's position without handing it over; null when intact or absent. */
  String checkNext() {
    try (DocumentContext dc = tailer.readingDocument()) {
      return dc.isPresent() ? readRecord(dc.wire().bytes()) : null;
    }
  }

  /** Checks a record the caller has open; null when intact. */
  String checkCurrent(Bytes<?> bytes) {
    return readRecord(bytes);
  }

  /** Reads one record without checking it (the one at the index a reader was opened after). */
  boolean skipOne() {
    try (DocumentContext dc = tailer.readingDocument()) {
      return dc.isPresent();
    }
  }

  @Override
  public long lastReadIndex() {
    return lastReadIndex;
  }

  @Override
  public void close() {
    tailer.close();
    journal.readerClosed(this);
  }
}
