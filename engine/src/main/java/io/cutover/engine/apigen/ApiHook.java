package io.cutover.engine.apigen;

/**
 * User code around each API request: authentication, auditing, tracing, custom metrics. Hooks run on the server's
 * worker threads, in the order given, so they must be thread-safe; they may block briefly.
 */
public interface ApiHook {
  /**
   * Called before the request is handled.
   *
   * @param exchange the request.
   * @throws ApiProblem to refuse the request with that problem (nothing is read or written then).
   */
  default void before(ApiExchange exchange) {}

  /**
   * Called once the response is ready, refused requests included.
   *
   * @param exchange the request.
   * @param status the response's status.
   * @param nanos how long the request took, in nanoseconds.
   */
  default void after(ApiExchange exchange, int status, long nanos) {}
}
