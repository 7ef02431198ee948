package io.cutover.admin.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class ProgressPrinterTest {
  @Test
  void aTerminalGetsABarRedrawnInPlaceAndPlainOutputGetsLines() {
    StringWriter bar = new StringWriter();
    ProgressPrinter terminal = new ProgressPrinter(new PrintWriter(bar, true), true);
    terminal.scanned("orders", 500, 400, 1_000, false);
    terminal.scanned("orders", 1_000, 1_000, 1_000, true);
    assertEquals("\rvalidating orders [###############               ]  50% 500 / 400 rows (monolith / service)"
        + "\rvalidating orders [##############################] 100% 1,000 / 1,000 rows (monolith / service)\n",
        bar.toString());
    StringWriter unknown = new StringWriter();
    new ProgressPrinter(new PrintWriter(unknown, true), true).scanned("t", 1, 2, -1, false);
    assertTrue(unknown.toString().contains("[...]"), unknown.toString());

    StringWriter lines = new StringWriter();
    ProgressPrinter plain = new ProgressPrinter(new PrintWriter(lines, true), false);
    plain.scanned("orders", 10, 10, 1_000_000, false); // too soon after the start for a line
    plain.scanned("orders", 1_000_000, 999_999, 1_000_000, true);
    assertEquals("cutover: validating orders: 1,000,000 / 999,999 rows (monolith / service), read\n",
        lines.toString().replace(System.lineSeparator(), "\n"));
  }
}
