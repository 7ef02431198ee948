package io.cutover.engine.route;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.snakeyaml.engine.v2.api.Dump;
import org.snakeyaml.engine.v2.api.DumpSettings;
import org.snakeyaml.engine.v2.common.FlowStyle;

/**
 * Exports a routing table for teams that route in a mesh or an edge proxy: an Envoy route configuration
 * ({@code envoy.config.route.v3.RouteConfiguration}, weighted clusters in basis points) and an Istio
 * {@code VirtualService} (weights in whole percents, rounded). Rules become header-matched routes placed before
 * the weighted ones. Neither keeps users sticky across weight changes the way the router does (Envoy and Istio hash
 * independently per subset): sticky rollouts need the gateway. Stateless.
 */
public final class MeshExport {
  private MeshExport() {}

  /**
   * The Envoy route configuration, as YAML.
   *
   * @param table the routing table.
   * @param monolithCluster the monolith's cluster name (services' clusters are their names).
   * @return the document.
   */
  public static String envoy(RoutingTable table, String monolithCluster) {
    List<Object> routes = new ArrayList<>();
    for (Route route : table.routes()) {
      for (Rule rule : route.rules()) {
        Map<String, Object> match = match(route, true);
        @SuppressWarnings("unchecked")
        List<Object> headers = (List<Object>) match.computeIfAbsent("headers", k -> new ArrayList<>());
        headers.add(rule.kind() == KeySource.Kind.HEADER
            ? map("name", rule.name(), "string_match", map("exact", rule.value()))
            : map("name", "cookie", "string_match", map("contains", rule.name() + "=" + rule.value())));
        routes.add(map("name", route.name() + "-" + rule.variant(), "match", match, "route", map("cluster",
            rule.target() == Target.SERVICE ? route.service() : monolithCluster)));
      }
      List<Object> clusters = new ArrayList<>();
      clusters.add(map("name", monolithCluster, "weight", Route.ALL - route.weightBps()));
      clusters.add(map("name", route.service(), "weight", route.weightBps()));
      routes.add(map("name", route.name(), "match", match(route, true), "route", map("weighted_clusters",
          map("clusters", clusters))));
    }
    routes.add(map("name", "default", "match", map("prefix", "/"), "route", map("cluster", monolithCluster)));
    Map<String, Object> doc = map("name", "cutover", "virtual_hosts", List.of(map("name", "cutover", "domains",
        List.of("*"), "routes", routes)));
    return dump(doc);
  }

  /**
   * The Istio VirtualService, as YAML.
   *
   * @param table the routing table.
   * @param name the VirtualService's name.
   * @param host the host it routes.
   * @param monolithHost the monolith's destination host (services' hosts are their names).
   * @return the document.
   */
  public static String istio(RoutingTable table, String name, String host, String monolithHost) {
    List<Object> http = new ArrayList<>();
    for (Route route : table.routes()) {
      for (Rule rule : route.rules()) {
        Map<String, Object> match = map("uri", map("prefix", route.pathPrefix()));
        match.put("headers", rule.kind() == KeySource.Kind.HEADER ? map(rule.name(), map("exact", rule.value()))
            : map("cookie", map("regex", ".*\\b" + java.util.regex.Pattern.quote(rule.name() + "=" + rule.value())
                + "\\b.*")));
        methods(route, match);
        http.add(map("name", route.name() + "-" + rule.variant(), "match", List.of(match), "route", List.of(map(
            "destination", map("host", rule.target() == Target.SERVICE ? route.service() : monolithHost)))));
      }
      int service = Math.round(route.weightBps() / 100f);
      Map<String, Object> match = map("uri", map("prefix", route.pathPrefix()));
      methods(route, match);
      http.add(map("name", route.name(), "match", List.of(match), "route", List.of(
          map("destination", map("host", monolithHost), "weight", 100 - service),
          map("destination", map("host", route.service()), "weight", service))));
    }
    http.add(map("name", "default", "route", List.of(map("destination", map("host", monolithHost)))));
    return dump(map("apiVersion", "networking.istio.io/v1beta1", "kind", "VirtualService", "metadata",
        map("name", name), "spec", map("hosts", List.of(host), "http", http)));
  }

  private static void methods(Route route, Map<String, Object> match) {
    if (!route.methods().isEmpty()) {
      match.put("method", map("regex", String.join("|", new java.util.TreeSet<>(route.methods()))));
    }
  }

  private static Map<String, Object> match(Route route, boolean envoy) {
    Map<String, Object> match = map("prefix", route.pathPrefix());
    if (envoy && !route.methods().isEmpty()) {
      List<Object> headers = new ArrayList<>();
      headers.add(map("name", ":method", "string_match", map("safe_regex", map("regex",
          String.join("|", new java.util.TreeSet<>(route.methods()))))));
      match.put("headers", headers);
    }
    return match;
  }

  private static Map<String, Object> map(Object... keysAndValues) {
    Map<String, Object> map = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      map.put((String) keysAndValues[i], keysAndValues[i + 1]);
    }
    return map;
  }

  private static String dump(Map<String, Object> doc) {
    return new Dump(DumpSettings.builder().setDefaultFlowStyle(FlowStyle.BLOCK).build()).dumpToString(doc);
  }
}
