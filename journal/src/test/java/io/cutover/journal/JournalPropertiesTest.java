package io.cutover.journal;

import static io.cutover.journal.JournalTestSupport.append;
import static io.cutover.journal.JournalTestSupport.readAll;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.strings;

import io.cutover.journal.JournalTestSupport.Read;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(120)
class JournalPropertiesTest {

  @Test
  void anyRecordsReopenedReadBackInOrderFromAnyPoint() {
    qt().withExamples(40).forAll(
            lists().of(strings().basicLatinAlphabet().ofLengthBetween(0, 200)).ofSizeBetween(1, 60),
            integers().between(0, 59))
        .checkAssert((records, start) -> {
          Path dir = tempDir();
          try {
            List<Long> indexes = new ArrayList<>();
            try (Journal journal = Journal.open(JournalConfig.of(dir))) {
              for (String record : records) {
                indexes.add(append(journal, record));
              }
            }
            int from = Math.min(start, records.size() - 1);
            List<Read> expected = new ArrayList<>();
            for (int i = from + 1; i < records.size(); i++) {
              expected.add(new Read(indexes.get(i), records.get(i)));
            }
            try (Journal journal = Journal.open(JournalConfig.of(dir));
                 JournalReader reader = journal.readAfter(indexes.get(from))) {
              org.junit.jupiter.api.Assertions.assertEquals(expected, readAll(reader));
            }
          } finally {
            delete(dir);
          }
        });
  }

  private static Path tempDir() {
    try {
      return Files.createTempDirectory("journal-prop");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void delete(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
