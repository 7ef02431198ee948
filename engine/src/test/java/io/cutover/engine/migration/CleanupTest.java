package io.cutover.engine.migration;

import static io.cutover.engine.testing.TestSupport.exec;
import static io.cutover.engine.testing.TestSupport.rows;
import static io.cutover.engine.testing.TestSupport.url;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.capture.TriggerCapture;
import io.cutover.engine.config.MigrationConfig;
import io.cutover.engine.event.Side;
import io.cutover.engine.testing.Postgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cleanup removes what Cutover created in a database from what it finds there, not only from what the
 * configuration names now; and two long table names sharing their first 40 characters get triggers of their own
 * (PostgreSQL cuts names at 63 bytes: they used to meet in one).
 */
class CleanupTest {
  @TempDir Path dir;

  private static final String LONG = "orders_archived_by_the_billing_team_in_year_2026_part_";

  @Test
  void cleanupFindsWhatCutoverLeftAlsoForTablesNoLongerConfiguredAndLongNamesDoNotMeet() throws Exception {
    DataSource monolith = Postgres.newDatabase("cleanup_m");
    DataSource service = Postgres.newDatabase("cleanup_s");
    exec(monolith, "CREATE TABLE users (id INT PRIMARY KEY, name TEXT)",
        "CREATE TABLE " + LONG + "one (id INT PRIMARY KEY, v INT)",
        "CREATE TABLE " + LONG + "two (id INT PRIMARY KEY, v INT)");
    exec(service, "CREATE TABLE users (id INT PRIMARY KEY, name TEXT)");
    TriggerCapture.builder(Side.MONOLITH, monolith).tables("users", LONG + "one", LONG + "two").build().install();
    assertEquals(List.of("3"), rows(monolith, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'cutover%'"),
        "a trigger per table, the two long names apart");
    java.util.Properties user = new java.util.Properties();
    user.setProperty("user", "postgres");
    io.cutover.engine.capture.PostgresLogicalCapture.builder(Side.MONOLITH, url(monolith), user)
        .tables(LONG + "one", LONG + "two").slot("cleanup_test").build().install(); // row transaction functions
    exec(monolith, "SELECT pg_drop_replication_slot('cleanup_test')");
    for (String publication : rows(monolith, "SELECT pubname FROM pg_publication")) {
      exec(monolith, "DROP PUBLICATION " + publication);
    }
    exec(monolith, "INSERT INTO " + LONG + "one VALUES (1, 1)", "INSERT INTO " + LONG + "two VALUES (1, 2)",
        "CREATE TABLE cutover_backfill (t TEXT)", "CREATE TABLE cutover_watermark (t TEXT)");
    assertEquals(List.of("2"), rows(monolith, "SELECT count(*) FROM cutover_changes"), "each change captured once");
    assertEquals(List.of(LONG + "one", LONG + "two"), rows(monolith, "SELECT table_name FROM "
        + "cutover_row_transactions ORDER BY 1"), "each table's row transactions under its own name: one function "
        + "each (cut to 63 bytes, both tables' functions had one name, and the second replaced the first)");

    Path file = dir.resolve("cutover.yaml");
    Files.writeString(file, String.join("\n", "journal: {directory: journal}",
        "sides:",
        "  monolith: {url: '" + url(monolith) + "', user: postgres, capture: trigger}",
        "  services:",
        "    accounts: {url: '" + url(service) + "', user: postgres, capture: trigger}",
        "tables:",
        "  - {source: users, service: accounts, target: users}", "")); // the long tables left the configuration
    MigrationConfig config = MigrationConfig.load(file, Map.<String, String>of()::get);
    List<String> found = Cleanup.run(config, true);
    String all = String.join("\n", found);
    assertTrue(all.contains("monolith: trigger cutover_capture_users on users"), all);
    assertTrue(all.contains("monolith: trigger cutover_capture_" + LONG.substring(0, 20)), all);
    assertEquals(4, found.stream().filter(f -> f.contains(" on " + LONG)).count(), all); // capture, row transactions
    assertTrue(all.contains("monolith: function cutover_capture("), all);
    assertEquals(2, found.stream().filter(f -> f.contains("function cutover_row_transaction_")).count(), all);
    assertTrue(all.contains("monolith: table cutover_backfill") && all.contains("monolith: table cutover_watermark"),
        all);
    assertTrue(all.contains("monolith: sequence cutover_change_seq"), all);
    assertEquals(found, Cleanup.run(config, false));
    assertEquals(List.of(), Cleanup.run(config, true), "nothing left");
    assertEquals(List.of("0"), rows(monolith, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'cutover%'"));
    assertEquals(List.of("0"), rows(monolith, "SELECT count(*) FROM pg_proc WHERE proname LIKE 'cutover%'"));
    assertEquals(List.of("0"), rows(monolith, "SELECT count(*) FROM pg_class WHERE relname LIKE 'cutover%'"));
    exec(monolith, "INSERT INTO " + LONG + "one VALUES (2, 1)"); // the application goes on without Cutover
  }
}
