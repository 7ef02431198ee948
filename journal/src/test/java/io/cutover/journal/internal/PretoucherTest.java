package io.cutover.journal.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.journal.Journal;
import io.cutover.journal.JournalConfig;
import io.cutover.journal.JournalReader;
import java.io.File;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class PretoucherTest {
  @TempDir Path dir;

  @Test
  void shouldGrowTheFileAheadOfTheWriterWithoutTouchingItsData() throws Exception {
    List<String> written = new ArrayList<>();
    try (Journal journal = Journal.open(JournalConfig.of(dir))) {
      for (int i = 0; i < 2_000; i++) {
        String text = "record-" + i + "-" + "x".repeat(i % 50);
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        journal.append(new UnsafeBuffer(bytes), 0, bytes.length);
        written.add(text);
        if (i % 100 == 0) {
          journal.flush();
        }
      }
      journal.flush();
      Path file = cycleFile();
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (Files.size(file) < Pretoucher.GROW_AHEAD && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertTrue(Files.size(file) >= Pretoucher.GROW_AHEAD, "file grown ahead: " + Files.size(file));
      List<String> read = new ArrayList<>();
      try (JournalReader reader = journal.readAfter(Journal.NO_INDEX)) {
        while (reader.next((index, buffer, offset, length) -> read.add(buffer.getStringWithoutLengthUtf8(offset,
            length)))) {
          // collects
        }
      }
      assertEquals(written, read);
    }
  }

  @Test
  void shouldTouchPagesAheadAndNeverShrinkOrOverwrite() throws Exception {
    Path path = dir.resolve("plain.cq4");
    try (RandomAccessFile raf = new RandomAccessFile(path.toFile(), "rw")) {
      raf.setLength(1L << 20);
      raf.seek(8_192);
      raf.writeInt(0x12345678);
    }
    try (Pretoucher pretoucher = new Pretoucher("test")) {
      File file = path.toFile();
      assertFalse(pretoucher.touchAhead(), "nothing to do before the writer reports a position");
      pretoucher.writerAt(file, 4_096);
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (Files.size(path) < 4_096 + Pretoucher.GROW_AHEAD && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertEquals(4_096 + Pretoucher.GROW_AHEAD, Files.size(path));
      while (pretoucher.touchedUpTo() < 4_096 + Pretoucher.AHEAD && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertTrue(pretoucher.touchedUpTo() >= 4_096 + Pretoucher.AHEAD);
      assertTrue(mappedWithRandomAdvice(path), "the pretoucher's mapping is advised random access (no read-around)");
    }
    try (RandomAccessFile raf = new RandomAccessFile(path.toFile(), "r")) {
      raf.seek(8_192);
      assertEquals(0x12345678, raf.readInt(), "data ahead of the writer is left as it was");
    }
  }

  /**
   * Whether a mapping of the file in this process carries the kernel's random-read flag ("rr" in smaps'
   * VmFlags). On systems without /proc (not Linux) there is nothing to check and the answer is true.
   */
  private static boolean mappedWithRandomAdvice(Path file) throws Exception {
    Path smaps = Path.of("/proc/self/smaps");
    if (!Files.isReadable(smaps)) {
      return true;
    }
    String name = file.toRealPath().toString();
    boolean inMapping = false;
    for (String line : Files.readAllLines(smaps)) {
      if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
        inMapping = line.endsWith(name);
      } else if (inMapping && line.startsWith("VmFlags:") && List.of(line.substring(8).trim().split(" "))
          .contains("rr")) {
        return true;
      }
    }
    return false;
  }

  @Test
  void blocksAreSmallButHoldTheLargestRecord() {
    assertEquals(8L << 20, ChronicleJournal.blockSize(JournalConfig.DEFAULT_MAX_RECORD_BYTES));
    assertEquals(8L << 20, ChronicleJournal.blockSize(64));
    assertEquals(32L << 20, ChronicleJournal.blockSize(4 << 20));
    assertEquals(512L << 20, ChronicleJournal.blockSize(JournalConfig.LIMIT_MAX_RECORD_BYTES));
  }

  @Test
  void recordsOfTheLargestSizeCrossBlocksIntact() {
    int size = 3 << 20;
    try (Journal journal = Journal.open(JournalConfig.builder(dir).maxRecordBytes(size).build())) {
      byte[] record = new byte[size];
      for (int i = 0; i < 12; i++) {
        java.util.Arrays.fill(record, (byte) i);
        record[0] = (byte) (100 + i);
        journal.append(new UnsafeBuffer(record), 0, size);
      }
      journal.flush();
      List<String> read = new ArrayList<>();
      try (JournalReader reader = journal.readAfter(Journal.NO_INDEX)) {
        while (reader.next((index, buffer, offset, length) -> read.add(length + ":" + buffer.getByte(offset) + ":"
            + buffer.getByte(offset + length - 1)))) {
          // collects
        }
      }
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < 12; i++) {
        expected.add(size + ":" + (100 + i) + ":" + i);
      }
      assertEquals(expected, read, "12 records of 3 MiB, more than one 16 MiB block, read back whole");
    }
  }

  private Path cycleFile() throws Exception {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(f -> f.toString().endsWith(".cq4")).findFirst().orElseThrow();
    }
  }
}
