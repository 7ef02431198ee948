package io.cutover.engine.analysis;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes an {@link Analysis} to a directory: {@code plan.yaml} (a migration configuration the engine loads as
 * is), {@code report.md} (for people), {@code graph.dot} (Graphviz: tables clustered by service, crossing foreign
 * keys in red) and {@code analysis.json} (for machines). Files are written to temporary names and moved into
 * place, so a reader never sees half a file.
 */
public final class AnalysisWriter {
  private AnalysisWriter() {}

  /**
   * Writes the four files.
   *
   * @param analysis the analysis.
   * @param directory where (created if needed).
   * @param monolithUrl the monolith's JDBC URL (the plan's monolith side; services get URLs beside it).
   * @param user the database user for the plan.
   * @return the files written.
   * @throws IOException if a file cannot be written.
   */
  public static List<Path> write(Analysis analysis, Path directory, String monolithUrl, String user)
      throws IOException {
    Files.createDirectories(directory);
    List<Path> out = new ArrayList<>();
    out.add(put(directory.resolve("plan.yaml"), plan(analysis, monolithUrl, user)));
    out.add(put(directory.resolve("report.md"), report(analysis)));
    out.add(put(directory.resolve("graph.dot"), dot(analysis)));
    out.add(put(directory.resolve("analysis.json"), json(analysis)));
    return out;
  }

  private static Path put(Path file, String text) throws IOException {
    Path temp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(temp, text, StandardCharsets.UTF_8);
    Files.move(temp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    return file;
  }

  /** A service's JDBC URL beside the monolith's: the same server, a database named after the service. */
  static String serviceUrl(String monolithUrl, String service) {
    if (monolithUrl.startsWith("jdbc:h2:mem:")) {
      return "jdbc:h2:mem:" + service + ";DB_CLOSE_DELAY=-1";
    }
    if (monolithUrl.startsWith("jdbc:h2:")) {
      return "jdbc:h2:./" + service;
    }
    int slash = monolithUrl.indexOf('/', "jdbc:postgresql://".length());
    if (monolithUrl.startsWith("jdbc:postgresql://") && slash > 0) {
      return monolithUrl.substring(0, slash + 1) + service;
    }
    return "jdbc:postgresql://127.0.0.1:5432/" + service;
  }

  /**
   * The plan alone: a configuration the engine loads, each proposed service a side beside the monolith.
   *
   * @param analysis the analysis.
   * @param monolithUrl the monolith's JDBC URL.
   * @param user the database user.
   * @return the YAML text.
   */
  public static String plan(Analysis analysis, String monolithUrl, String user) {
    StringBuilder y = new StringBuilder();
    y.append("# Cutover migration plan proposed by `cutover analyze`: review it, create each service's database\n")
        .append("# and tables, then `cutover check --config plan.yaml` and `cutover run --config plan.yaml`.\n")
        .append("# Move one service at a time: comment out the others' tables.\n")
        .append("journal: {directory: cutover-journal}\n")
        .append("state: {directory: cutover-state}\n")
        .append("sides:\n")
        .append("  monolith: {url: '").append(monolithUrl.replace("'", "''")).append("', user: ").append(quote(user))
        .append("}\n")
        .append("  services:\n");
    for (Analysis.ProposedService s : analysis.services()) {
      y.append("    ").append(s.name()).append(": {url: '").append(serviceUrl(monolithUrl, s.name()).replace("'", "''"))
          .append("', user: ").append(quote(user)).append("}\n");
    }
    y.append("tables:\n");
    for (Analysis.ProposedService s : analysis.services()) {
      y.append("  # ").append(s.name()).append(String.format(Locale.ROOT, ": cohesion %.2f, %d interface table(s)%n",
          s.cohesion(), s.interfaces()));
      for (String table : s.tables()) {
        y.append("  - {source: ").append(table).append(", service: ").append(s.name()).append("}\n");
      }
    }
    for (Analysis.ReferenceTable r : analysis.referenceTables()) {
      y.append("  # ").append(r.table()).append(": shared reference data, owned by the monolith, copied one way\n");
      for (String service : r.usedBy()) {
        y.append("  - {source: ").append(r.table()).append(", service: ").append(service)
            .append(", direction: to_service}\n");
      }
    }
    return y.toString();
  }

  private static String quote(String user) {
    return user.isEmpty() ? "''" : "'" + user.replace("'", "''") + "'";
  }

  static String report(Analysis a) {
    StringBuilder m = new StringBuilder("# Proposed services\n\n");
    m.append(String.format(Locale.ROOT, "%d services, %d shared reference tables; modularity %.3f; %d crossing "
        + "foreign keys; %s of observed transactions would be distributed; %d circular dependencies. "
        + "Analyzed in %d ms.%n%n", a.services().size(), a.referenceTables().size(), a.modularity(),
        a.crossingForeignKeys().size(), a.transactions() == 0 ? "no access log, so unknown"
            : String.format(Locale.ROOT, "%.1f%%", 100 * a.distributedShare()), a.cycles().size(),
        a.elapsed().toMillis()));
    m.append("| service | tables | cohesion | coupling | interfaces | reference data used |\n|---|---|---|---|---|---|\n");
    for (Analysis.ProposedService s : a.services()) {
      m.append(String.format(Locale.ROOT, "| %s | %s | %.2f | %.2f | %d | %s |%n", s.name(),
          String.join(", ", s.tables()), s.cohesion(), s.coupling(), s.interfaces(),
          String.join(", ", s.usesReference())));
    }
    for (Analysis.ProposedService s : a.services()) {
      m.append("\n## ").append(s.name()).append("\n\nWhy these tables belong together:\n\n");
      s.reasons().forEach(r -> m.append("- ").append(r).append('\n'));
    }
    m.append("\n## Shared reference data\n\n");
    if (a.referenceTables().isEmpty()) {
      m.append("None found.\n");
    }
    a.referenceTables().forEach(r -> m.append("- ").append(r.table()).append(": ").append(r.reason())
        .append("; used by ").append(String.join(", ", r.usedBy())).append('\n'));
    m.append("\n## Foreign keys that would cross services\n\nEach becomes an API call or an event.\n\n");
    if (a.crossingForeignKeys().isEmpty()) {
      m.append("None.\n");
    }
    a.crossingForeignKeys().forEach(fk -> m.append("- ").append(fk.describe()).append('\n'));
    m.append("\n## Distributed transactions\n\n");
    if (a.transactions() == 0) {
      m.append("No access log was given.\n");
    } else {
      m.append(String.format(Locale.ROOT, "%.1f%% of %d observed transactions would span services.%n%n",
          100 * a.distributedShare(), a.transactions()));
      a.distributedByPair().forEach((pair, share) -> m.append(String.format(Locale.ROOT, "- %s: %.1f%%%n",
          pair.replace("+", " and "), 100 * share)));
    }
    m.append("\n## Circular dependencies\n\n");
    if (a.cycles().isEmpty()) {
      m.append("None.\n");
    }
    for (Analysis.Cycle c : a.cycles()) {
      m.append("- ").append(String.join(" -> ", c.services())).append(" -> ").append(c.services().get(0))
          .append(": ").append(c.suggestion()).append('\n');
    }
    return m.toString();
  }

  static String dot(Analysis a) {
    StringBuilder d = new StringBuilder("digraph services {\n  rankdir=LR;\n  node [shape=box, fontname=Helvetica];\n");
    int i = 0;
    for (Analysis.ProposedService s : a.services()) {
      d.append("  subgraph cluster_").append(i++).append(" {\n    label=\"").append(s.name()).append("\";\n");
      for (String table : s.tables()) {
        d.append("    \"").append(table).append("\";\n");
      }
      d.append("  }\n");
    }
    for (Analysis.ReferenceTable r : a.referenceTables()) {
      d.append("  \"").append(r.table()).append("\" [shape=note, style=dashed];\n");
    }
    for (Schema.ForeignKey fk : a.crossingForeignKeys()) {
      d.append("  \"").append(fk.table()).append("\" -> \"").append(fk.referencedTable())
          .append("\" [color=red, label=\"").append(String.join(",", fk.columns())).append("\"];\n");
    }
    return d.append("}\n").toString();
  }

  static String json(Analysis a) {
    StringBuilder j = new StringBuilder("{\n  \"services\": [");
    for (int i = 0; i < a.services().size(); i++) {
      Analysis.ProposedService s = a.services().get(i);
      j.append(i == 0 ? "\n" : ",\n").append("    {\"name\": ").append(str(s.name())).append(", \"tables\": ")
          .append(list(s.tables())).append(", \"reasons\": ").append(list(s.reasons()))
          .append(String.format(Locale.ROOT, ", \"cohesion\": %.4f, \"coupling\": %.4f", s.cohesion(), s.coupling()))
          .append(", \"interfaces\": ").append(s.interfaces()).append(", \"usesReference\": ")
          .append(list(s.usesReference())).append('}');
    }
    j.append("\n  ],\n  \"referenceTables\": [");
    for (int i = 0; i < a.referenceTables().size(); i++) {
      Analysis.ReferenceTable r = a.referenceTables().get(i);
      j.append(i == 0 ? "\n" : ",\n").append("    {\"table\": ").append(str(r.table())).append(", \"reason\": ")
          .append(str(r.reason())).append(", \"usedBy\": ").append(list(r.usedBy())).append('}');
    }
    j.append("\n  ],\n  \"crossingForeignKeys\": ").append(list(a.crossingForeignKeys().stream()
        .map(Schema.ForeignKey::describe).toList()));
    j.append(String.format(Locale.ROOT, ",%n  \"distributedShare\": %.6f,%n  \"distributedByPair\": {",
        a.distributedShare()));
    int k = 0;
    for (Map.Entry<String, Double> e : a.distributedByPair().entrySet()) {
      j.append(k++ == 0 ? "" : ", ").append(str(e.getKey())).append(String.format(Locale.ROOT, ": %.6f", e.getValue()));
    }
    j.append("},\n  \"cycles\": [");
    for (int i = 0; i < a.cycles().size(); i++) {
      Analysis.Cycle c = a.cycles().get(i);
      j.append(i == 0 ? "\n" : ",\n").append("    {\"services\": ").append(list(c.services()))
          .append(", \"foreignKeys\": ").append(list(c.foreignKeys().stream().map(Schema.ForeignKey::describe)
              .toList())).append(", \"suggestion\": ").append(str(c.suggestion())).append('}');
    }
    j.append(String.format(Locale.ROOT, "%n  ],%n  \"modularity\": %.6f,%n  \"transactions\": %d,%n"
        + "  \"elapsedMillis\": %d%n}%n", a.modularity(), a.transactions(), a.elapsed().toMillis()));
    return j.toString();
  }

  private static String list(List<String> values) {
    StringBuilder out = new StringBuilder("[");
    for (int i = 0; i < values.size(); i++) {
      out.append(i == 0 ? "" : ", ").append(str(values.get(i)));
    }
    return out.append(']').toString();
  }

  private static String str(String value) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : value.toCharArray()) {
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\t' -> out.append("\\t");
        case '\r' -> out.append("\\r");
        default -> {
          if (c < 0x20) {
            out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.append('"').toString();
  }
}
