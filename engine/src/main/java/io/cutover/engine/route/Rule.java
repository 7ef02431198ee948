package io.cutover.engine.route;

import java.util.Locale;
import java.util.Objects;

/**
 * A canary or A/B rule: a request whose header or cookie holds a value goes to a side, whatever the weight, and is
 * reported as a named variant.
 *
 * @param kind header or cookie.
 * @param name its name.
 * @param value the value that matches (exactly).
 * @param target where matching requests go.
 * @param variant the variant's name, reported to the client.
 */
public record Rule(KeySource.Kind kind, String name, String value, Target target, String variant) {

  /** Checks the fields. */
  public Rule {
    if (kind != KeySource.Kind.HEADER && kind != KeySource.Kind.COOKIE) {
      throw new IllegalArgumentException("a rule matches a header or a cookie, not " + kind);
    }
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(value, "value");
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(variant, "variant");
    if (kind == KeySource.Kind.HEADER) {
      name = name.toLowerCase(Locale.ROOT);
    }
  }

  /**
   * A header rule.
   *
   * @param header the header.
   * @param value its value.
   * @param target where it sends.
   * @param variant the variant's name.
   * @return the rule.
   */
  public static Rule header(String header, String value, Target target, String variant) {
    return new Rule(KeySource.Kind.HEADER, header, value, target, variant);
  }

  /**
   * A cookie rule.
   *
   * @param cookie the cookie.
   * @param value its value.
   * @param target where it sends.
   * @param variant the variant's name.
   * @return the rule.
   */
  public static Rule cookie(String cookie, String value, Target target, String variant) {
    return new Rule(KeySource.Kind.COOKIE, cookie, value, target, variant);
  }

  /**
   * Whether a request matches.
   *
   * @param request the request.
   * @return true when it holds the value.
   */
  public boolean matches(RequestView request) {
    return value.equals(kind == KeySource.Kind.HEADER ? request.header(name) : request.cookie(name));
  }
}
