package io.cutover.engine.route;

/** The side that serves a request. */
public enum Target {
  /** The monolith. */
  MONOLITH,
  /** The route's service. */
  SERVICE;

  /**
   * The other side.
   *
   * @return the other side.
   */
  public Target other() {
    return this == MONOLITH ? SERVICE : MONOLITH;
  }
}
