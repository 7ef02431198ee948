package io.cutover.engine.sync;

import io.cutover.engine.event.Side;
import java.util.Locale;
import java.util.Objects;

/**
 * How a conflict on a column (or on a whole row) is decided.
 *
 * @param kind the rule.
 * @param side for {@link Kind#PRIORITY}, the side that always wins; null otherwise.
 * @param resolver for {@link Kind#CUSTOM}, the {@link ConflictResolver#name()}; null otherwise.
 */
public record Rule(Kind kind, Side side, String resolver) {

  /** The rules. */
  public enum Kind {
    /** The change with the larger hybrid-logical-clock timestamp wins. */
    LAST_WRITER_WINS,
    /** A named side always wins. */
    PRIORITY,
    /** The larger value wins (columns only). */
    MAX,
    /** The smaller value wins (columns only). */
    MIN,
    /** Both sides' increments and decrements are applied to the agreed value (columns only; numbers). */
    COUNTER,
    /** A {@link ConflictResolver} loaded from the classpath decides. */
    CUSTOM,
    /** The row is parked for an operator; each side keeps its values until then. */
    MANUAL
  }

  /** Validates the rule. */
  public Rule {
    Objects.requireNonNull(kind, "rule kind");
    if ((kind == Kind.PRIORITY) != (side != null)) {
      throw new IllegalArgumentException("a priority rule names exactly one side; other rules none");
    }
    if ((kind == Kind.CUSTOM) != (resolver != null && !resolver.isEmpty())) {
      throw new IllegalArgumentException("a custom rule names its resolver; other rules none");
    }
  }

  /** Last writer wins. */
  public static final Rule LAST_WRITER_WINS = new Rule(Kind.LAST_WRITER_WINS, null, null);
  /** The larger value wins. */
  public static final Rule MAX = new Rule(Kind.MAX, null, null);
  /** The smaller value wins. */
  public static final Rule MIN = new Rule(Kind.MIN, null, null);
  /** Counter delta. */
  public static final Rule COUNTER = new Rule(Kind.COUNTER, null, null);
  /** Park for an operator. */
  public static final Rule MANUAL = new Rule(Kind.MANUAL, null, null);

  /**
   * A side always wins.
   *
   * @param side the side.
   * @return the rule.
   */
  public static Rule priority(Side side) {
    return new Rule(Kind.PRIORITY, side, null);
  }

  /**
   * A plug-in decides.
   *
   * @param resolver its name.
   * @return the rule.
   */
  public static Rule custom(String resolver) {
    return new Rule(Kind.CUSTOM, null, resolver);
  }

  /**
   * Whether the rule can decide a whole row (an update against a delete): not max, min or counter.
   *
   * @return true for row rules.
   */
  public boolean decidesRows() {
    return kind != Kind.MAX && kind != Kind.MIN && kind != Kind.COUNTER;
  }

  /**
   * Parses a rule as written in the configuration: {@code last_writer_wins}, {@code monolith_wins},
   * {@code service_wins}, {@code max}, {@code min}, {@code counter}, {@code manual} or {@code custom:NAME}.
   *
   * @param text the text.
   * @param service the service side (what {@code service_wins} means).
   * @return the rule.
   * @throws IllegalArgumentException naming the accepted forms.
   */
  public static Rule parse(String text, Side service) {
    String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
    if (t.startsWith("custom:") && t.length() > "custom:".length()) {
      return custom(text.trim().substring("custom:".length()));
    }
    return switch (t) {
      case "last_writer_wins" -> LAST_WRITER_WINS;
      case "monolith_wins" -> priority(Side.MONOLITH);
      case "service_wins" -> priority(service);
      case "max" -> MAX;
      case "min" -> MIN;
      case "counter" -> COUNTER;
      case "manual" -> MANUAL;
      default -> throw new IllegalArgumentException("'" + text + "' is not a conflict rule (expected one of "
          + "last_writer_wins, monolith_wins, service_wins, max, min, counter, manual, custom:NAME)");
    };
  }

  @Override
  public String toString() {
    return switch (kind) {
      case PRIORITY -> (side.isMonolith() ? "monolith" : "service") + "_wins";
      case CUSTOM -> "custom:" + resolver;
      default -> kind.name().toLowerCase(Locale.ROOT);
    };
  }
}
