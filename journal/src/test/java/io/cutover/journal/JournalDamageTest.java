package io.cutover.journal;

import static io.cutover.journal.JournalTestSupport.append;
import static io.cutover.journal.JournalTestSupport.readAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.journal.JournalTestSupport.Read;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class JournalDamageTest {
  @TempDir Path dir;

  @Test
  void shouldReportADamagedTailAtOpenAndSkipItOnlyOnceQuarantined() throws Exception {
    long good;
    long torn;
    try (Journal journal = Journal.open(JournalConfig.of(dir))) {
      good = append(journal, "intact-record");
      torn = append(journal, "TORN-TAIL-RECORD");
    }
    JournalTestSupport.damage(dir, "TORN-TAIL-RECORD");

    JournalCorruptedException e = assertThrows(JournalCorruptedException.class,
        () -> Journal.open(JournalConfig.of(dir)));
    assertEquals(torn, e.index());
    assertTrue(e.getMessage().contains("record at index " + torn), e.getMessage());
    assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
    assertTrue(e.getMessage().contains("never skipped silently"), e.getMessage());

    Output verify = run("verify", dir.toString());
    assertEquals(3, verify.code);
    assertTrue(verify.out.contains("damaged " + torn), verify.out);

    Output quarantine = run("quarantine", dir.toString(), Long.toString(torn));
    assertEquals(0, quarantine.code, quarantine.err);

    try (Journal journal = Journal.open(JournalConfig.of(dir))) {
      try (JournalReader reader = journal.readAfter(Journal.NO_INDEX)) {
        assertEquals(List.of(new Read(good, "intact-record")), readAll(reader));
      }
      long next = append(journal, "after-repair");
      try (JournalReader reader = journal.readAfter(good)) {
        assertEquals(List.of(new Read(next, "after-repair")), readAll(reader));
      }
      VerifyReport report = journal.verify();
      assertTrue(report.ok());
      assertEquals(List.of(torn), report.quarantined());
      assertEquals(3, report.records());
    }
  }

  @Test
  void shouldStopAtDamageInTheMiddleAndNotMovePastIt() throws Exception {
    long first;
    long damaged;
    try (Journal journal = Journal.open(JournalConfig.of(dir))) {
      first = append(journal, "first-record");
      damaged = append(journal, "MIDDLE-DAMAGE-HERE");
      append(journal, "last-record");
    }
    JournalTestSupport.damage(dir, "MIDDLE-DAMAGE-HERE");
    try (Journal journal = Journal.open(JournalConfig.of(dir)); JournalReader reader = journal.readAfter(first)) {
      for (int attempt = 0; attempt < 2; attempt++) {
        JournalCorruptedException e = assertThrows(JournalCorruptedException.class, () -> readAll(reader));
        assertEquals(damaged, e.index());
      }
      assertEquals(first, reader.lastReadIndex());
      VerifyReport report = journal.verify();
      assertEquals(List.of(damaged), report.damaged());
    }
  }

  @Test
  void shouldReportAJournalFileThatCannotBeOpened() throws Exception {
    try (Journal journal = Journal.open(JournalConfig.of(dir))) {
      append(journal, "soon-truncated");
    }
    for (Path file : JournalTestSupport.cycleFiles(dir)) {
      try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
        channel.truncate(16);
      }
    }
    JournalException e = assertThrows(JournalException.class, () -> {
      try (Journal journal = Journal.open(JournalConfig.of(dir)); JournalReader reader = journal.readAfter(-1)) {
        readAll(reader);
      }
    });
    assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
  }

  @Test
  void shouldDumpAndListConsumersFromTheTool() {
    long first;
    try (Journal journal = Journal.open(JournalConfig.of(dir))) {
      first = append(journal, "dumped");
      append(journal, "second");
      journal.checkpoint("apply").commit(journal.lastIndex());
    }
    Output dump = run("dump", dir.toString());
    assertEquals(0, dump.code, dump.err);
    assertTrue(dump.out.contains("6 bytes"), dump.out);
    Output consumers = run("consumers", dir.toString());
    assertTrue(consumers.out.contains("apply"), consumers.out);
    assertEquals(0, run("verify", dir.toString()).code);
    assertEquals(2, run("verify").code);
    assertEquals(2, run("nonsense", dir.toString()).code);
    assertEquals(2, run("verify", dir.resolve("missing").toString()).code);
    assertEquals(2, run("quarantine", dir.toString()).code);
    assertEquals(2, run("quarantine", dir.toString(), "not-a-number").code);
    Output after = run("dump", dir.toString(), "0x" + Long.toHexString(first));
    assertEquals(0, after.code, after.err);
    assertTrue(after.out.contains("7365636f6e64") && !after.out.contains("64756d706564"), after.out);
    assertEquals(1, run("dump", dir.toString(), "0x0").code, "index 0 is not in the journal");
  }

  record Output(int code, String out, String err) {}

  static Output run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = JournalTool.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Output(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }
}
