package io.cutover.engine.analysis;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Synthetic monoliths whose right answer is known, for measuring the analyzer: groups of tables tied by foreign
 * keys inside (a spanning tree plus extra keys) and used together by their own transactions, a few foreign keys
 * and rare transactions across groups, and shared lookup tables pointed at from several groups. Table names
 * carry no hint of their group. Deterministic for a seed.
 *
 * @param schema the schema.
 * @param transactions the access log.
 * @param truth each non-reference table's planted group.
 * @param reference the planted reference tables.
 */
public record PlantedSchema(Schema schema, List<Transaction> transactions, Map<String, Integer> truth,
    Set<String> reference) {

  /**
   * Generates a monolith.
   *
   * @param groups how many groups.
   * @param minSize the fewest tables in a group (at least 2).
   * @param maxSize the most.
   * @param references how many shared reference tables.
   * @param crossKeys foreign keys across groups, per group.
   * @param seed the seed.
   * @return the monolith and its truth.
   */
  public static PlantedSchema generate(int groups, int minSize, int maxSize, int references, int crossKeys,
      long seed) {
    return generate(groups, minSize, maxSize, references, crossKeys, false, seed);
  }

  /**
   * Generates a monolith, optionally with one transaction per group that writes every table of the group (an
   * aggregate saved whole), which makes each group unambiguous.
   *
   * @param groups how many groups.
   * @param minSize the fewest tables in a group (at least 2).
   * @param maxSize the most.
   * @param references how many shared reference tables.
   * @param crossKeys foreign keys across groups, per group.
   * @param aggregates whether each group has a transaction writing all its tables.
   * @param seed the seed.
   * @return the monolith and its truth.
   */
  public static PlantedSchema generate(int groups, int minSize, int maxSize, int references, int crossKeys,
      boolean aggregates, long seed) {
    Random random = new Random(seed);
    List<List<String>> members = new ArrayList<>();
    Map<String, Integer> truth = new TreeMap<>();
    int next = 0;
    List<String> order = new ArrayList<>();
    for (int g = 0; g < groups; g++) {
      int size = minSize + random.nextInt(maxSize - minSize + 1);
      List<String> group = new ArrayList<>();
      for (int i = 0; i < size; i++) {
        group.add(null);
      }
      members.add(group);
      for (int i = 0; i < size; i++) {
        order.add(g + ":" + i);
      }
    }
    java.util.Collections.shuffle(order, random);
    for (String slot : order) { // names in random order, so numbers say nothing of groups
      String[] gi = slot.split(":");
      String name = "t" + (next++);
      members.get(Integer.parseInt(gi[0])).set(Integer.parseInt(gi[1]), name);
      truth.put(name, Integer.parseInt(gi[0]));
    }
    Map<String, List<Schema.ForeignKey>> keys = new HashMap<>();
    truth.keySet().forEach(t -> keys.put(t, new ArrayList<>()));
    for (List<String> group : members) {
      for (int i = 1; i < group.size(); i++) {
        fk(keys, group.get(i), group.get(random.nextInt(i)), "p" + i);
        if (random.nextBoolean() && i > 1) {
          fk(keys, group.get(i), group.get(random.nextInt(i)), "q" + i);
        }
      }
    }
    for (int g = 0; g < groups && groups > 1; g++) {
      for (int c = 0; c < crossKeys; c++) {
        int other = (g + 1 + random.nextInt(groups - 1)) % groups;
        List<String> from = members.get(g);
        List<String> to = members.get(other);
        fk(keys, from.get(random.nextInt(from.size())), to.get(random.nextInt(to.size())), "x" + c);
      }
    }
    String[] lookups = {"currencies", "countries", "units", "languages", "order_statuses", "payment_types",
        "regions", "time_zones"};
    Set<String> reference = new TreeSet<>();
    List<Schema.Table> tables = new ArrayList<>();
    for (int r = 0; r < references; r++) {
      String name = r < lookups.length ? lookups[r] : "lookup_" + r;
      reference.add(name);
      tables.add(new Schema.Table(name, List.of(new Schema.Column("code", "varchar"), new Schema.Column("label",
          "varchar")), List.of("code"), List.of(), List.of()));
      Set<Integer> users = new TreeSet<>();
      while (users.size() < Math.min(groups, 3)) {
        users.add(random.nextInt(groups));
      }
      for (int g : users) {
        List<String> group = members.get(g);
        fk(keys, group.get(random.nextInt(group.size())), name, "ref" + r);
      }
    }
    for (String table : truth.keySet()) {
      List<Schema.Column> columns = new ArrayList<>(List.of(new Schema.Column("id", "bigint"),
          new Schema.Column("payload", "text"), new Schema.Column("updated_at", "timestamp")));
      keys.get(table).forEach(fk -> columns.add(new Schema.Column(fk.columns().get(0), "bigint")));
      tables.add(new Schema.Table(table, columns, List.of("id"), keys.get(table), List.of()));
    }
    tables.sort((a, b) -> a.name().compareTo(b.name()));
    List<Transaction> transactions = new ArrayList<>();
    int tx = 0;
    for (List<String> group : members) {
      // transactions walk the group's keys: an entity with its parents and children, as applications do
      Map<String, List<String>> near = new HashMap<>();
      for (String table : group) {
        for (Schema.ForeignKey fk : keys.get(table)) {
          if (group.contains(fk.referencedTable())) {
            near.computeIfAbsent(table, k -> new ArrayList<>()).add(fk.referencedTable());
            near.computeIfAbsent(fk.referencedTable(), k -> new ArrayList<>()).add(table);
          }
        }
      }
      for (int k = 0; k < group.size() + 2; k++) {
        Set<String> walk = new TreeSet<>();
        String at = group.get(random.nextInt(group.size()));
        walk.add(at);
        int length = Math.min(group.size(), 3 + random.nextInt(3));
        for (int step = 0; step < 4 * length && walk.size() < length; step++) {
          List<String> options = near.getOrDefault(at, List.of());
          if (options.isEmpty()) {
            break;
          }
          at = options.get(random.nextInt(options.size()));
          walk.add(at);
        }
        Set<String> writes = new TreeSet<>();
        Set<String> reads = new TreeSet<>();
        for (String table : walk) {
          (writes.isEmpty() || random.nextBoolean() ? writes : reads).add(table);
        }
        if (references > 0 && random.nextBoolean()) {
          reads.add(new ArrayList<>(reference).get(random.nextInt(reference.size())));
        }
        transactions.add(new Transaction("tx" + (tx++), reads, writes, 50 + random.nextInt(500)));
      }
      if (aggregates) {
        transactions.add(new Transaction("tx" + (tx++), Set.of(), new TreeSet<>(group), 500 + random.nextInt(500)));
      }
      for (String table : group) { // every table is used: one that no walk reached is written with a neighbour
        boolean used = transactions.stream().anyMatch(t -> t.tables().contains(table));
        if (!used && near.containsKey(table)) {
          transactions.add(new Transaction("tx" + (tx++), Set.of(near.get(table).get(0)), Set.of(table),
              50 + random.nextInt(500)));
        }
      }
    }
    for (int c = 0; c < groups && groups > 1; c++) { // rare transactions across two groups
      List<String> a = members.get(random.nextInt(groups));
      List<String> b = members.get(random.nextInt(groups));
      transactions.add(new Transaction("tx" + (tx++), Set.of(b.get(random.nextInt(b.size()))),
          Set.of(a.get(random.nextInt(a.size()))), 1 + random.nextInt(5)));
    }
    return new PlantedSchema(new Schema(tables), transactions, truth, reference);
  }

  private static void fk(Map<String, List<Schema.ForeignKey>> keys, String from, String to, String column) {
    if (!from.equals(to)) {
      keys.get(from).add(new Schema.ForeignKey(from, List.of(column + "_" + to), to, List.of(to.matches("t\\d+")
          ? "id" : "code")));
    }
  }

  /**
   * The adjusted Rand index of a proposal against the planted groups (1: identical, about 0: chance).
   *
   * @param analysis the proposal.
   * @return the index over the non-reference tables.
   */
  public double adjustedRandIndex(Analysis analysis) {
    Map<String, String> proposed = new HashMap<>();
    for (Analysis.ProposedService s : analysis.services()) {
      s.tables().forEach(t -> proposed.put(t, s.name()));
    }
    Map<String, String> planted = new HashMap<>();
    truth.forEach((t, g) -> planted.put(t, "g" + g));
    return adjustedRandIndex(planted, proposed);
  }

  /**
   * The adjusted Rand index of two labelings of the same items (items missing from {@code b} count as one
   * label of their own each).
   *
   * @param a the reference labels.
   * @param b the labels to score.
   * @return the index.
   */
  public static double adjustedRandIndex(Map<String, String> a, Map<String, String> b) {
    Map<String, Map<String, Integer>> table = new HashMap<>();
    Map<String, Integer> rows = new HashMap<>();
    Map<String, Integer> columns = new HashMap<>();
    for (Map.Entry<String, String> e : a.entrySet()) {
      String other = b.getOrDefault(e.getKey(), "(none) " + e.getKey());
      table.computeIfAbsent(e.getValue(), k -> new HashMap<>()).merge(other, 1, Integer::sum);
      rows.merge(e.getValue(), 1, Integer::sum);
      columns.merge(other, 1, Integer::sum);
    }
    double index = 0;
    for (Map<String, Integer> row : table.values()) {
      for (int n : row.values()) {
        index += pairs(n);
      }
    }
    double rowPairs = rows.values().stream().mapToDouble(PlantedSchema::pairs).sum();
    double columnPairs = columns.values().stream().mapToDouble(PlantedSchema::pairs).sum();
    double expected = rowPairs * columnPairs / pairs(a.size());
    double max = (rowPairs + columnPairs) / 2;
    return max == expected ? 1.0 : (index - expected) / (max - expected);
  }

  private static double pairs(int n) {
    return n * (n - 1) / 2.0;
  }
}
