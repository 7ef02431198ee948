package io.cutover.engine.analysis;

import io.cutover.engine.analysis.internal.Louvain;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Proposes services from a monolith's schema and how the application uses it. Tables are the nodes of a weighted
 * graph: foreign keys tie tables (an identifying key, part of the referencing table's primary key, ties harder);
 * tables used in the same transactions tie in proportion to how often, writes weighing more than reads; tables
 * named alike ({@code order_items}, {@code orders}) tie lightly. Louvain community detection (deterministic for a
 * seed) cuts the graph under the architect's {@link Hints}. Small lookup tables that tables of several otherwise
 * separate services point at (currencies, countries, statuses) are recognised as shared reference data and kept
 * out of the cut rather than gluing unrelated services together. Stateless; thread-safe.
 */
public final class BoundaryAnalyzer {
  /** Weight of a foreign key. */
  static final double FOREIGN_KEY = 1.0;
  /** Weight of an identifying foreign key (its columns are part of the referencing table's primary key). */
  static final double IDENTIFYING_FOREIGN_KEY = 1.5;
  /** Weight of the most frequent co-access in the log (others in proportion). */
  static final double ACCESS = 3.0;
  /** Weight of a name stem shared by two tables. */
  static final double NAME = 0.4;
  /**
   * Louvain resolution (1: classic modularity); {@link #CONSOLIDATE} then joins communities split at a seam
   * that is not weak. The weights and both settings were calibrated on planted schemas and a hand-checked shop
   * (docs/BENCHMARKS.md section 8).
   */
  static final double RESOLUTION = 1.0;
  /** Co-access weight of two tables both written by a transaction (a distributed write if they are split). */
  static final double WRITE_WRITE = 1.0;
  /** Co-access weight of a table written and one read (a remote read if split). */
  static final double READ_WRITE = 0.15;
  /** Co-access weight of two tables only read. */
  static final double READ_READ = 0.05;
  /** Communities are merged while the tie between two is at least this share of the smaller one's volume. */
  static final double CONSOLIDATE = 0.4;
  private static final Pattern LOOKUP_NAME = Pattern.compile(
      "(currenc|countr|unit|language|locale|timezone|time_zone|status|state|type|kind|region|lookup|code|setting)"
          + ".*");

  private BoundaryAnalyzer() {}

  /**
   * Analyzes a schema.
   *
   * @param schema the monolith's schema.
   * @param transactions observed transactions (may be empty).
   * @param hints the architect's constraints.
   * @param seed makes the result reproducible.
   * @return the proposal.
   * @throws IllegalArgumentException naming the table or hint when the hints name unknown tables or contradict
   *     themselves.
   */
  public static Analysis analyze(Schema schema, List<Transaction> transactions, Hints hints, long seed) {
    long started = System.nanoTime();
    List<String> all = schema.tables().stream().map(Schema.Table::name).sorted().toList();
    Set<String> known = new HashSet<>(all);
    Set<String> hinted = checkHints(hints, known);
    List<Transaction> observed = new ArrayList<>();
    for (Transaction t : transactions) {
      Set<String> reads = new TreeSet<>(t.reads());
      Set<String> writes = new TreeSet<>(t.writes());
      reads.retainAll(known);
      writes.retainAll(known);
      if (!reads.isEmpty() || !writes.isEmpty()) {
        observed.add(new Transaction(t.id(), reads, writes, t.count()));
      }
    }
    // Reference data: candidates by shape; confirmed when their users fall into several services without them.
    Map<String, Set<String>> referencedBy = referencedBy(schema);
    Set<String> candidates = referenceCandidates(schema, observed, referencedBy, hinted);
    Set<String> reference = new TreeSet<>();
    if (!candidates.isEmpty()) {
      Map<String, Integer> first = cluster(schema, observed, hints, seed, candidates).communityOf;
      for (String candidate : candidates) {
        Map<Integer, Integer> users = new HashMap<>();
        int total = 0;
        for (String user : referencedBy.get(candidate)) {
          if (first.containsKey(user)) {
            users.merge(first.get(user), 1, Integer::sum);
            total++;
          }
        }
        int largest = users.values().stream().mapToInt(Integer::intValue).max().orElse(0);
        // used from several services: a lookup by name needs two; one known only by its shape needs its users
        // spread so that no one service holds more than half of them
        boolean lookupName = LOOKUP_NAME.matcher(candidate).matches();
        if (users.size() >= 2 && (lookupName || largest * 2 <= total)) {
          reference.add(candidate);
        }
      }
    }
    Clustering clustering = cluster(schema, observed, hints, seed, reference);
    return describe(schema, observed, clustering, reference, referencedBy, started);
  }

  private static Set<String> checkHints(Hints hints, Set<String> known) {
    Set<String> hinted = new HashSet<>();
    List<Set<String>> groups = new ArrayList<>(hints.together());
    groups.addAll(hints.apart());
    for (Set<String> group : groups) {
      for (String table : group) {
        if (!known.contains(table)) {
          throw new IllegalArgumentException("hint names table " + table + ", which is not in the schema");
        }
        hinted.add(table);
      }
    }
    UnionFind together = new UnionFind(known);
    for (Set<String> group : hints.together()) {
      String first = group.iterator().next();
      group.forEach(t -> together.union(first, t));
    }
    for (Set<String> pair : hints.apart()) {
      List<String> p = new ArrayList<>(new TreeSet<>(pair));
      if (together.find(p.get(0)).equals(together.find(p.get(1)))) {
        throw new IllegalArgumentException("hints contradict: " + p.get(0) + " and " + p.get(1)
            + " must be apart but are in one together group");
      }
    }
    if (hints.maxTables() > 0) {
      Map<String, Integer> sizes = new HashMap<>();
      known.forEach(t -> sizes.merge(together.find(t), 1, Integer::sum));
      int biggest = sizes.values().stream().mapToInt(Integer::intValue).max().orElse(0);
      if (biggest > hints.maxTables()) {
        throw new IllegalArgumentException("hints contradict: a together group holds " + biggest
            + " tables, more than the maximum of " + hints.maxTables() + " per service");
      }
    }
    return hinted;
  }

  private static Map<String, Set<String>> referencedBy(Schema schema) {
    Map<String, Set<String>> out = new TreeMap<>();
    schema.tables().forEach(t -> out.put(t.name(), new TreeSet<>()));
    for (Schema.Table table : schema.tables()) {
      for (Schema.ForeignKey fk : table.foreignKeys()) {
        if (!fk.referencedTable().equals(table.name())) {
          out.get(fk.referencedTable()).add(table.name());
        }
      }
    }
    return out;
  }

  /** Small tables with no foreign keys of their own, pointed at by several tables, rarely written. */
  private static Set<String> referenceCandidates(Schema schema, List<Transaction> observed,
      Map<String, Set<String>> referencedBy, Set<String> hinted) {
    Map<String, long[]> access = new HashMap<>(); // table -> {reads, writes}
    for (Transaction t : observed) {
      t.reads().forEach(r -> access.computeIfAbsent(r, k -> new long[2])[0] += t.count());
      t.writes().forEach(w -> access.computeIfAbsent(w, k -> new long[2])[1] += t.count());
    }
    int n = schema.tables().size();
    Set<String> out = new TreeSet<>();
    for (Schema.Table table : schema.tables()) {
      int users = referencedBy.get(table.name()).size();
      boolean ownKeys = table.foreignKeys().stream().anyMatch(fk -> !fk.referencedTable().equals(table.name()));
      if (hinted.contains(table.name()) || ownKeys || table.columns().size() > 6 || users < 2) {
        continue;
      }
      long[] rw = access.getOrDefault(table.name(), new long[2]);
      if (rw[1] > 0.1 * (rw[0] + rw[1])) {
        continue;
      }
      if (users >= Math.max(3, Math.round(0.05 * n)) || LOOKUP_NAME.matcher(table.name()).matches()) {
        out.add(table.name());
      }
    }
    return out;
  }

  /** A tie between two tables, with its evidence. */
  static final class Tie {
    final List<Schema.ForeignKey> foreignKeys = new ArrayList<>();
    double fkWeight;
    double access;
    double accessShare;
    boolean sameName;
    double weight;

    String describe(String a, String b) {
      List<String> parts = new ArrayList<>();
      for (Schema.ForeignKey fk : foreignKeys) {
        parts.add("foreign key " + fk.describe());
      }
      if (accessShare > 0) {
        parts.add(String.format(Locale.ROOT, "used together in %.1f%% of transactions", 100 * accessShare));
      }
      if (sameName) {
        parts.add("named alike");
      }
      return a + " ~ " + b + ": " + String.join("; ", parts);
    }
  }

  /** The result of clustering the non-reference tables. */
  private record Clustering(List<String> tables, Map<String, Integer> communityOf, Map<Long, Tie> ties,
      double modularity) {}

  private static Clustering cluster(Schema schema, List<Transaction> observed, Hints hints, long seed,
      Set<String> left) {
    List<String> tables = schema.tables().stream().map(Schema.Table::name).filter(t -> !left.contains(t))
        .sorted().toList();
    Map<String, Integer> index = new HashMap<>();
    for (int i = 0; i < tables.size(); i++) {
      index.put(tables.get(i), i);
    }
    Map<Long, Tie> ties = ties(schema, observed, index);
    Map<Long, Double> weights = new HashMap<>();
    ties.forEach((k, tie) -> weights.put(k, tie.weight));
    int n = tables.size();
    int[] initial = new int[n];
    UnionFind together = new UnionFind(new HashSet<>(tables));
    for (Set<String> group : hints.together()) {
      List<String> in = group.stream().filter(index::containsKey).sorted().toList();
      in.forEach(t -> together.union(in.get(0), t));
    }
    for (int i = 0; i < n; i++) {
      initial[i] = index.get(together.find(tables.get(i)));
    }
    List<List<Integer>> apart = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      apart.add(new ArrayList<>());
    }
    for (Set<String> pair : hints.apart()) {
      List<String> p = new ArrayList<>(pair);
      if (index.containsKey(p.get(0)) && index.containsKey(p.get(1))) {
        apart.get(index.get(p.get(0))).add(index.get(p.get(1)));
        apart.get(index.get(p.get(1))).add(index.get(p.get(0)));
      }
    }
    int[][] apartOf = apart.stream().map(l -> l.stream().mapToInt(Integer::intValue).toArray()).toArray(int[][]::new);
    Louvain louvain = new Louvain(n, weights, apartOf, hints.maxTables());
    int[] community = louvain.run(initial, RESOLUTION, seed);
    int count = Arrays.stream(community).max().orElse(-1) + 1;
    if (hints.services() == 0) {
      community = consolidate(community, weights, apartOf, hints.maxTables());
      count = Arrays.stream(community).max().orElse(-1) + 1;
    }
    if (hints.services() > 0 && count < hints.services()) {
      double resolution = RESOLUTION;
      for (int attempt = 0; attempt < 40 && count < hints.services(); attempt++) {
        resolution *= 1.25;
        community = louvain.run(initial, resolution, seed);
        count = Arrays.stream(community).max().orElse(-1) + 1;
      }
    }
    if (hints.services() > 0 && count > hints.services()) {
      community = mergeDown(community, count, hints.services(), weights, apartOf, hints.maxTables());
    }
    Map<String, Integer> communityOf = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      communityOf.put(tables.get(i), community[i]);
    }
    return new Clustering(tables, communityOf, ties, louvain.modularity(community));
  }

  /** Merges communities, best modularity gain first, until {@code target} remain (constraints permitting). */
  private static int[] mergeDown(int[] community, int count, int target, Map<Long, Double> weights,
      int[][] apartOf, int maxSize) {
    int[] c = community.clone();
    while (count > target) {
      double total = weights.values().stream().mapToDouble(Double::doubleValue).sum();
      Communities stats = Communities.of(c, count, weights, apartOf);
      double[] degree = stats.volume();
      int[] size = stats.size();
      Map<Long, Double> between = stats.between();
      Set<Long> forbidden = stats.forbidden();
      int bestA = -1;
      int bestB = -1;
      double best = Double.NEGATIVE_INFINITY;
      for (int a = 0; a < count; a++) {
        for (int b = a + 1; b < count; b++) {
          if (forbidden.contains(Louvain.key(a, b)) || (maxSize > 0 && size[a] + size[b] > maxSize)) {
            continue;
          }
          double w = between.getOrDefault(Louvain.key(a, b), 0.0);
          double gain = total == 0 ? -size[a] * (double) size[b]
              : w / total - degree[a] * degree[b] / (2 * total * total);
          if (gain > best) {
            best = gain;
            bestA = a;
            bestB = b;
          }
        }
      }
      if (bestA < 0) {
        break; // no merge the hints allow
      }
      for (int i = 0; i < c.length; i++) {
        if (c[i] == bestB) {
          c[i] = bestA;
        }
      }
      count = renumber(c);
    }
    return c;
  }

  /**
   * Merges pairs of communities whose tie is a large share of the smaller one's volume (an aggregate split at a
   * weak seam), strongest first; modularity alone merges small groups in large graphs and splits large ones.
   */
  private static int[] consolidate(int[] community, Map<Long, Double> weights, int[][] apartOf, int maxSize) {
    int[] c = community.clone();
    while (true) {
      int count = renumber(c);
      Communities stats = Communities.of(c, count, weights, apartOf);
      double[] volume = stats.volume();
      int[] size = stats.size();
      Map<Long, Double> between = stats.between();
      Set<Long> forbidden = stats.forbidden();
      long best = -1;
      double bestShare = CONSOLIDATE;
      List<Long> keys = new ArrayList<>(between.keySet());
      keys.sort(null);
      for (long key : keys) {
        int a = (int) (key >>> 32);
        int b = (int) key;
        double share = between.get(key) / Math.min(volume[a], volume[b]);
        if (share >= bestShare && !forbidden.contains(key) && (maxSize == 0 || size[a] + size[b] <= maxSize)
            && (best < 0 || share > bestShare)) {
          best = key;
          bestShare = share;
        }
      }
      if (best < 0) {
        return c;
      }
      int a = (int) (best >>> 32);
      int b = (int) best;
      for (int i = 0; i < c.length; i++) {
        if (c[i] == b) {
          c[i] = a;
        }
      }
    }
  }

  /** Per community: its volume (tie weight touching it), its size, the ties between pairs, the pairs the
   *  apart hints forbid to merge. */
  private record Communities(double[] volume, int[] size, Map<Long, Double> between, Set<Long> forbidden) {
    static Communities of(int[] c, int count, Map<Long, Double> weights, int[][] apartOf) {
      double[] volume = new double[count];
      int[] size = new int[count];
      Map<Long, Double> between = new HashMap<>();
      for (Map.Entry<Long, Double> e : weights.entrySet()) {
        int a = c[(int) (e.getKey() >>> 32)];
        int b = c[(int) (long) e.getKey()];
        volume[a] += e.getValue();
        volume[b] += e.getValue();
        if (a != b) {
          between.merge(Louvain.key(a, b), e.getValue(), Double::sum);
        }
      }
      for (int v : c) {
        size[v]++;
      }
      Set<Long> forbidden = new HashSet<>();
      for (int i = 0; i < apartOf.length; i++) {
        for (int j : apartOf[i]) {
          forbidden.add(Louvain.key(c[i], c[j]));
        }
      }
      return new Communities(volume, size, between, forbidden);
    }
  }

  private static int renumber(int[] values) {
    Map<Integer, Integer> index = new HashMap<>();
    for (int i = 0; i < values.length; i++) {
      values[i] = index.computeIfAbsent(values[i], k -> index.size());
    }
    return index.size();
  }

  private static Map<Long, Tie> ties(Schema schema, List<Transaction> observed, Map<String, Integer> index) {
    String[] byIndex = new String[index.size()];
    index.forEach((name, i) -> byIndex[i] = name);
    Map<Long, Tie> ties = new HashMap<>();
    for (Schema.Table table : schema.tables()) {
      for (Schema.ForeignKey fk : table.foreignKeys()) {
        Integer a = index.get(fk.table());
        Integer b = index.get(fk.referencedTable());
        if (a == null || b == null || a.equals(b)) {
          continue;
        }
        Tie tie = ties.computeIfAbsent(Louvain.key(a, b), k -> new Tie());
        tie.foreignKeys.add(fk);
        tie.fkWeight += table.primaryKey().containsAll(fk.columns()) ? IDENTIFYING_FOREIGN_KEY : FOREIGN_KEY;
      }
    }
    long total = 0;
    Map<Long, Long> together = new HashMap<>();
    Map<String, Double> volume = new HashMap<>(); // each table's accesses, write-weighted like the pairs
    for (Transaction t : observed) {
      total += t.count();
      List<String> used = t.tables().stream().filter(index::containsKey).toList();
      for (String table : used) {
        volume.merge(table, t.count() * (t.writes().contains(table) ? WRITE_WRITE : READ_WRITE), Double::sum);
      }
      for (int i = 0; i < used.size(); i++) {
        for (int j = i + 1; j < used.size(); j++) {
          String a = used.get(i);
          String b = used.get(j);
          int written = (t.writes().contains(a) ? 1 : 0) + (t.writes().contains(b) ? 1 : 0);
          double kind = written == 2 ? WRITE_WRITE : written == 1 ? READ_WRITE : READ_READ;
          long key = Louvain.key(index.get(a), index.get(b));
          ties.computeIfAbsent(key, k -> new Tie()).access += t.count() * kind;
          together.merge(key, t.count(), Long::sum);
        }
      }
    }
    List<String> names = new ArrayList<>(index.keySet());
    names.sort(null);
    Map<String, List<String>> byStem = new TreeMap<>();
    for (String name : names) {
      String stem = stem(name);
      if (stem.length() >= 3) {
        byStem.computeIfAbsent(stem, k -> new ArrayList<>()).add(name);
      }
    }
    for (List<String> group : byStem.values()) {
      for (int i = 0; i < group.size(); i++) {
        for (int j = i + 1; j < group.size(); j++) {
          ties.computeIfAbsent(Louvain.key(index.get(group.get(i)), index.get(group.get(j))), k -> new Tie())
              .sameName = true;
        }
      }
    }
    for (Map.Entry<Long, Tie> e : ties.entrySet()) {
      Tie tie = e.getValue();
      tie.accessShare = total == 0 ? 0 : together.getOrDefault(e.getKey(), 0L) / (double) total;
      double affinity = 0;
      if (tie.access > 0) {
        // how much of the less used table's traffic also involves the other (1: never used without it)
        double va = volume.get(byIndex[(int) (e.getKey() >>> 32)]);
        double vb = volume.get(byIndex[(int) (long) e.getKey()]);
        double lesser = Math.min(va, vb);
        affinity = Math.min(1.0, tie.access / lesser);
      }
      tie.weight = tie.fkWeight + ACCESS * affinity + (tie.sameName ? NAME : 0);
    }
    return ties;
  }

  /** The first word of a table name, singular: {@code order_items} -> {@code order}, {@code addresses} ->
   *  {@code address}, {@code categories} -> {@code category}. */
  static String stem(String table) {
    String word = table.split("_")[0];
    if (word.endsWith("ies") && word.length() > 4) {
      return word.substring(0, word.length() - 3) + "y";
    }
    if (word.endsWith("sses") || word.endsWith("xes") || word.endsWith("ches")) {
      return word.substring(0, word.length() - 2);
    }
    if (word.endsWith("s") && !word.endsWith("ss") && word.length() > 3) {
      return word.substring(0, word.length() - 1);
    }
    return word;
  }

  private static Analysis describe(Schema schema, List<Transaction> observed, Clustering clustering,
      Set<String> reference, Map<String, Set<String>> referencedBy, long started) {
    Map<Integer, List<String>> members = new TreeMap<>();
    clustering.communityOf.forEach((t, c) -> members.computeIfAbsent(c, k -> new ArrayList<>()).add(t));
    Map<String, Integer> index = new HashMap<>();
    for (int i = 0; i < clustering.tables.size(); i++) {
      index.put(clustering.tables.get(i), i);
    }
    // names: the stem of the most tied table inside
    Map<Integer, String> names = new TreeMap<>();
    Set<String> used = new HashSet<>();
    List<Integer> order = new ArrayList<>(members.keySet());
    order.sort(Comparator.comparingInt((Integer c) -> -members.get(c).size()).thenComparing(c -> members.get(c)
        .get(0)));
    for (int c : order) {
      List<String> inside = members.get(c);
      String central = inside.stream().max(Comparator.comparingDouble((String t) -> internal(t, inside, index,
          clustering.ties)).thenComparing(Comparator.reverseOrder())).orElseThrow();
      String base = serviceName(central);
      String name = base;
      for (int k = 2; !used.add(name); k++) {
        name = base + "_" + k;
      }
      names.put(c, name);
    }
    Map<String, String> serviceOf = new HashMap<>();
    clustering.communityOf.forEach((t, c) -> serviceOf.put(t, names.get(c)));
    // reference tables and who uses them
    Map<String, Set<String>> referenceUsers = new TreeMap<>();
    for (String table : reference) {
      Set<String> services = new TreeSet<>();
      for (String user : referencedBy.get(table)) {
        if (serviceOf.containsKey(user)) {
          services.add(serviceOf.get(user));
        }
      }
      for (Transaction t : observed) {
        if (t.tables().contains(table)) {
          t.tables().stream().filter(serviceOf::containsKey).forEach(u -> services.add(serviceOf.get(u)));
        }
      }
      referenceUsers.put(table, services);
    }
    List<Analysis.ReferenceTable> referenceTables = new ArrayList<>();
    referenceUsers.forEach((table, services) -> referenceTables.add(new Analysis.ReferenceTable(table,
        "referenced by " + referencedBy.get(table).size() + " tables in " + services.size() + " services, "
            + schema.table(table).columns().size() + " columns, no foreign keys of its own, rarely written",
        new ArrayList<>(services))));
    // services
    List<Analysis.ProposedService> services = new ArrayList<>();
    for (int c : order) {
      List<String> inside = new ArrayList<>(members.get(c));
      inside.sort(null);
      double in = 0;
      double out = 0;
      Set<String> exposed = new TreeSet<>();
      List<Map.Entry<Long, Tie>> internalTies = new ArrayList<>();
      for (Map.Entry<Long, Tie> e : clustering.ties.entrySet()) {
        String a = clustering.tables.get((int) (e.getKey() >>> 32));
        String b = clustering.tables.get((int) (long) e.getKey());
        boolean hasA = inside.contains(a);
        boolean hasB = inside.contains(b);
        if (hasA && hasB) {
          in += e.getValue().weight;
          internalTies.add(e);
        } else if (hasA || hasB) {
          out += e.getValue().weight;
          exposed.add(hasA ? a : b);
        }
      }
      internalTies.sort(Comparator.comparingDouble((Map.Entry<Long, Tie> e) -> -e.getValue().weight)
          .thenComparing(Map.Entry::getKey));
      List<String> reasons = new ArrayList<>();
      for (Map.Entry<Long, Tie> e : internalTies.subList(0, Math.min(3, internalTies.size()))) {
        reasons.add(e.getValue().describe(clustering.tables.get((int) (e.getKey() >>> 32)),
            clustering.tables.get((int) (long) e.getKey())));
      }
      if (reasons.isEmpty()) {
        reasons.add(inside.size() == 1 ? "no strong ties to other tables" : "kept together by the hints");
      }
      double cohesion = in + out == 0 ? 1.0 : in / (in + out);
      String name = names.get(c);
      List<String> uses = referenceUsers.entrySet().stream().filter(e -> e.getValue().contains(name))
          .map(Map.Entry::getKey).toList();
      services.add(new Analysis.ProposedService(name, inside, reasons, cohesion, 1 - cohesion, exposed.size(),
          uses));
    }
    // crossing foreign keys and the dependencies they make
    List<Schema.ForeignKey> crossing = new ArrayList<>();
    for (Schema.Table table : schema.tables()) {
      for (Schema.ForeignKey fk : table.foreignKeys()) {
        String from = serviceOf.get(fk.table());
        String to = serviceOf.get(fk.referencedTable());
        if (from != null && to != null && !from.equals(to)) {
          crossing.add(fk);
        }
      }
    }
    // distributed transactions
    long total = 0;
    long distributed = 0;
    Map<String, Long> byPair = new TreeMap<>();
    for (Transaction t : observed) {
      total += t.count();
      Set<String> touched = new TreeSet<>();
      t.tables().stream().filter(serviceOf::containsKey).forEach(x -> touched.add(serviceOf.get(x)));
      boolean writes = t.writes().stream().anyMatch(serviceOf::containsKey);
      if (touched.size() > 1 && writes) {
        distributed += t.count();
        List<String> list = new ArrayList<>(touched);
        for (int i = 0; i < list.size(); i++) {
          for (int j = i + 1; j < list.size(); j++) {
            byPair.merge(list.get(i) + "+" + list.get(j), t.count(), Long::sum);
          }
        }
      }
    }
    Map<String, Double> pairShare = new TreeMap<>();
    long observedTotal = total;
    byPair.forEach((pair, count) -> pairShare.put(pair, count / (double) observedTotal));
    List<Analysis.Cycle> cycles = Cycles.find(crossing, serviceOf);
    return new Analysis(services, referenceTables, crossing, total == 0 ? 0 : distributed / (double) total,
        pairShare, cycles, clustering.modularity, total, Duration.ofNanos(System.nanoTime() - started));
  }

  private static double internal(String table, List<String> inside, Map<String, Integer> index, Map<Long, Tie> ties) {
    double sum = 0;
    for (String other : inside) {
      if (!other.equals(table)) {
        Tie tie = ties.get(Louvain.key(index.get(table), index.get(other)));
        sum += tie == null ? 0 : tie.weight;
      }
    }
    return sum;
  }

  /** A valid service name from a table name: its plural stem, lower case, {@code [a-z][a-z0-9_-]*}. */
  static String serviceName(String table) {
    String stem = stem(table).replaceAll("[^a-z0-9_-]", "");
    if (stem.isEmpty() || !Character.isLetter(stem.charAt(0))) {
      stem = "s" + stem;
    }
    String plural = stem.endsWith("y") && stem.length() > 2 ? stem.substring(0, stem.length() - 1) + "ies"
        : stem.endsWith("s") ? stem : stem + "s";
    return plural.length() > 60 ? plural.substring(0, 60) : plural;
  }

  /** Union-find over table names. */
  private static final class UnionFind {
    private final Map<String, String> parent = new HashMap<>();

    UnionFind(Set<String> names) {
      names.forEach(n -> parent.put(n, n));
    }

    String find(String x) {
      String p = parent.get(x);
      if (p.equals(x)) {
        return x;
      }
      String root = find(p);
      parent.put(x, root);
      return root;
    }

    void union(String a, String b) {
      String ra = find(a);
      String rb = find(b);
      if (!ra.equals(rb)) {
        // the alphabetically first name is the root, so results do not depend on hint order
        if (ra.compareTo(rb) < 0) {
          parent.put(rb, ra);
        } else {
          parent.put(ra, rb);
        }
      }
    }
  }
}
