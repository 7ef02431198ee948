package io.cutover.bench;

import io.cutover.engine.analysis.Analysis;
import io.cutover.engine.analysis.BoundaryAnalyzer;
import io.cutover.engine.analysis.Hints;
import io.cutover.engine.analysis.PlantedSchema;
import io.cutover.engine.analysis.Schema;
import io.cutover.engine.analysis.SchemaOutline;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Quality and speed of the boundary analyzer.
 *
 * <p>Quality: the adjusted Rand index (1: the right answer; about 0: chance) of the proposal against known
 * groupings, next to a naive baseline measured in the same run, the connected components of the foreign-key graph
 * (what "split where no key crosses" gives): planted schemas (random groups of 3-9 tables, one key across per
 * group, rare cross transactions, two shared lookup tables), with and without a transaction that saves each group
 * whole, structure only; and AdventureWorks against its own modules (docs/schemas/adventureworks.txt).
 *
 * <p>Speed: planted monoliths of about 100 and 1,000 tables with their access logs, median of 5 runs after 3
 * warm-ups, next to the baseline's time.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar io.cutover.bench.AnalyzerHarness [SEEDS]
 * </pre>
 */
public final class AnalyzerHarness {
  private AnalyzerHarness() {}

  /**
   * Runs it.
   *
   * @param args how many seeds per ensemble (default 200).
   * @throws Exception on failure.
   */
  public static void main(String[] args) throws Exception {
    int seeds = args.length > 0 ? Integer.parseInt(args[0]) : 200;
    System.out.printf("JDK %s, %d cores%n", System.getProperty("java.version"),
        Runtime.getRuntime().availableProcessors());
    System.out.printf("%-44s %10s %10s %14s%n", "ensemble", "cutover", "exact", "FK components");
    for (int variant = 0; variant < 3; variant++) {
      double sum = 0;
      double base = 0;
      int exact = 0;
      for (long seed = 1; seed <= seeds; seed++) {
        int groups = 2 + (int) (seed % 7);
        PlantedSchema p = PlantedSchema.generate(groups, 3, 9, 2, 1, variant == 1, seed * 7919);
        List<io.cutover.engine.analysis.Transaction> log = variant == 2 ? List.of() : p.transactions();
        double ari = p.adjustedRandIndex(BoundaryAnalyzer.analyze(p.schema(), log, Hints.NONE, 1));
        sum += ari;
        exact += ari > 0.999999 ? 1 : 0;
        Map<String, String> planted = new HashMap<>();
        p.truth().forEach((t, g) -> planted.put(t, "g" + g));
        base += PlantedSchema.adjustedRandIndex(planted, components(p.schema(), p.reference()));
      }
      String name = variant == 0 ? "planted, access log" : variant == 1 ? "planted, access log + aggregate saves"
          : "planted, foreign keys only";
      System.out.printf("%-44s %10.3f %6d/%-3d %14.3f%n", name + " (" + seeds + " seeds)", sum / seeds, exact, seeds,
          base / seeds);
    }
    SchemaOutline aw = SchemaOutline.read(Path.of("docs", "schemas", "adventureworks.txt"));
    Analysis analysis = BoundaryAnalyzer.analyze(aw.schema(), List.of(), Hints.NONE, 1);
    Map<String, String> proposed = new HashMap<>();
    analysis.services().forEach(s -> s.tables().forEach(t -> proposed.put(t, s.name())));
    Map<String, String> truth = new HashMap<>(aw.modules());
    analysis.referenceTables().forEach(r -> truth.remove(r.table()));
    System.out.printf("%-44s %10.3f %10s %14.3f%n", "AdventureWorks vs its 5 modules (68 tables)",
        PlantedSchema.adjustedRandIndex(truth, proposed), "-", PlantedSchema.adjustedRandIndex(truth,
            components(aw.schema(), java.util.Set.of())));
    System.out.printf("  %d services, %d reference tables: %s%n", analysis.services().size(),
        analysis.referenceTables().size(), analysis.referenceTables().stream().map(Analysis.ReferenceTable::table)
            .toList());
    for (Analysis.ProposedService s : analysis.services()) {
      Map<String, Integer> byModule = new java.util.TreeMap<>();
      s.tables().forEach(t -> byModule.merge(aw.modules().get(t), 1, Integer::sum));
      System.out.printf("  %-34s %s%n", s.name(), byModule);
    }
    System.out.printf("%n%-28s %14s %14s%n", "size", "cutover (ms)", "FK components (ms)");
    for (int[] shape : new int[][] {{15, 5, 8}, {150, 5, 8}}) {
      PlantedSchema p = PlantedSchema.generate(shape[0], shape[1], shape[2], 5, 1, false, 42);
      long[] times = new long[5];
      long[] baseTimes = new long[5];
      for (int run = -3; run < 5; run++) {
        long t0 = System.nanoTime();
        BoundaryAnalyzer.analyze(p.schema(), p.transactions(), Hints.NONE, 1);
        long t1 = System.nanoTime();
        components(p.schema(), p.reference());
        long t2 = System.nanoTime();
        if (run >= 0) {
          times[run] = t1 - t0;
          baseTimes[run] = t2 - t1;
        }
      }
      java.util.Arrays.sort(times);
      java.util.Arrays.sort(baseTimes);
      System.out.printf("%-28s %14.1f %14.2f%n", p.schema().tables().size() + " tables, " + p.transactions().size()
          + " transactions", times[2] / 1e6, baseTimes[2] / 1e6);
    }
  }

  /** The baseline: connected components of the foreign-key graph (reference tables left out). */
  static Map<String, String> components(Schema schema, java.util.Set<String> leave) {
    Map<String, List<String>> near = new HashMap<>();
    for (Schema.Table t : schema.tables()) {
      near.computeIfAbsent(t.name(), k -> new java.util.ArrayList<>());
      for (Schema.ForeignKey fk : t.foreignKeys()) {
        if (!leave.contains(fk.referencedTable()) && !leave.contains(t.name())) {
          near.get(t.name()).add(fk.referencedTable());
          near.computeIfAbsent(fk.referencedTable(), k -> new java.util.ArrayList<>()).add(t.name());
        }
      }
    }
    Map<String, String> label = new HashMap<>();
    for (String start : near.keySet()) {
      if (leave.contains(start) || label.containsKey(start)) {
        continue;
      }
      Deque<String> queue = new ArrayDeque<>(List.of(start));
      label.put(start, start);
      while (!queue.isEmpty()) {
        for (String next : near.get(queue.poll())) {
          if (label.putIfAbsent(next, start) == null) {
            queue.add(next);
          }
        }
      }
    }
    return label;
  }
}
