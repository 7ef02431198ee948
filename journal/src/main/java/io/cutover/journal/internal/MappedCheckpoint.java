package io.cutover.journal.internal;

import io.cutover.journal.ConsumerCheckpoint;
import io.cutover.journal.Journal;
import io.cutover.journal.JournalException;
import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A checkpoint in a small memory-mapped file: {@code long magic, long index}. An aligned 8-byte store is
 * atomic, so a killed process leaves either the old index or the new one, never a mix. A killed process loses
 * nothing stored (the page is the kernel's); forced to disk, for a power loss, at most every
 * {@value #FORCE_EVERY_MILLIS} ms as it moves forward (a batch's handler commits it per batch: one disk write each
 * cost more than the batch), at once when it moves back. After a power loss a consumer so restarts up to that
 * long before where it was: what any consumer must take anyway (a crash between its own commit and the
 * checkpoint's replays its last batch), and handlers with a durable position skip it.
 */
final class MappedCheckpoint implements ConsumerCheckpoint {
  static final String SUFFIX = ".checkpoint";
  private static final long MAGIC = 0x4355544f56455231L; // "CUTOVER1"
  private static final int FILE_BYTES = 64;
  private static final int INDEX_OFFSET = 8;

  private final String name;
  private final Path file;
  private final boolean force;
  private final MappedByteBuffer mapped;
  private final UnsafeBuffer buffer;
  static final long FORCE_EVERY_MILLIS = 50;
  /** When it was last forced (nanoTime). */
  private long forced = System.nanoTime() - FORCE_EVERY_MILLIS * 1_000_000;

  private MappedCheckpoint(String name, Path file, boolean force, MappedByteBuffer mapped) {
    this.name = name;
    this.file = file;
    this.force = force;
    this.mapped = mapped;
    this.buffer = new UnsafeBuffer(mapped);
  }

  static MappedCheckpoint open(String name, Path file, boolean force) {
    boolean existed = Files.exists(file);
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
        StandardOpenOption.WRITE)) {
      if (existed && channel.size() != FILE_BYTES) {
        throw new JournalException("consumer checkpoint " + file + " is " + channel.size() + " bytes, expected "
            + FILE_BYTES + ": the file is damaged; delete it to make consumer '" + name
            + "' start again from the oldest record kept");
      }
      MappedByteBuffer mapped = channel.map(FileChannel.MapMode.READ_WRITE, 0, FILE_BYTES);
      MappedCheckpoint checkpoint = new MappedCheckpoint(name, file, force, mapped);
      if (!existed) {
        checkpoint.buffer.putLong(INDEX_OFFSET, Journal.NO_INDEX);
        checkpoint.buffer.putLongVolatile(0, MAGIC);
        checkpoint.force();
      } else if (checkpoint.buffer.getLongVolatile(0) != MAGIC) {
        IoUtil.unmap(mapped);
        throw new JournalException("consumer checkpoint " + file + " has no valid header: the file is damaged; "
            + "delete it to make consumer '" + name + "' start again from the oldest record kept");
      }
      return checkpoint;
    } catch (IOException e) {
      throw new JournalException("cannot open consumer checkpoint " + file + ": " + e.getMessage(), e);
    }
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public long index() {
    return buffer.getLongVolatile(INDEX_OFFSET);
  }

  @Override
  public void commit(long index) {
    long current = index();
    if (index < current) {
      throw new IllegalArgumentException("checkpoint of consumer '" + name + "' cannot go back from " + current
          + " to " + index + " by commit; use rewind");
    }
    if (index != current) {
      buffer.putLongOrdered(INDEX_OFFSET, index);
      if (System.nanoTime() - forced >= FORCE_EVERY_MILLIS * 1_000_000) {
        force();
      }
    }
  }

  @Override
  public void rewind(long index) {
    if (index < Journal.NO_INDEX) {
      throw new IllegalArgumentException("checkpoint of consumer '" + name + "' cannot rewind to " + index);
    }
    store(index);
  }

  private void store(long index) {
    buffer.putLongOrdered(INDEX_OFFSET, index);
    force();
  }

  private void force() {
    if (force) {
      mapped.force();
      forced = System.nanoTime();
    }
  }

  Path file() {
    return file;
  }

  void close() {
    force();
    IoUtil.unmap(mapped);
  }
}
