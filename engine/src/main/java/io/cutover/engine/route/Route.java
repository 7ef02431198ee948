package io.cutover.engine.route;

import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One route: requests whose path starts with the prefix (and whose method is listed, if any) are split between
 * the monolith and a service. Immutable; change a route by replacing it in the {@link RoutingTable}.
 *
 * @param name the route's name (letters, digits, {@code _-.}).
 * @param pathPrefix the path prefix, starting with {@code /}.
 * @param methods the methods it takes (empty: all).
 * @param service the service's name (the upstream that serves {@link Target#SERVICE}).
 * @param weightBps the share sent to the service, in basis points (0-10000).
 * @param sticky where the sticky key comes from.
 * @param rules canary and A/B rules, tried in order before the weight.
 * @param failover whether requests for an unhealthy side go to the other side.
 */
public record Route(String name, String pathPrefix, Set<String> methods, String service, int weightBps,
    KeySource sticky, List<Rule> rules, boolean failover) {
  /** The whole: 10,000 basis points. */
  public static final int ALL = 10_000;
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

  /** Checks the fields; messages name the field. */
  public Route {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("route name '" + name + "' must be 1-64 of letters, digits, _ - .");
    }
    if (pathPrefix == null || !pathPrefix.startsWith("/")) {
      throw new IllegalArgumentException("route " + name + ": path prefix must start with /, got '" + pathPrefix + "'");
    }
    methods = Set.copyOf(methods.stream().map(m -> m.toUpperCase(Locale.ROOT)).toList());
    Objects.requireNonNull(service, "service");
    if (weightBps < 0 || weightBps > ALL) {
      throw new IllegalArgumentException("route " + name + ": weight must be 0 to 10000 basis points, got "
          + weightBps);
    }
    Objects.requireNonNull(sticky, "sticky");
    rules = List.copyOf(rules);
  }

  /**
   * A route with every method, no rules, failover on.
   *
   * @param name its name.
   * @param pathPrefix its path prefix.
   * @param service its service.
   * @param weightBps the service's share.
   * @param sticky the sticky key.
   * @return the route.
   */
  public static Route of(String name, String pathPrefix, String service, int weightBps, KeySource sticky) {
    return new Route(name, pathPrefix, Set.of(), service, weightBps, sticky, List.of(), true);
  }

  /**
   * A copy with another weight.
   *
   * @param bps 0-10000.
   * @return the copy.
   */
  public Route withWeight(int bps) {
    return new Route(name, pathPrefix, methods, service, bps, sticky, rules, failover);
  }

  /**
   * A copy with other rules.
   *
   * @param value the rules.
   * @return the copy.
   */
  public Route withRules(List<Rule> value) {
    return new Route(name, pathPrefix, methods, service, weightBps, sticky, value, failover);
  }

  /**
   * Whether the route takes a request.
   *
   * @param method the method.
   * @param path the path.
   * @return true when the prefix and method match.
   */
  public boolean takes(String method, String path) {
    return path.startsWith(pathPrefix) && (methods.isEmpty() || methods.contains(method));
  }
}
