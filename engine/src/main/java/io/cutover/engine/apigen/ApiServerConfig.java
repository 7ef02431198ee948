package io.cutover.engine.apigen;

import java.time.Duration;

/**
 * How the API server listens and what it accepts. Every bound has a default; all are checked on construction.
 *
 * @param host the address to bind (loopback by default).
 * @param port the port, or 0 for any free one.
 * @param maxBodyBytes the largest request body accepted (413 beyond).
 * @param maxHeaderBytes the largest request head accepted (431 beyond).
 * @param defaultPage the page size when {@code limit} is not given.
 * @param maxPage the largest page (a larger {@code limit} is 400), at most {@link OpenApiDocument#MAX_PAGE}.
 * @param poolSize the database connections, which is also the number of worker threads.
 * @param maxQueued the requests waiting for a worker before the server answers 503.
 * @param queryTimeout how long one statement may run.
 */
public record ApiServerConfig(String host, int port, int maxBodyBytes, int maxHeaderBytes, int defaultPage,
    int maxPage, int poolSize, int maxQueued, Duration queryTimeout) {

  /** Checks every bound. */
  public ApiServerConfig {
    if (host == null || host.isBlank()) {
      throw new IllegalArgumentException("api host must be an address, e.g. 127.0.0.1");
    }
    check("port", port, 0, 65_535);
    check("max body bytes", maxBodyBytes, 1, 256 * 1024 * 1024);
    check("max header bytes", maxHeaderBytes, 256, 1024 * 1024);
    check("max page", maxPage, 1, OpenApiDocument.MAX_PAGE);
    check("default page", defaultPage, 1, maxPage);
    check("pool size", poolSize, 1, 1024);
    check("max queued", maxQueued, 1, 1_000_000);
    if (queryTimeout == null || queryTimeout.isNegative() || queryTimeout.isZero()) {
      throw new IllegalArgumentException("api query timeout must be positive, not " + queryTimeout);
    }
  }

  /**
   * The defaults on 127.0.0.1: 1 MiB bodies, 8 KiB heads, pages of 100 (at most 1000), 8 connections, 1024 queued
   * requests, 30 s per statement.
   *
   * @param port the port, or 0.
   * @return the configuration.
   */
  public static ApiServerConfig loopback(int port) {
    return new ApiServerConfig("127.0.0.1", port, 1024 * 1024, 8192, 100, OpenApiDocument.MAX_PAGE, 8, 1024,
        Duration.ofSeconds(30));
  }

  /**
   * The same with other paging bounds.
   *
   * @param defaultSize the page size when none is asked.
   * @param maxSize the largest page.
   * @return the configuration.
   */
  public ApiServerConfig withPages(int defaultSize, int maxSize) {
    return new ApiServerConfig(host, port, maxBodyBytes, maxHeaderBytes, defaultSize, maxSize, poolSize, maxQueued,
        queryTimeout);
  }

  /**
   * The same with other request bounds.
   *
   * @param bodyBytes the largest body.
   * @param headerBytes the largest head.
   * @return the configuration.
   */
  public ApiServerConfig withBounds(int bodyBytes, int headerBytes) {
    return new ApiServerConfig(host, port, bodyBytes, headerBytes, defaultPage, maxPage, poolSize, maxQueued,
        queryTimeout);
  }

  /**
   * The same with another pool and queue.
   *
   * @param connections the database connections (and workers).
   * @param queued the requests that may wait.
   * @return the configuration.
   */
  public ApiServerConfig withPool(int connections, int queued) {
    return new ApiServerConfig(host, port, maxBodyBytes, maxHeaderBytes, defaultPage, maxPage, connections, queued,
        queryTimeout);
  }

  private static void check(String name, int value, int min, int max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException("api " + name + " must be between " + min + " and " + max + ", not "
          + value);
    }
  }
}
