package io.cutover.engine.route;

import java.util.Locale;
import java.util.Objects;

/**
 * Where a request's sticky key comes from: the same key always lands in the same bucket, so a user stays on one
 * side while the weight only grows.
 *
 * @param kind where to look.
 * @param name the header, cookie or query parameter's name, or the path segment's index (from 0).
 */
public record KeySource(Kind kind, String name) {
  /** No key: each request is split on its own. */
  public static final KeySource NONE = new KeySource(Kind.NONE, "");

  /** Where to look. */
  public enum Kind {
    /** No sticky key. */
    NONE,
    /** A header. */
    HEADER,
    /** A cookie. */
    COOKIE,
    /** A query parameter. */
    QUERY,
    /** A path segment, by index. */
    PATH
  }

  /** Checks the name. */
  public KeySource {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(name, "name");
    if (kind == Kind.HEADER) {
      name = name.toLowerCase(Locale.ROOT);
    }
    if (kind == Kind.PATH && !name.matches("\\d{1,3}")) {
      throw new IllegalArgumentException("a path key names a segment index, got '" + name + "'");
    }
    if (kind != Kind.NONE && name.isEmpty()) {
      throw new IllegalArgumentException("a " + kind.name().toLowerCase(Locale.ROOT) + " key needs a name");
    }
  }

  /**
   * Parses {@code header:x-user-id}, {@code cookie:session}, {@code query:user}, {@code path:2} or {@code none}.
   *
   * @param text the text.
   * @return the source.
   * @throws IllegalArgumentException naming the text and the forms.
   */
  public static KeySource parse(String text) {
    if (text == null || text.isEmpty() || text.equals("none")) {
      return NONE;
    }
    int colon = text.indexOf(':');
    String kind = colon < 0 ? "" : text.substring(0, colon).toLowerCase(Locale.ROOT);
    String name = colon < 0 ? "" : text.substring(colon + 1);
    return switch (kind) {
      case "header" -> new KeySource(Kind.HEADER, name);
      case "cookie" -> new KeySource(Kind.COOKIE, name);
      case "query" -> new KeySource(Kind.QUERY, name);
      case "path" -> new KeySource(Kind.PATH, name);
      default -> throw new IllegalArgumentException("sticky key '" + text + "' is not one of header:NAME, "
          + "cookie:NAME, query:NAME, path:INDEX, none");
    };
  }

  /**
   * The key of a request.
   *
   * @param request the request.
   * @return the key, or null when the request has none.
   */
  public String keyOf(RequestView request) {
    return switch (kind) {
      case NONE -> null;
      case HEADER -> request.header(name);
      case COOKIE -> request.cookie(name);
      case QUERY -> request.query(name);
      case PATH -> segment(request.path(), Integer.parseInt(name));
    };
  }

  private static String segment(String path, int index) {
    int start = path.startsWith("/") ? 1 : 0;
    for (int i = 0; i < index; i++) {
      int slash = path.indexOf('/', start);
      if (slash < 0) {
        return null;
      }
      start = slash + 1;
    }
    int end = path.indexOf('/', start);
    String segment = end < 0 ? path.substring(start) : path.substring(start, end);
    return segment.isEmpty() ? null : segment;
  }

  @Override
  public String toString() {
    return kind == Kind.NONE ? "none" : kind.name().toLowerCase(Locale.ROOT) + ":" + name;
  }
}
