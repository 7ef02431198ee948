package io.cutover.engine.route;

/**
 * Where one request goes, and why.
 *
 * @param route the route taken, or null when no route takes the request (the monolith serves it).
 * @param target the side that serves it.
 * @param reason why that side.
 * @param bucket the sticky bucket (0-9999) the request fell in, or -1 when a rule decided.
 * @param variant the variant reported to the client: a rule's name, or the side's name.
 * @param tableVersion the routing table's version the decision was made on.
 */
public record Decision(Route route, Target target, Reason reason, int bucket, String variant, long tableVersion) {

  /** Why a request went where it went. */
  public enum Reason {
    /** No route takes it. */
    NO_ROUTE,
    /** The route's weight, by the request's bucket. */
    WEIGHT,
    /** A canary or A/B rule. */
    RULE,
    /** The chosen side is unhealthy; the other one serves. */
    FAILOVER,
    /** Both sides are unhealthy: nobody can serve it (the gateway answers 503). */
    UNAVAILABLE
  }

  /**
   * Whether someone can serve the request.
   *
   * @return false when both sides are down.
   */
  public boolean servable() {
    return reason != Reason.UNAVAILABLE;
  }
}
