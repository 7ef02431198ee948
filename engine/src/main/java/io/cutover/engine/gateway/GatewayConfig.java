package io.cutover.engine.gateway;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Where the gateway listens, where it forwards, and its bounds.
 *
 * @param host the address to bind (loopback by default).
 * @param port the port (0: any free port).
 * @param upstreams {@code monolith} and each service's name to its address; the gateway forwards nowhere else.
 * @param maxHeaderBytes the most header bytes a request may carry (431 beyond).
 * @param maxBodyBytes the most body bytes a request may carry (413 beyond).
 * @param connectTimeout how long to wait for an upstream connection.
 * @param requestTimeout how long to wait for an upstream's answer (504 beyond).
 * @param ejectAfter consecutive failures (5xx, refused, timed out) after which an upstream is ejected.
 * @param ejectFor how long an ejected upstream gets no requests (then one is tried again).
 * @param healthPath the path active health checks GET on every upstream (a 2xx is healthy), or empty for none.
 * @param healthInterval how often they run.
 */
public record GatewayConfig(String host, int port, Map<String, InetSocketAddress> upstreams, int maxHeaderBytes,
    int maxBodyBytes, Duration connectTimeout, Duration requestTimeout, int ejectAfter, Duration ejectFor,
    String healthPath, Duration healthInterval) {

  /** Checks the values; messages name the field. */
  public GatewayConfig {
    Objects.requireNonNull(host, "host");
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("gateway port must be 0 to 65535, got " + port);
    }
    upstreams = Map.copyOf(upstreams);
    if (!upstreams.containsKey("monolith")) {
      throw new IllegalArgumentException("gateway upstreams must name the monolith");
    }
    Objects.requireNonNull(healthPath, "healthPath");
    if (!healthPath.isEmpty() && (!healthPath.startsWith("/") || healthInterval.toMillis() < 10)) {
      throw new IllegalArgumentException("gateway health checks need a path starting with / and an interval of at "
          + "least 10 ms");
    }
    if (maxHeaderBytes < 1024 || maxBodyBytes < 0 || ejectAfter < 1) {
      throw new IllegalArgumentException("gateway bounds: max header bytes at least 1024, max body bytes at least 0, "
          + "eject after at least 1 failure");
    }
  }

  /**
   * Loopback, 8 KiB of headers, 1 MiB of body, 1 s to connect, 30 s to answer, eject after 5 failures for 30 s
   * (Envoy's outlier detection defaults).
   *
   * @param port the port.
   * @param upstreams the upstreams.
   * @return the configuration.
   */
  public static GatewayConfig loopback(int port, Map<String, InetSocketAddress> upstreams) {
    return new GatewayConfig("127.0.0.1", port, new LinkedHashMap<>(upstreams), 8 * 1024, 1024 * 1024,
        Duration.ofSeconds(1), Duration.ofSeconds(30), 5, Duration.ofSeconds(30), "", Duration.ofSeconds(5));
  }

  /**
   * A copy with active health checks.
   *
   * @param path the path to GET on every upstream.
   * @param interval how often.
   * @return the copy.
   */
  public GatewayConfig withHealthChecks(String path, Duration interval) {
    return new GatewayConfig(host, port, upstreams, maxHeaderBytes, maxBodyBytes, connectTimeout, requestTimeout,
        ejectAfter, ejectFor, path, interval);
  }

  /**
   * A copy with other timeouts and ejection.
   *
   * @param connect connect timeout.
   * @param request request timeout.
   * @param after failures before ejection.
   * @param duration how long ejected.
   * @return the copy.
   */
  public GatewayConfig withTimeouts(Duration connect, Duration request, int after, Duration duration) {
    return new GatewayConfig(host, port, upstreams, maxHeaderBytes, maxBodyBytes, connect, request, after, duration,
        healthPath, healthInterval);
  }

  /**
   * A copy with other bounds.
   *
   * @param headerBytes max header bytes.
   * @param bodyBytes max body bytes.
   * @return the copy.
   */
  public GatewayConfig withBounds(int headerBytes, int bodyBytes) {
    return new GatewayConfig(host, port, upstreams, headerBytes, bodyBytes, connectTimeout, requestTimeout,
        ejectAfter, ejectFor, healthPath, healthInterval);
  }
}
