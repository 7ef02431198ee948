package io.cutover.journal;

import static io.cutover.journal.JournalTestSupport.append;
import static io.cutover.journal.JournalTestSupport.readAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.journal.JournalTestSupport.Read;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class JournalTest {
  @TempDir Path dir;

  @Test
  void aNewJournalDirectoryIsTheOwnersOnlyAndAnExistingOneIsLeftAsItIs() throws Exception {
    Path fresh = dir.resolve("a").resolve("journal");
    try (Journal journal = Journal.open(JournalConfig.of(fresh))) {
      assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(
          java.nio.file.Files.getPosixFilePermissions(fresh)), "every captured row is in it");
    }
    Path shared = dir.resolve("shared");
    java.nio.file.Files.createDirectories(shared);
    java.nio.file.Files.setPosixFilePermissions(shared, java.nio.file.attribute.PosixFilePermissions.fromString(
        "rwxr-x---"));
    try (Journal journal = Journal.open(JournalConfig.of(shared))) {
      assertEquals("rwxr-x---", java.nio.file.attribute.PosixFilePermissions.toString(
          java.nio.file.Files.getPosixFilePermissions(shared)), "what an operator chose stays");
    }
  }

  @Test
  void shouldReturnIncreasingIndexesAndReadRecordsBackInOrder() {
    try (Journal journal = Journal.open(JournalConfig.of(dir))) {
      assertEquals(Journal.NO_INDEX, journal.lastIndex());
      assertEquals(Journal.NO_INDEX, journal.firstIndex());
      long a = append(journal, "alpha");
      long b = append(journal, "beta");
      long c = append(journal, "gamma");
      assertTrue(a < b && b < c);
      assertEquals(c, journal.lastIndex());
      assertEquals(a, journal.firstIndex());
      try (JournalReader reader = journal.readAfter(Journal.NO_INDEX)) {
        assertEquals(List.of(new Read(a, "alpha"), new Read(b, "beta"), new Read(c, "gamma")), readAll(reader));
        assertEquals(c, reader.lastReadIndex());
      }
    }
  }

  @Test
  void shouldReadAfterAGivenIndexAndTailNewRecords() {
    try (Journal journal = Journal.open(JournalConfig.of(dir))) {
      long a = append(journal, "one");
      long b = append(journal, "two");
      try (JournalReader reader = journal.readAfter(a)) {
        assertEquals(List.of(new Read(b, "two")), readAll(reader));
        assertFalse(reader.next((i, buf, o, l) -> { }));
        long c = append(journal, "three");
        assertEquals(List.of(new Read(c, "three")), readAll(reader));
      }
    }
  }

  @Test
  void shouldRefuseToReadAfterAnIndexItDoesNotHold() {
    try (Journal journal = Journal.open(JournalConfig.of(dir))) {
      long a = append(journal, "one");
      JournalException e = assertThrows(JournalException.class, () -> journal.readAfter(a + 1000));
      assertTrue(e.getMessage().contains("has no record at index " + (a + 1000)), e.getMessage());
    }
  }

  @Test
  void shouldKeepRecordsAndCheckpointsAcrossReopen() {
    long b;
    try (Journal journal = Journal.open(JournalConfig.of(dir))) {
      long a = append(journal, "kept-1");
      b = append(journal, "kept-2");
      journal.checkpoint("apply").commit(a);
      journal.checkpoint("checksum");
      journal.flush();
    }
    try (Journal journal = Journal.open(JournalConfig.of(dir))) {
      assertEquals(b, journal.lastIndex());
      Map<String, Long> consumers = journal.consumers();
      assertEquals(2, consumers.size());
      assertEquals(Journal.NO_INDEX, consumers.get("checksum"));
      ConsumerCheckpoint apply = journal.checkpoint("apply");
      try (JournalReader reader = journal.readAfter(apply.index())) {
        assertEquals(List.of(new Read(b, "kept-2")), readAll(reader));
      }
      long c = append(journal, "kept-3");
      assertTrue(c > b);
    }
  }

  @Test
  void shouldValidateCheckpointUse() {
    try (Journal journal = Journal.open(JournalConfig.of(dir))) {
      ConsumerCheckpoint checkpoint = journal.checkpoint("stage-1");
      assertSame(checkpoint, journal.checkpoint("stage-1"));
      assertEquals("stage-1", checkpoint.name());
      checkpoint.commit(10);
      checkpoint.commit(10);
      IllegalArgumentException back = assertThrows(IllegalArgumentException.class, () -> checkpoint.commit(5));
      assertTrue(back.getMessage().contains("cannot go back from 10 to 5"), back.getMessage());
      checkpoint.rewind(3);
      assertEquals(3, checkpoint.index());
      assertThrows(IllegalArgumentException.class, () -> checkpoint.rewind(-2));
      IllegalArgumentException name = assertThrows(IllegalArgumentException.class, () -> journal.checkpoint("a b"));
      assertTrue(name.getMessage().contains("'a b' is not valid"), name.getMessage());
      assertTrue(journal.removeConsumer("stage-1"));
      assertFalse(journal.removeConsumer("stage-1"));
      assertTrue(journal.consumers().isEmpty());
    }
  }

  @Test
  void shouldRejectOversizedRecordWithoutWritingIt() {
    try (Journal journal = Journal.open(JournalConfig.builder(dir).maxRecordBytes(64).build())) {
      long a = append(journal, "small");
      byte[] big = new byte[65];
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> journal.append(new UnsafeBuffer(big), 0, big.length));
      assertTrue(e.getMessage().contains("65 bytes exceeds maxRecordBytes 64"), e.getMessage());
      assertEquals(a, journal.lastIndex());
    }
  }

  @Test
  void shouldValidateConfiguration() {
    assertThrows(IllegalArgumentException.class, () -> JournalConfig.builder(dir).retainedCycles(0).build());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> JournalConfig.builder(dir).maxRecordBytes(10).build());
    assertTrue(e.getMessage().contains("maxRecordBytes"), e.getMessage());
    assertThrows(NullPointerException.class, () -> JournalConfig.builder(null).build());
    assertEquals(JournalRollCycle.HOURLY, JournalConfig.of(dir).rollCycle());
  }

  @Test
  void shouldWorkUnderEverySyncPolicyAndRollCycle() {
    for (SyncPolicy policy : SyncPolicy.values()) {
      for (JournalRollCycle cycle : JournalRollCycle.values()) {
        Path sub = dir.resolve(policy + "-" + cycle);
        assertTrue(cycle.lengthMillis() > 0 && cycle.maxRecordsPerCycle() > 0);
        try (Journal journal = Journal.open(JournalConfig.builder(sub).syncPolicy(policy).rollCycle(cycle).build())) {
          long a = append(journal, "x");
          journal.flush();
          append(journal, "y");
          journal.flush();
          journal.flush();
          try (JournalReader reader = journal.readAfter(a)) {
            assertEquals("y", readAll(reader).get(0).text());
          }
        }
      }
    }
  }

  @Test
  void shouldRefuseUseAfterClose() {
    Journal journal = Journal.open(JournalConfig.of(dir));
    journal.close();
    journal.close();
    assertThrows(IllegalStateException.class, () -> append(journal, "late"));
  }

  @Test
  void shouldPurgeOnlyCyclesEveryConsumerHasPassed() throws Exception {
    JournalConfig config = JournalConfig.builder(dir).rollCycle(JournalRollCycle.SECONDLY).retainedCycles(1).build();
    try (Journal journal = Journal.open(config)) {
      assertEquals(0, journal.purge());
      List<Long> firstOfCycle = new ArrayList<>();
      for (int cycle = 0; cycle < 4; cycle++) {
        // Start each cycle's two appends just after a second begins, so both land in that second's file (an
        // append straddling the boundary made an extra file, and the purge count below off by one).
        Thread.sleep(1_100 - System.currentTimeMillis() % 1_000);
        firstOfCycle.add(append(journal, "cycle-" + cycle + "-a"));
        append(journal, "cycle-" + cycle + "-b");
      }
      Thread.sleep(1_100 - System.currentTimeMillis() % 1_000);
      append(journal, "current");
      int files = JournalTestSupport.cycleFiles(dir).size();
      assertTrue(files >= 5, "expected a file per cycle, found " + files);

      ConsumerCheckpoint slow = journal.checkpoint("slow");
      assertEquals(0, journal.purge(), "a consumer that has handled nothing holds back every cycle");

      slow.commit(firstOfCycle.get(2));
      assertEquals(2, journal.purge());
      assertEquals(firstOfCycle.get(2), journal.firstIndex());
      try (JournalReader reader = journal.readAfter(slow.index())) {
        assertEquals("cycle-2-b", readAll(reader).get(0).text());
      }
      try (JournalReader reader = journal.readAfter(Journal.NO_INDEX)) {
        assertEquals("cycle-2-a", readAll(reader).get(0).text());
      }
      slow.commit(journal.lastIndex());
      assertTrue(journal.purge() >= 2);
      try (JournalReader reader = journal.readAfter(Journal.NO_INDEX)) {
        List<Read> left = readAll(reader);
        assertEquals("current", left.get(left.size() - 1).text());
      }
    }
  }
}
