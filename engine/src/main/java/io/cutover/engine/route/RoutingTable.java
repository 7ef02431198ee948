package io.cutover.engine.route;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Every route, the longest prefix first, with a version that grows with each change. Immutable: the router swaps
 * whole tables, so a request sees one table from start to end.
 */
public final class RoutingTable {
  private final long version;
  private final List<Route> routes;
  private final Route[] byPrefix;
  private final long[] salts;

  /**
   * A table.
   *
   * @param version its version.
   * @param routes its routes (sorted here, longest prefix first).
   * @throws IllegalArgumentException if two routes share a name.
   */
  public RoutingTable(long version, List<Route> routes) {
    List<Route> sorted = new ArrayList<>(routes);
    sorted.sort(Comparator.comparingInt((Route r) -> -r.pathPrefix().length()).thenComparing(Route::name));
    java.util.Set<String> names = new java.util.HashSet<>();
    for (Route route : sorted) {
      if (!names.add(route.name())) {
        throw new IllegalArgumentException("route " + route.name() + " appears twice");
      }
    }
    this.version = version;
    this.routes = List.copyOf(sorted);
    this.byPrefix = sorted.toArray(new Route[0]);
    this.salts = new long[byPrefix.length];
    for (int i = 0; i < byPrefix.length; i++) {
      salts[i] = Router.salt(byPrefix[i].name());
    }
  }

  /**
   * The version.
   *
   * @return the version.
   */
  public long version() {
    return version;
  }

  /**
   * The routes, longest prefix first.
   *
   * @return the routes.
   */
  public List<Route> routes() {
    return routes;
  }

  /** The index of the route a request takes, or -1. */
  int matchIndex(String method, String path) {
    Route[] all = byPrefix;
    for (int i = 0; i < all.length; i++) {
      if (all[i].takes(method, path)) {
        return i;
      }
    }
    return -1;
  }

  Route at(int index) {
    return byPrefix[index];
  }

  long salt(int index) {
    return salts[index];
  }

  /**
   * The route a request takes.
   *
   * @param method the method.
   * @param path the path.
   * @return the route, or null when none takes it (the monolith serves it).
   */
  public Route match(String method, String path) {
    int i = matchIndex(method, path);
    return i < 0 ? null : byPrefix[i];
  }

  /**
   * A route by name.
   *
   * @param name the name.
   * @return the route, or null.
   */
  public Route route(String name) {
    for (Route route : byPrefix) {
      if (route.name().equals(name)) {
        return route;
      }
    }
    return null;
  }

  /**
   * A copy with one route replaced and the version advanced.
   *
   * @param route the new version of a route of this table.
   * @return the new table.
   * @throws IllegalArgumentException if no route has that name.
   */
  public RoutingTable with(Route route) {
    List<Route> next = new ArrayList<>(routes.size());
    boolean found = false;
    for (Route r : routes) {
      if (r.name().equals(route.name())) {
        next.add(route);
        found = true;
      } else {
        next.add(r);
      }
    }
    if (!found) {
      throw new IllegalArgumentException("no route named " + route.name() + " (routes: "
          + routes.stream().map(Route::name).toList() + ")");
    }
    return new RoutingTable(version + 1, next);
  }

  @Override
  public String toString() {
    return "RoutingTable[version=" + version + ", routes=" + routes + "]";
  }
}
