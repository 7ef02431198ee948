package io.cutover.engine.route;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;

/**
 * Decides, per request, which side serves it. Lock-free: decisions read an immutable {@link RoutingTable} through
 * one volatile read; changes build a new table and swap it in with compare-and-set, so a change applies to the
 * next decision and never to half of one.
 *
 * <p><b>Sticky buckets.</b> A request's sticky key hashes, with the route's name, to one of 10,000 buckets; buckets
 * below the route's weight go to the service. The bucket of a key never changes, so raising the weight only moves
 * users from the monolith to the service, never back and forth (Unleash's scheme, which Istio's hashing across
 * weighted subsets lacks). Without a key each request draws its own bucket.
 *
 * <p><b>Order.</b> Rules first (a canary header forces its side), then the weight; then health: a side marked
 * down is replaced by the other when the route allows failover and the other is up; when both are down the
 * decision says so ({@link Decision.Reason#UNAVAILABLE}) and nobody is sent to a dead upstream.
 *
 * <p>Thread-safe.
 */
public final class Router {
  private final AtomicReference<RoutingTable> table;
  private final Map<String, Boolean> down = new ConcurrentHashMap<>();

  /**
   * A router over a table.
   *
   * @param initial the first table.
   */
  public Router(RoutingTable initial) {
    this.table = new AtomicReference<>(initial);
  }

  /**
   * The name the monolith's health is kept under.
   */
  public static final String MONOLITH = "monolith";

  /**
   * Decides where a request goes.
   *
   * @param request the request.
   * @return the decision.
   */
  public Decision decide(RequestView request) {
    RoutingTable t = table.get();
    int index = t.matchIndex(request.method(), request.path());
    if (index < 0) {
      return health(null, Target.MONOLITH, Decision.Reason.NO_ROUTE, -1, MONOLITH, t.version());
    }
    Route route = t.at(index);
    List<Rule> rules = route.rules();
    for (int i = 0; i < rules.size(); i++) {
      Rule rule = rules.get(i);
      if (rule.matches(request)) {
        return health(route, rule.target(), Decision.Reason.RULE, -1, rule.variant(), t.version());
      }
    }
    String key = route.sticky().keyOf(request);
    int bucket = key == null ? ThreadLocalRandom.current().nextInt(Route.ALL) : bucket(t.salt(index), key);
    Target target = bucket < route.weightBps() ? Target.SERVICE : Target.MONOLITH;
    return health(route, target, Decision.Reason.WEIGHT, bucket, target == Target.SERVICE ? route.service()
        : MONOLITH, t.version());
  }

  private Decision health(Route route, Target target, Decision.Reason reason, int bucket, String variant,
      long version) {
    if (!isDown(route, target)) {
      return new Decision(route, target, reason, bucket, variant, version);
    }
    if (route != null && route.failover() && !isDown(route, target.other())) {
      Target other = target.other();
      return new Decision(route, other, Decision.Reason.FAILOVER, bucket, other == Target.SERVICE ? route.service()
          : MONOLITH, version);
    }
    return new Decision(route, target, Decision.Reason.UNAVAILABLE, bucket, variant, version);
  }

  private boolean isDown(Route route, Target target) {
    if (down.isEmpty()) {
      return false;
    }
    String upstream = target == Target.MONOLITH || route == null ? MONOLITH : route.service();
    return down.containsKey(upstream);
  }

  /**
   * The bucket of a sticky key on a route: stable across processes and versions (a 64-bit FNV-1a over the
   * characters, finished with a murmur3 mix).
   *
   * @param route the route's name.
   * @param key the key.
   * @return 0-9999.
   */
  public static int bucket(String route, String key) {
    return bucket(salt(route), key);
  }

  /** The hash state after the route's name and a colon (each table computes it once per route). */
  static long salt(String route) {
    long h = 0xcbf29ce484222325L;
    for (int i = 0; i < route.length(); i++) {
      h = (h ^ route.charAt(i)) * 0x100000001b3L;
    }
    return (h ^ ':') * 0x100000001b3L;
  }

  private static int bucket(long salt, String key) {
    long h = salt;
    for (int i = 0; i < key.length(); i++) {
      h = (h ^ key.charAt(i)) * 0x100000001b3L;
    }
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    h ^= h >>> 33;
    return (int) Long.remainderUnsigned(h, Route.ALL);
  }

  /**
   * The current table.
   *
   * @return the table.
   */
  public RoutingTable table() {
    return table.get();
  }

  /**
   * Changes the table atomically.
   *
   * @param change computes the next table from the current one (may be called again if another change won).
   * @return the new table.
   */
  public RoutingTable update(UnaryOperator<RoutingTable> change) {
    return table.updateAndGet(change);
  }

  /**
   * Sets a route's weight; the next decision uses it.
   *
   * @param route the route's name.
   * @param bps 0-10000.
   * @return the new table.
   * @throws IllegalArgumentException naming the route or the weight.
   */
  public RoutingTable setWeight(String route, int bps) {
    return update(t -> t.with(existing(t, route).withWeight(bps)));
  }

  /**
   * Rolls a route back: weight 0, for the very next request.
   *
   * @param route the route's name.
   * @return the new table.
   */
  public RoutingTable rollback(String route) {
    return setWeight(route, 0);
  }

  /**
   * Replaces a route's canary and A/B rules.
   *
   * @param route the route's name.
   * @param rules the rules.
   * @return the new table.
   */
  public RoutingTable setRules(String route, List<Rule> rules) {
    return update(t -> t.with(existing(t, route).withRules(rules)));
  }

  private static Route existing(RoutingTable t, String name) {
    Route route = t.route(name);
    if (route == null) {
      throw new IllegalArgumentException("no route named " + name + " (routes: "
          + t.routes().stream().map(Route::name).toList() + ")");
    }
    return route;
  }

  /**
   * Marks an upstream down or up (health checks and passive ejection call this).
   *
   * @param upstream {@link #MONOLITH} or a service's name.
   * @param isDown true to stop sending it requests.
   */
  public void markDown(String upstream, boolean isDown) {
    if (isDown) {
      down.put(upstream, Boolean.TRUE);
    } else {
      down.remove(upstream);
    }
  }

  /**
   * Whether an upstream is marked down.
   *
   * @param upstream {@link #MONOLITH} or a service's name.
   * @return true when marked down.
   */
  public boolean isDown(String upstream) {
    return down.containsKey(upstream);
  }
}
