package io.cutover.engine.validate;

import io.cutover.engine.apply.TableMapping;
import io.cutover.engine.db.DataSources;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;

/** Validates one table pair in its own JVM (the constant-memory test runs it with a small heap). */
public final class ValidationWorker {
  private ValidationWorker() {}

  /**
   * Validates and prints the discrepancies, one per line, then the row counts and the heap's peak.
   *
   * @param args the monolith's URL, the service's URL, the user, the table.
   * @throws Exception on failure.
   */
  public static void main(String[] args) throws Exception {
    try (Validator validator = Validator.builder("big", DataSources.of(args[0], args[2], ""),
        DataSources.of(args[1], args[2], "")).build()) {
      ValidationReport report = validator.validate(TableMapping.identity(args[3]));
      for (Discrepancy d : report.discrepancies()) {
        System.out.println(d.key().get("id").asLong() + " " + d.kind() + " " + d.columns());
      }
      long peak = 0;
      for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
        if (pool.getType() == MemoryType.HEAP) {
          peak += pool.getPeakUsage().getUsed();
        }
      }
      System.out.println("rows " + report.monolithRows() + " " + report.serviceRows() + " heap "
          + Runtime.getRuntime().maxMemory() + " peak " + peak);
    }
  }
}
