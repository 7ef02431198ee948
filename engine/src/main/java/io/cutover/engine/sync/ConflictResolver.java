package io.cutover.engine.sync;

/**
 * A custom conflict rule, found with {@link java.util.ServiceLoader} (list the class in
 * {@code META-INF/services/io.cutover.engine.sync.ConflictResolver}) and named in the configuration as
 * {@code custom:NAME}. Called on the sync thread; must be deterministic (a decision is recomputed identically
 * when a batch is replayed after a crash) and must not block.
 */
public interface ConflictResolver {

  /**
   * The name the configuration uses.
   *
   * @return the name.
   */
  String name();

  /**
   * Decides a column both sides changed.
   *
   * @param conflict both versions and the value they started from.
   * @return the value both sides will hold.
   */
  io.cutover.engine.event.Value resolve(ColumnConflict conflict);

  /**
   * Decides a row one side updated while the other deleted it. By default the later change wins.
   *
   * @param conflict the update and the delete.
   * @return true to keep the row (with the update's values), false to delete it on both sides.
   */
  default boolean keepRow(RowConflict conflict) {
    return conflict.updateHlc() > conflict.deleteHlc();
  }
}
