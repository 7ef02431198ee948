package io.cutover.engine.apigen;

import java.util.Map;

/**
 * One API request as hooks see it. Not thread-safe: it belongs to the request's worker.
 */
public interface ApiExchange {
  /**
   * The HTTP method.
   *
   * @return e.g. {@code GET}.
   */
  String method();

  /**
   * The path, without the query.
   *
   * @return e.g. {@code /v1/orders/42}.
   */
  String path();

  /**
   * The endpoint the request matched, as metrics name it.
   *
   * @return e.g. {@code GET /v1/orders/{key}}, or {@code other}.
   */
  String endpoint();

  /**
   * A request header.
   *
   * @param name the header's name (any case).
   * @return the value, or null.
   */
  String header(String name);

  /**
   * The request's id: its {@code X-Request-Id}, or one made for it; echoed in the response.
   *
   * @return the id.
   */
  String requestId();

  /**
   * Values hooks keep for the length of the request (e.g. the authenticated user, set in before, read in after).
   *
   * @return the mutable map.
   */
  Map<String, Object> attributes();
}
