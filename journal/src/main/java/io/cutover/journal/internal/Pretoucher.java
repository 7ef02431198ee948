package io.cutover.journal.internal;

import java.io.File;
import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.locks.LockSupport;
import net.openhft.posix.MAdviseFlag;
import net.openhft.posix.PosixAPI;
import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the filesystem's slow work off the writer's path, from a background thread:
 *
 * <ul>
 *   <li><b>Growing the file.</b> Chronicle extends a cycle file on the writer's thread when the writer nears the
 *       end of the mapped region; on ext4 that took 1 to 18 ms here, every few MiB. The pretoucher keeps the file
 *       {@link #GROW_AHEAD} bytes longer than the writer's position, so Chronicle never has to. It extends the
 *       file only by writing one zero byte at or past its current end: it never shortens the file and never
 *       writes where data may be.</li>
 *   <li><b>First writes to pages.</b> It touches the pages {@link #AHEAD} bytes ahead of the writer, so pages are
 *       in the page cache, with their blocks reserved, before the writer reaches them.</li>
 *   <li><b>Behind the writer.</b> It drops what the writer left far behind from the page cache, after starting
 *       its write-back ({@link WriteBehind}), so the journal's memory stays bounded and warm.</li>
 * </ul>
 *
 * <p>It maps the file itself (sharing the page cache with the writer's mapping) and touches each page with an
 * atomic compare-and-set of 0 to 0: a word the writer already wrote is left alone, a zero word is rewritten as
 * zero, which makes the kernel allocate and map the page. No data can be clobbered. (Reading a word instead, which
 * would dirty nothing, was tried: the writer's first write to such a page then stalled, p99 about 20 ms.)
 *
 * <p>How it touches matters as much as that it does. A fault on a sparse page makes the kernel read around it, as
 * far as the device's read-ahead (8 MiB on the development machine's disk): 8 MiB of page cache allocated and zeroed
 * in one step, 15-20 ms during which that core ran nothing else, whichever thread took the fault. So the
 * pretoucher's mapping is advised random access ({@code madvise(MADV_RANDOM)}: one page per fault), is small
 * ({@link #WINDOW}: unmapping many touched pages takes milliseconds too), and it sleeps briefly after every
 * {@link #BURST_PAGES} pages. Where {@code madvise} is not available the pretoucher still works, with the bursts.
 */
final class Pretoucher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Pretoucher.class);
  static final int PAGE = 4096;
  static final long AHEAD = 8L << 20;
  static final long GROW_AHEAD = 128L << 20;
  /** The pretoucher's own mapping; small, because unmapping a large window of touched pages takes milliseconds. */
  private static final long WINDOW = 8L << 20;
  /** Pages touched between short sleeps, so catching up never holds a core for long. */
  static final int BURST_PAGES = 16;
  /** The pause after each burst (and between two write-back chunks, {@link WriteBehind}). */
  static final long PACE_NANOS = 20_000L;
  private static final long IDLE_PARK_NANOS = 1_000_000L;
  /** The longest idle park: the parks double while there is nothing to do, and the writer ends a long one. */
  private static final long MAX_IDLE_PARK_NANOS = 256_000_000L;

  private final Thread thread;
  private volatile File file;
  private volatile long writePosition;
  private volatile boolean running = true;
  /** Set while the thread is in a long idle park, for the writer to end it. */
  private volatile boolean dozing;
  private File mappedFile;
  private MappedByteBuffer mapped;
  private UnsafeBuffer window;
  private long windowStart;
  private long touchedUpTo;
  /** Behind the writer, on the same thread: old pages written back and dropped ({@link WriteBehind}). */
  private final WriteBehind writeBehind = new WriteBehind();

  Pretoucher(String name) {
    thread = new Thread(this::run, "cutover-journal-pretouch-" + name);
    thread.setDaemon(true);
    thread.start();
  }

  /** Publishes where the writer is; called by the writer once per batch. */
  void writerAt(File currentFile, long position) {
    if (currentFile != file) {
      file = currentFile;
    }
    writePosition = position;
    if (dozing) {
      dozing = false;
      LockSupport.unpark(thread);
    }
  }

  private void run() {
    long idlePark = IDLE_PARK_NANOS;
    while (running) {
      try {
        boolean touched = touchAhead();
        if (!writeBehind.step(file, writePosition) && !touched) {
          // an idle journal costs a few wake-ups a second, not a thousand
          dozing = idlePark > IDLE_PARK_NANOS;
          LockSupport.parkNanos(idlePark);
          dozing = false;
          idlePark = Math.min(idlePark * 2, MAX_IDLE_PARK_NANOS);
        } else {
          idlePark = IDLE_PARK_NANOS;
        }
      } catch (IOException | RuntimeException e) {
        LOG.debug("journal pretouch skipped a round: {}", e.toString());
        unmap();
        LockSupport.parkNanos(IDLE_PARK_NANOS * 100);
      }
    }
    unmap();
    writeBehind.close();
  }

  /** Touches up to one page-run ahead; returns whether it did any work. */
  boolean touchAhead() throws IOException {
    File target = file;
    long position = writePosition;
    if (target == null || position <= 0) {
      return false;
    }
    if (target != mappedFile) {
      unmap();
      mappedFile = target;
      touchedUpTo = position & ~(PAGE - 1L);
    }
    // Pages behind the writer are in the page cache already: it wrote them.
    touchedUpTo = Math.max(touchedUpTo, position & ~(PAGE - 1L));
    boolean grew = growAhead(target, position);
    long goal = position + AHEAD;
    if (touchedUpTo >= goal) {
      return grew;
    }
    if (window == null || touchedUpTo < windowStart || touchedUpTo + PAGE > windowStart + window.capacity()) {
      map(touchedUpTo & ~(PAGE - 1L));
      if (window == null) {
        return false;
      }
    }
    long end = Math.min(goal, windowStart + window.capacity());
    boolean worked = false;
    int inBurst = 0;
    for (long page = Math.max(touchedUpTo, windowStart); page + 4 <= end && running; page += PAGE) {
      window.compareAndSetInt((int) (page - windowStart), 0, 0);
      touchedUpTo = page + PAGE;
      worked = true;
      if (++inBurst == BURST_PAGES) {
        inBurst = 0;
        LockSupport.parkNanos(PACE_NANOS);
      }
    }
    return worked;
  }

  private long knownSize;
  private File sizedFile;

  /** Extends the file to GROW_AHEAD past the writer once it is within half of that; true if it did. */
  boolean growAhead(File target, long position) throws IOException {
    if (target != sizedFile) {
      sizedFile = target;
      knownSize = 0;
    }
    if (knownSize - position > GROW_AHEAD / 2) {
      return false;
    }
    try (FileChannel channel = FileChannel.open(target.toPath(), StandardOpenOption.WRITE)) {
      long size = channel.size();
      long wanted = position + GROW_AHEAD;
      if (size < wanted) {
        channel.write(java.nio.ByteBuffer.wrap(new byte[1]), Math.max(size, wanted - 1));
        size = channel.size();
      }
      knownSize = size;
      return true;
    }
  }

  private void map(long start) throws IOException {
    unmap();
    try (FileChannel channel = FileChannel.open(mappedFile.toPath(), StandardOpenOption.READ,
        StandardOpenOption.WRITE)) {
      long size = channel.size();
      if (start + PAGE > size) {
        return;
      }
      long length = Math.min(WINDOW, size - start);
      mapped = channel.map(FileChannel.MapMode.READ_WRITE, start, length);
      window = new UnsafeBuffer(mapped);
      windowStart = start;
      adviseRandom(window.addressOffset(), length);
    }
  }

  /** Turns the kernel's read-around off for the pretoucher's own mapping (see the class comment). */
  private static void adviseRandom(long address, long length) {
    try {
      int result = PosixAPI.posix().madvise(address, length, MAdviseFlag.MADV_RANDOM);
      if (result != 0) {
        LOG.debug("journal pretouch: madvise(MADV_RANDOM) returned {}", result);
      }
    } catch (RuntimeException | LinkageError e) {
      LOG.debug("journal pretouch: madvise unavailable: {}", e.toString());
    }
  }

  private void unmap() {
    if (mapped != null) {
      IoUtil.unmap(mapped);
      mapped = null;
      window = null;
    }
  }

  long touchedUpTo() {
    return touchedUpTo;
  }

  @Override
  public void close() {
    running = false;
    LockSupport.unpark(thread);
    try {
      thread.join(2_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
