package io.cutover.journal;

import io.cutover.journal.internal.ChronicleJournal;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Inspects a journal from the command line.
 *
 * <pre>
 * JournalTool verify DIR               check every record's checksum; exit 3 if any is damaged
 * JournalTool dump DIR [AFTER_INDEX]   print index, length and the first bytes of each record
 * JournalTool consumers DIR            print each consumer and its checkpoint
 * JournalTool quarantine DIR INDEX     let readers skip a damaged record (after checking it)
 * </pre>
 *
 * Exit codes: 0 success, 1 failure, 2 usage, 3 damage found.
 */
public final class JournalTool {
  private static final String USAGE = String.join(System.lineSeparator(),
      "usage: JournalTool verify DIR",
      "       JournalTool dump DIR [AFTER_INDEX]",
      "       JournalTool consumers DIR",
      "       JournalTool quarantine DIR INDEX");

  private JournalTool() {}

  /**
   * Runs the tool and exits with its code.
   *
   * @param args the verb and its arguments.
   */
  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /**
   * Runs the tool.
   *
   * @param args the verb and its arguments.
   * @param out where results go.
   * @param err where errors go.
   * @return the exit code.
   */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    if (args.length < 2) {
      err.println(USAGE);
      return 2;
    }
    Path dir = Path.of(args[1]);
    if (!Files.isDirectory(dir)) {
      err.println("journal directory " + dir + " does not exist");
      return 2;
    }
    try {
      switch (args[0]) {
        case "verify":
          return verify(dir, out);
        case "dump":
          return dump(dir, args.length > 2 ? parseIndex(args[2]) : Journal.NO_INDEX, out);
        case "consumers":
          return consumers(dir, out);
        case "quarantine":
          if (args.length < 3) {
            err.println(USAGE);
            return 2;
          }
          return quarantine(dir, parseIndex(args[2]), out);
        default:
          err.println("unknown verb '" + args[0] + "'" + System.lineSeparator() + USAGE);
          return 2;
      }
    } catch (NumberFormatException e) {
      err.println("not a journal index: " + e.getMessage());
      return 2;
    } catch (JournalException e) {
      err.println(e.getMessage());
      return e instanceof JournalCorruptedException ? 3 : 1;
    }
  }

  private static long parseIndex(String text) {
    return text.startsWith("0x") ? Long.parseUnsignedLong(text.substring(2), 16) : Long.parseLong(text);
  }

  /** Opens without the tail check that {@link Journal#open} makes, so a damaged journal can be inspected. */
  private static Journal openUnchecked(Path dir) {
    return ChronicleJournal.openForInspection(JournalConfig.builder(dir).syncPolicy(SyncPolicy.NONE).build());
  }

  private static int verify(Path dir, PrintStream out) {
    VerifyReport report;
    try (Journal journal = openUnchecked(dir)) {
      report = journal.verify();
    }
    out.printf("records %d, first %d, last %d, damaged %d, quarantined %d%n", report.records(), report.firstIndex(),
        report.lastIndex(), report.damaged().size(), report.quarantined().size());
    for (long index : report.damaged()) {
      out.println("damaged " + index + " (0x" + Long.toHexString(index) + ")");
    }
    for (long index : report.quarantined()) {
      out.println("quarantined " + index + " (0x" + Long.toHexString(index) + ")");
    }
    return report.ok() ? 0 : 3;
  }

  private static int dump(Path dir, long after, PrintStream out) {
    try (Journal journal = openUnchecked(dir); JournalReader reader = journal.readAfter(after)) {
      RecordHandler printer = (index, buffer, offset, length) -> {
        StringBuilder hex = new StringBuilder();
        for (int i = 0; i < Math.min(length, 32); i++) {
          hex.append(String.format("%02x", buffer.getByte(offset + i)));
        }
        out.printf("%d\t0x%x\t%d bytes\t%s%n", index, index, length, hex);
      };
      while (reader.next(printer)) {
        // prints as it reads
      }
    }
    return 0;
  }

  private static int consumers(Path dir, PrintStream out) {
    try (Journal journal = openUnchecked(dir)) {
      out.printf("last index %d%n", journal.lastIndex());
      for (Map.Entry<String, Long> consumer : journal.consumers().entrySet()) {
        out.printf("%s\t%d%n", consumer.getKey(), consumer.getValue());
      }
    }
    return 0;
  }

  private static int quarantine(Path dir, long index, PrintStream out) {
    try (Journal journal = openUnchecked(dir)) {
      journal.quarantine(index);
    }
    out.println("quarantined " + index + ": readers will skip it with a warning");
    return 0;
  }

}
