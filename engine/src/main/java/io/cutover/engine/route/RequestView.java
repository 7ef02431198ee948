package io.cutover.engine.route;

/**
 * What the router reads of a request; the gateway adapts its request to it without copying. Names of headers are
 * matched case-insensitively, cookies and query parameters exactly.
 */
public interface RequestView {

  /**
   * The method.
   *
   * @return GET, POST, ...
   */
  String method();

  /**
   * The path, without the query string.
   *
   * @return the path.
   */
  String path();

  /**
   * A header's value.
   *
   * @param name the header's name, lower case.
   * @return the first value, or null.
   */
  String header(String name);

  /**
   * A cookie's value.
   *
   * @param name the cookie's name.
   * @return the value, or null.
   */
  String cookie(String name);

  /**
   * A query parameter's value.
   *
   * @param name the parameter's name.
   * @return the first value, or null.
   */
  String query(String name);
}
