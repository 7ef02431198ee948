package io.cutover.journal;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.agrona.concurrent.UnsafeBuffer;

/** Helpers shared by the journal tests. */
final class JournalTestSupport {
  private JournalTestSupport() {}

  static long append(Journal journal, String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    return journal.append(new UnsafeBuffer(bytes), 0, bytes.length);
  }

  record Read(long index, String text) {}

  static List<Read> readAll(JournalReader reader) {
    List<Read> result = new ArrayList<>();
    while (reader.next((index, buffer, offset, length) ->
        result.add(new Read(index, buffer.getStringWithoutLengthUtf8(offset, length))))) {
      // collects
    }
    return result;
  }

  static List<Path> cycleFiles(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(f -> f.getFileName().toString().endsWith(".cq4")).sorted().toList();
    }
  }

  /** Flips one byte of the first occurrence of {@code marker} in the journal's cycle files. */
  static void damage(Path dir, String marker) throws IOException {
    byte[] needle = marker.getBytes(StandardCharsets.UTF_8);
    for (Path file : cycleFiles(dir)) {
      try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
        long size = Math.min(channel.size(), 8L << 20);
        MappedByteBuffer map = channel.map(FileChannel.MapMode.READ_WRITE, 0, size);
        outer:
        for (int i = 0; i + needle.length <= size; i++) {
          for (int j = 0; j < needle.length; j++) {
            if (map.get(i + j) != needle[j]) {
              continue outer;
            }
          }
          map.put(i + 2, (byte) (map.get(i + 2) ^ 0x5a));
          map.force();
          return;
        }
      }
    }
    throw new AssertionError("marker " + marker + " not found in " + dir);
  }
}
