package io.cutover.journal.internal;

import com.sun.jna.Native;
import java.io.File;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the journal's footprint in the page cache bounded, behind the writer: it drops 8 MiB chunks from the page
 * cache once the writer is {@link #DROP_LAG} past them
 * ({@code posix_fadvise(POSIX_FADV_DONTNEED)}, which leaves dirty and mapped pages alone), after starting their
 * write-back, 1 MiB at a time, a little before ({@link #WRITE_LAG}; {@code sync_file_range(SYNC_FILE_RANGE_WRITE)},
 * asynchronous).
 *
 * <p>Why: a journal written at hundreds of MB/s otherwise fills memory with pages nobody reads again, and every
 * new page is memory the machine has not touched lately. On a virtual machine the first touch of guest memory is
 * a fault in the host too: measured on the 2-core development VM, touching 18 GiB fresh took 51 s of system time,
 * and the writer's zeroing of new page-cache pages was a third of both cores at 1 M changes/s. Pages dropped
 * behind the writer are reused for the pages ahead of it, warm.
 *
 * <p>{@link #DROP_LAG} is 1 GiB because Chronicle Queue keeps writing index entries behind the writer, at most
 * one index array back (about 250 MB of typical changes on the default hourly cycle); dropping an index page in
 * use would make the writer read it back from disk. Only the file the writer is on is handled; earlier cycles are
 * left to the kernel (and to retention). On systems without these calls (not Linux) it does nothing.
 */
final class WriteBehind implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WriteBehind.class);
  /** Write-back starts a chunk at a time: 8 MiB at once took long enough to show in the p99. */
  static final long CHUNK = 1L << 20;
  /**
   * Pages are dropped 8 MiB at a time, aligned: the kernel leaves a large folio (up to 2 MiB) alone unless the
   * range covers all of it.
   */
  static final long DROP_CHUNK = 8L << 20;
  static final long DROP_LAG = 1L << 30;
  /**
   * Write-back is started shortly before a chunk is due to be dropped: at a modest rate the kernel has written it
   * back by then (its dirty pages expire after 30 s) and there is nothing left to do; at a high rate it makes the
   * chunk clean in time. (Starting it close behind the writer cost the p99 at 100,000 changes/s with a thread per
   * stage, on 2 cores.)
   */
  static final long WRITE_LAG = DROP_LAG - (64L << 20);
  /** Chunks written back per call at most, with a short pause between two. */
  static final int MAX_CHUNKS = 16;
  /** Chunks dropped per call at most. */
  static final int MAX_DROPS = 2;
  private static final int SYNC_FILE_RANGE_WRITE = 2;
  private static final int POSIX_FADV_DONTNEED = 4;
  private static final int O_RDONLY = 0;

  /** Off with {@code -Dcutover.journal.writeBehind=false} (to compare, or where the calls misbehave). */
  private static final boolean AVAILABLE = !"false".equals(System.getProperty("cutover.journal.writeBehind"))
      && register();

  private final long writeLag;
  private final long dropLag;
  private File file;
  private int fd = -1;
  private long written;
  private long dropped;
  private boolean failed;

  WriteBehind() {
    this(WRITE_LAG, DROP_LAG);
  }

  WriteBehind(long writeLag, long dropLag) {
    this.writeLag = writeLag;
    this.dropLag = dropLag;
  }

  private static boolean register() {
    try {
      Native.register(WriteBehind.class, "c");
      return true;
    } catch (RuntimeException | LinkageError e) {
      LOG.debug("journal write-behind unavailable: {}", e.toString());
      return false;
    }
  }

  private static native int sync_file_range(int fd, long offset, long nbytes, int flags);

  private static native int posix_fadvise(int fd, long offset, long len, int advice);

  private static native int open(String path, int flags);

  private static native int close(int fd);

  /**
   * Writes back and drops what the writer has left far enough behind, a bounded amount per call, so a call is
   * short.
   *
   * @param target the file the writer is on.
   * @param position the writer's position in it.
   * @return whether it did anything.
   */
  boolean step(File target, long position) {
    if (!AVAILABLE || failed || target == null) {
      return false;
    }
    if (!target.equals(file)) {
      closeFile();
      fd = open(target.getPath(), O_RDONLY);
      if (fd < 0) {
        LOG.debug("journal write-behind could not open {}", target);
        file = null;
        return false;
      }
      file = target;
      written = 0;
      dropped = DROP_CHUNK; // the file's header and index of indexes stay cached
    }
    boolean worked = false;
    // up to MAX_CHUNKS a call, pausing between chunks: at a million changes a second the writer leaves a chunk
    // behind every 4 ms, and the call must keep up without holding a core for long
    for (int chunks = 0; chunks < MAX_CHUNKS && position - writeLag >= written + CHUNK; chunks++) {
      if (chunks > 0) {
        LockSupport.parkNanos(Pretoucher.PACE_NANOS);
      }
      worked = true;
      if (sync_file_range(fd, written, CHUNK, SYNC_FILE_RANGE_WRITE) != 0) {
        disable("sync_file_range");
        return true;
      }
      written += CHUNK;
    }
    for (int drops = 0; drops < MAX_DROPS && position - dropLag >= dropped + DROP_CHUNK
        && dropped + DROP_CHUNK <= written; drops++) {
      worked = true;
      if (posix_fadvise(fd, dropped, DROP_CHUNK, POSIX_FADV_DONTNEED) != 0) {
        disable("posix_fadvise");
        return true;
      }
      dropped += DROP_CHUNK;
    }
    return worked;
  }

  /** How far write-back has been started in the current file. */
  long written() {
    return written;
  }

  /** How far the current file has been dropped from the page cache. */
  long dropped() {
    return dropped;
  }

  private void disable(String call) {
    failed = true;
    LOG.debug("journal write-behind off: {} failed with errno {}", call, Native.getLastError());
  }

  private void closeFile() {
    if (fd >= 0) {
      close(fd);
      fd = -1;
    }
    file = null;
  }

  @Override
  public void close() {
    closeFile();
  }
}
