package io.cutover.journal.internal;

import io.cutover.journal.JournalException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.agrona.collections.LongHashSet;

/** The operator's list of damaged records that readers may skip: one index per line in a text file. */
final class Quarantine {
  static final String FILE_NAME = "quarantine.txt";
  private final Path file;
  private final LongHashSet indexes = new LongHashSet();

  Quarantine(Path directory) {
    this.file = directory.resolve(FILE_NAME);
    if (Files.exists(file)) {
      try {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
          String line = lines.get(i).strip();
          if (line.isEmpty() || line.startsWith("#")) {
            continue;
          }
          try {
            indexes.add(Long.parseLong(line));
          } catch (NumberFormatException e) {
            throw new JournalException(file + " line " + (i + 1) + ": '" + line + "' is not a journal index");
          }
        }
      } catch (IOException e) {
        throw new JournalException("cannot read " + file + ": " + e.getMessage(), e);
      }
    }
  }

  synchronized boolean contains(long index) {
    return !indexes.isEmpty() && indexes.contains(index);
  }

  synchronized void add(long index) {
    if (!indexes.add(index)) {
      return;
    }
    try {
      Files.writeString(file, index + System.lineSeparator(), StandardCharsets.UTF_8, StandardOpenOption.CREATE,
          StandardOpenOption.APPEND, StandardOpenOption.SYNC);
    } catch (IOException e) {
      indexes.remove(index);
      throw new JournalException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }
}
