package io.cutover.engine.event;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The database a change came from: the monolith, or one named service.
 *
 * @param service the service's name, or null for the monolith.
 */
public record Side(String service) {
  /** The monolith. */
  public static final Side MONOLITH = new Side(null);
  private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_-]{0,62}");

  /** Validates the service name. */
  public Side {
    if (service != null && !NAME.matcher(service).matches()) {
      throw new IllegalArgumentException("service name '" + service
          + "' is not valid: use 1 to 63 characters, a lower-case letter first, then [a-z0-9_-]");
    }
  }

  /**
   * A service side.
   *
   * @param name the service's name from the configuration.
   * @return the side.
   */
  public static Side service(String name) {
    return new Side(Objects.requireNonNull(name, "service name"));
  }

  /**
   * Whether this is the monolith.
   *
   * @return true for {@link #MONOLITH}.
   */
  public boolean isMonolith() {
    return service == null;
  }

  @Override
  public String toString() {
    return service == null ? "monolith" : "service:" + service;
  }
}
