package io.cutover.journal.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class WriteBehindTest {
  private static final long MIB = 1L << 20;

  @TempDir Path dir;

  /** Page-cache residency of a mapped range, one byte per page (bit 0: resident). */
  static final class Residency {
    static {
      Native.register(Residency.class, "c");
    }

    static native int mincore(Pointer address, long length, byte[] vector);

    static int residentPages(Path file, long from, long length) throws Exception {
      try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
        MappedByteBuffer mapped = channel.map(FileChannel.MapMode.READ_ONLY, from, length);
        try {
          byte[] vector = new byte[(int) (length / Pretoucher.PAGE)];
          assertEquals(0, mincore(new Pointer(new UnsafeBuffer(mapped).addressOffset()), length, vector));
          int resident = 0;
          for (byte page : vector) {
            resident += page & 1;
          }
          return resident;
        } finally {
          IoUtil.unmap(mapped);
        }
      }
    }
  }

  @Test
  void startsWriteBackBehindTheWriterAndDropsWhatIsFurtherBackLeavingTheDataIntact() throws Exception {
    Path file = dir.resolve("journal.cq4");
    byte[] chunk = new byte[(int) (8 * MIB)];
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      for (int c = 0; c < 6; c++) {
        java.util.Arrays.fill(chunk, (byte) ('a' + c));
        channel.write(ByteBuffer.wrap(chunk));
      }
      channel.force(false); // clean pages: dropping them is then certain, not racing the write-back
    }
    boolean dropsPages = !Files.getFileStore(file).type().equals("tmpfs"); // on tmpfs the cache is the storage
    int residentBefore = Residency.residentPages(file, 0, 48 * MIB);

    // the writer at 48 MiB; write-back from 8 MiB behind, dropping from 16 MiB behind
    try (WriteBehind behind = new WriteBehind(8 * MIB, 16 * MIB)) {
      int steps = 0;
      while (behind.step(file.toFile(), 48 * MIB)) {
        steps++;
      }
      assertEquals(40 * MIB, behind.written(), "write-back started up to 8 MiB behind the writer");
      assertEquals(32 * MIB, behind.dropped(), "dropped up to 16 MiB behind, from the second chunk on");
      long chunks = 40 * MIB / WriteBehind.CHUNK;
      assertEquals((chunks + WriteBehind.MAX_CHUNKS - 1) / WriteBehind.MAX_CHUNKS, steps,
          "a bounded number of chunks written back per step, and the drops that are due keep up");
      assertFalse(behind.step(file.toFile(), 48 * MIB), "nothing more until the writer moves on");
    }

    if (dropsPages) {
      assertTrue(residentBefore > 0, "the file was cached before: " + residentBefore);
      assertEquals(0, Residency.residentPages(file, 8 * MIB, 24 * MIB),
          "8..32 MiB dropped from the page cache");
      assertTrue(Residency.residentPages(file, 0, 8 * MIB) > 0, "the file's head stays cached");
      assertEquals(Residency.residentPages(file, 32 * MIB, 16 * MIB), (int) (16 * MIB / Pretoucher.PAGE),
          "the last 16 MiB, near the writer, stay cached");
    }
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer read = ByteBuffer.allocate(chunk.length);
      for (int c = 0; c < 6; c++) {
        read.clear();
        while (read.hasRemaining() && channel.read(read) > 0) {
          // fills
        }
        java.util.Arrays.fill(chunk, (byte) ('a' + c));
        assertArrayEquals(chunk, read.array(), "chunk " + c + " reads back as written");
      }
    }
  }

  @Test
  void startsOverOnTheNextCycleFile() throws Exception {
    Path first = dir.resolve("a.cq4");
    Path second = dir.resolve("b.cq4");
    for (Path file : new Path[] {first, second}) {
      try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
        channel.write(ByteBuffer.wrap(new byte[1]), 24 * MIB - 1);
      }
    }
    try (WriteBehind behind = new WriteBehind(8 * MIB, 1L << 40)) {
      while (behind.step(first.toFile(), 24 * MIB)) {
        // catches up
      }
      assertEquals(16 * MIB, behind.written());
      assertTrue(behind.step(second.toFile(), 17 * MIB));
      assertEquals(9 * MIB, behind.written(), "a new file starts from its beginning, up to 8 MiB behind the writer");
      assertFalse(behind.step(null, 0));
    }
  }
}
