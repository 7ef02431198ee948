package io.cutover.engine.capture;

import io.cutover.engine.pipeline.Pipeline;
import java.sql.SQLException;

/**
 * Captures committed changes of one database (one side) and publishes them to a pipeline, in commit order per
 * row. A change is removed from the source's own bookkeeping only after the pipeline has made it durable, so a
 * crash at any point re-delivers (at least once) and never loses.
 */
public interface ChangeCapture extends AutoCloseable {

  /**
   * Creates what capture needs in the database (change table, triggers; slot, publication), idempotently, and
   * checks the captured tables. Nothing is created when a check fails.
   *
   * @throws SQLException if the database refuses.
   * @throws IllegalArgumentException naming the table or column that cannot be captured.
   */
  void install() throws SQLException;

  /**
   * Removes everything {@link #install()} created (a forgotten replication slot makes PostgreSQL keep WAL
   * forever). Changes not yet captured are lost: run it once a migration is finished or abandoned.
   *
   * @throws SQLException if the database refuses.
   */
  void uninstall() throws SQLException;

  /**
   * Starts capturing on a thread of its own.
   *
   * @param pipeline where changes are published.
   */
  void start(Pipeline pipeline);

  /**
   * Changes published since start.
   *
   * @return a count.
   */
  long published();

  /** Stops capturing; changes already published stay published. */
  @Override
  void close();
}
