package io.cutover.admin.cli;

import io.cutover.engine.validate.ValidationProgress;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * Shows long work's progress on the error stream, so results and JSON on the output stay clean: a bar redrawn in
 * place on a terminal, plain lines (every few seconds and at the end) otherwise.
 */
final class ProgressPrinter implements ValidationProgress {
  private static final int WIDTH = 30;
  private static final long PLAIN_EVERY_NANOS = 2_000_000_000L;
  private final PrintWriter err;
  private final boolean terminal;
  private long lastPlain = System.nanoTime();

  /**
   * A printer.
   *
   * @param err where progress goes.
   * @param terminal whether that is a terminal (a bar) or not (plain lines).
   */
  ProgressPrinter(PrintWriter err, boolean terminal) {
    this.err = err;
    this.terminal = terminal;
  }

  /**
   * A printer for this process: a bar when it runs on a terminal.
   *
   * @param err where progress goes.
   * @return the printer.
   */
  static ProgressPrinter forConsole(PrintWriter err) {
    return new ProgressPrinter(err, System.console() != null);
  }

  /**
   * Shows a table's backfill progress (the caller decides how often).
   *
   * @param p the progress.
   */
  public synchronized void backfill(io.cutover.engine.backfill.BackfillProgress p) {
    if (terminal) {
      double share = p.done() ? 1.0 : p.estimatedRows() > 0 ? Math.min(1.0, (double) p.rowsDone() / p.estimatedRows())
          : 0;
      int filled = (int) Math.round(share * WIDTH);
      err.print("\rbackfill " + "[" + "#".repeat(filled) + " ".repeat(WIDTH - filled) + "] " + p.describe()
          + (p.done() ? "\n" : ""));
    } else {
      err.println("cutover: backfill " + p.describe());
    }
    err.flush();
  }

  @Override
  public synchronized void scanned(String table, long monolithRows, long serviceRows, long estimatedRows,
      boolean done) {
    long read = Math.max(monolithRows, serviceRows);
    String counts = String.format(Locale.ROOT, "%,d / %,d rows (monolith / service)", monolithRows, serviceRows);
    if (terminal) {
      String bar;
      if (estimatedRows > 0) {
        double share = done ? 1.0 : Math.min(1.0, (double) read / estimatedRows);
        int filled = (int) Math.round(share * WIDTH);
        bar = "[" + "#".repeat(filled) + " ".repeat(WIDTH - filled) + "] "
            + String.format(Locale.ROOT, "%3d%%", Math.round(share * 100));
      } else {
        bar = "[" + (done ? "#".repeat(WIDTH) : "...") + "]";
      }
      err.print("\r" + "validating " + table + " " + bar + " " + counts + (done ? "\n" : ""));
      err.flush();
      return;
    }
    long now = System.nanoTime();
    if (done || now - lastPlain >= PLAIN_EVERY_NANOS) {
      lastPlain = now;
      err.println("cutover: validating " + table + ": " + counts + (done ? ", read" : estimatedRows > 0
          ? String.format(Locale.ROOT, " of about %,d", estimatedRows) : ""));
      err.flush();
    }
  }
}
