package io.cutover.engine.validate;

/** Which side's version a repair keeps. */
public enum Authority {
  /** The monolith's row (or its absence) is copied to the service. */
  MONOLITH,
  /** The service's row (or its absence) is copied to the monolith; only for tables synced both ways. */
  SERVICE,
  /**
   * The side whose last change to the row has the later clock stamp wins; a row with no remembered change on
   * either side keeps the monolith's version (the system of record).
   */
  NEWEST;

  /**
   * Parses a name, case-insensitively.
   *
   * @param name {@code monolith}, {@code service} or {@code newest}.
   * @return the authority.
   * @throws IllegalArgumentException naming the value and the choices.
   */
  public static Authority parse(String name) {
    for (Authority authority : values()) {
      if (authority.name().equalsIgnoreCase(name)) {
        return authority;
      }
    }
    throw new IllegalArgumentException("repair authority '" + name + "' is not one of monolith, service, newest");
  }
}
