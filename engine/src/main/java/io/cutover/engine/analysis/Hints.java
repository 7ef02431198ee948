package io.cutover.engine.analysis;

import java.util.List;
import java.util.Set;

/**
 * What the architect already knows.
 *
 * @param together groups of tables that must end up in one service.
 * @param apart pairs of tables that must end up in different services.
 * @param services the number of services wanted (0: as many as the data suggests).
 * @param maxTables the most tables one service may hold (0: no limit).
 */
public record Hints(List<Set<String>> together, List<Set<String>> apart, int services, int maxTables) {

  /** No hints. */
  public static final Hints NONE = new Hints(List.of(), List.of(), 0, 0);

  /** Copies the lists and checks the numbers and pairs. */
  public Hints {
    together = together.stream().map(Set::copyOf).toList();
    apart = apart.stream().map(Set::copyOf).toList();
    for (Set<String> pair : apart) {
      if (pair.size() != 2) {
        throw new IllegalArgumentException("an apart hint names two different tables, got " + pair);
      }
    }
    if (services < 0 || maxTables < 0) {
      throw new IllegalArgumentException("services and max tables must be 0 (no hint) or more, were " + services
          + " and " + maxTables);
    }
  }
}
