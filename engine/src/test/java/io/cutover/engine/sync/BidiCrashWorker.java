package io.cutover.engine.sync;

import io.cutover.engine.config.MigrationConfig;
import io.cutover.engine.migration.Migration;
import java.nio.file.Path;

/** Runs a migration from a configuration file in its own JVM until it is killed (the crash properties kill it). */
public final class BidiCrashWorker {
  private BidiCrashWorker() {}

  /**
   * Runs until killed.
   *
   * @param args the configuration file.
   * @throws Exception on failure.
   */
  public static void main(String[] args) throws Exception {
    Migration migration = Migration.start(MigrationConfig.load(Path.of(args[0])));
    System.out.println("READY");
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
    migration.close();
  }
}
