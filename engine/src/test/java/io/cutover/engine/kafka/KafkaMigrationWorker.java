package io.cutover.engine.kafka;

import io.cutover.engine.config.MigrationConfig;
import io.cutover.engine.migration.Migration;
import java.nio.file.Path;

/**
 * A migration from a configuration file, in a JVM of its own, for the take-over test: what {@code cutover run}
 * does, until killed.
 */
public final class KafkaMigrationWorker {
  private KafkaMigrationWorker() {}

  /**
   * Runs a migration.
   *
   * @param args the configuration file.
   * @throws Exception if it cannot start.
   */
  public static void main(String[] args) throws Exception {
    Migration migration = Migration.start(MigrationConfig.load(Path.of(args[0])));
    System.out.println("ready " + migration.syncs().keySet());
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
