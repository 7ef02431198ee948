package io.cutover.engine.sync;

import io.cutover.engine.event.Value;

/** A custom rule for the tests, found through {@code META-INF/services}: the longer string wins. */
public final class LongestWins implements ConflictResolver {
  @Override
  public String name() {
    return "longest";
  }

  @Override
  public Value resolve(ColumnConflict c) {
    return c.incoming().asString().length() >= c.held().asString().length() ? c.incoming() : c.held();
  }

  @Override
  public boolean keepRow(RowConflict conflict) {
    return true;
  }
}
