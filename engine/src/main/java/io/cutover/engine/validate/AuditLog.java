package io.cutover.engine.validate;

import io.cutover.journal.Journal;
import io.cutover.journal.JournalConfig;
import io.cutover.journal.JournalReader;
import io.cutover.journal.SyncPolicy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.agrona.ExpandableArrayBuffer;

/**
 * The durable audit journal of validation: every run, every discrepancy reported and every repair, appended with
 * its time and cause, forced to disk before {@link #append} returns, readable back by time range. Kept in its own
 * Chronicle Queue, beside the change journal. Thread-safe.
 */
public final class AuditLog implements AutoCloseable {
  private static final int MAX_ENTRY_BYTES = 64 * 1024;
  private final Journal journal;
  private final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(512);

  private AuditLog(Journal journal) {
    this.journal = journal;
  }

  /**
   * Opens (creating if needed) an audit log.
   *
   * @param directory its directory.
   * @return the log; close it when done.
   */
  public static AuditLog open(Path directory) {
    return new AuditLog(Journal.open(JournalConfig.builder(directory).syncPolicy(SyncPolicy.EVERY_RECORD)
        .maxRecordBytes(MAX_ENTRY_BYTES).build()));
  }

  /**
   * Appends an entry, durably. A detail too long for one entry is cut (and says so).
   *
   * @param entry the entry.
   * @return its index in the log.
   */
  public synchronized long append(AuditEntry entry) {
    String detail = entry.detail();
    int budget = MAX_ENTRY_BYTES / 4 - 64;
    if (detail.length() > budget) {
      detail = detail.substring(0, budget) + "... (cut)";
    }
    String table = cut(entry.table());
    int p = 0;
    buffer.putLong(p, entry.timeMicros());
    p += Long.BYTES;
    buffer.putByte(p++, (byte) entry.kind().ordinal());
    p += buffer.putStringUtf8(p, cut(entry.service()));
    p += buffer.putStringUtf8(p, table);
    p += buffer.putStringUtf8(p, cut(entry.cause()));
    p += buffer.putStringUtf8(p, detail);
    return journal.append(buffer, 0, p);
  }

  private static String cut(String text) {
    return text.length() > 1_000 ? text.substring(0, 1_000) : text;
  }

  /**
   * The entries in a time range, oldest first.
   *
   * @param fromMicros the first time wanted, microseconds since the epoch (inclusive).
   * @param toMicros the end (exclusive).
   * @return the entries.
   */
  public List<AuditEntry> read(long fromMicros, long toMicros) {
    List<AuditEntry> out = new ArrayList<>();
    try (JournalReader reader = journal.readAfter(Journal.NO_INDEX)) {
      while (reader.next((index, b, offset, length) -> {
        long time = b.getLong(offset);
        if (time < fromMicros || time >= toMicros) {
          return;
        }
        int p = offset + Long.BYTES;
        AuditEntry.Kind kind = AuditEntry.Kind.values()[b.getByte(p++)];
        String service = b.getStringUtf8(p);
        p += Integer.BYTES + b.getInt(p);
        String table = b.getStringUtf8(p);
        p += Integer.BYTES + b.getInt(p);
        String cause = b.getStringUtf8(p);
        p += Integer.BYTES + b.getInt(p);
        out.add(new AuditEntry(time, kind, service, table, cause, b.getStringUtf8(p)));
      })) {
        // read on
      }
    }
    return out;
  }

  /** Closes the log. */
  @Override
  public void close() {
    journal.close();
  }
}
