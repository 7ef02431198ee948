package io.cutover.engine.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BoundaryAnalyzerTest {

  /**
   * Exact recovery on a fixed sample of planted schemas (the same 40 every run), reference data set apart.
   * Not every planted schema is recovered exactly: about 1 in 14,000 (seed -362246411705174605 with 8 groups, seed
   * 12781274 with 8) has two groups of 4 tables merged into one service, ARI 0.95 (Louvain's resolution limit on
   * small groups; issue 25); the next property holds every schema to that bound.
   */
  @Test
  void recoversPlantedGroupsExactlyAndSetsReferenceDataApart() {
    qt().withFixedSeed(20261207L).withExamples(40).withShrinkCycles(0).forAll(longs().all(), integers().between(2, 8))
        .checkAssert((seed, groups) -> assertRecovered(seed, groups, 1.0 - 1e-9));
  }

  @Test
  void anyPlantedSchemaIsRecoveredAtLeastNearlyAndItsReferenceDataSetApart() {
    qt().withExamples(40).withShrinkCycles(0).forAll(longs().all(), integers().between(2, 8))
        .checkAssert((seed, groups) -> assertRecovered(seed, groups, 0.9));
  }

  private static void assertRecovered(long seed, int groups, double minimumAri) {
    PlantedSchema planted = PlantedSchema.generate(groups, 4, 9, 2, 1, true, seed);
    Analysis analysis = BoundaryAnalyzer.analyze(planted.schema(), planted.transactions(), Hints.NONE, 7);
    double ari = planted.adjustedRandIndex(analysis);
    assertTrue(ari >= minimumAri, () -> "seed " + seed + ", " + groups + " groups: ARI " + ari + ", "
        + analysis.services().stream().map(s -> s.tables().toString()).toList() + " vs " + planted.truth());
    assertEquals(planted.reference(), new HashSet<>(analysis.referenceTables().stream()
        .map(Analysis.ReferenceTable::table).toList()), "seed " + seed);
  }

  @Test
  void aKnownInexactSchemaStaysWithinTheBound() {
    PlantedSchema planted = PlantedSchema.generate(8, 4, 9, 2, 1, true, -362246411705174605L);
    double ari = planted.adjustedRandIndex(BoundaryAnalyzer.analyze(planted.schema(), planted.transactions(),
        Hints.NONE, 7));
    assertTrue(ari >= 0.9, "ARI " + ari);
  }

  @Test
  void structureAloneRecoversMostOfIt() {
    double sum = 0;
    for (long seed = 1; seed <= 20; seed++) {
      PlantedSchema planted = PlantedSchema.generate(5, 4, 8, 2, 1, seed);
      sum += planted.adjustedRandIndex(BoundaryAnalyzer.analyze(planted.schema(), List.of(), Hints.NONE, 7));
    }
    assertTrue(sum / 20 > 0.5, "mean ARI from foreign keys alone: " + sum / 20);
  }

  /** A schema from lines "table: referenced, referenced" (every table gets an id and one column per key). */
  static Schema schema(String... lines) {
    List<Schema.Table> tables = new ArrayList<>();
    for (String line : lines) {
      String[] parts = line.split(":", 2);
      String name = parts[0].strip();
      List<Schema.ForeignKey> keys = new ArrayList<>();
      List<Schema.Column> columns = new ArrayList<>(List.of(new Schema.Column("id", "bigint")));
      if (parts.length > 1 && !parts[1].isBlank()) {
        for (String target : parts[1].split(",")) {
          String t = target.strip();
          keys.add(new Schema.ForeignKey(name, List.of(t + "_id"), t, List.of("id")));
          columns.add(new Schema.Column(t + "_id", "bigint"));
        }
      }
      tables.add(new Schema.Table(name, columns, List.of("id"), keys, List.of()));
    }
    return new Schema(tables);
  }

  private static Transaction tx(String id, long count, String... written) {
    return new Transaction(id, Set.of(), Set.of(written), count);
  }

  @Test
  void detectsACycleBetweenServicesAndSuggestsItsWeakestLink() {
    Schema s = schema(
        "orders: shipments", "order_items: orders", "order_notes: orders",
        "invoices: orders", "invoice_lines: invoices", "payments: invoices",
        "shipments: invoices", "parcels: shipments", "shipment_events: shipments");
    List<Transaction> log = List.of(
        tx("order", 100, "orders", "order_items", "order_notes"),
        tx("bill", 100, "invoices", "invoice_lines", "payments"),
        tx("ship", 100, "shipments", "parcels", "shipment_events"));
    Analysis a = BoundaryAnalyzer.analyze(s, log, Hints.NONE, 1);
    assertEquals(3, a.services().size(), a.services().toString());
    assertEquals(1, a.cycles().size(), a.cycles().toString());
    Analysis.Cycle cycle = a.cycles().get(0);
    assertEquals(Set.of(a.serviceOf("orders"), a.serviceOf("invoices"), a.serviceOf("shipments")),
        new HashSet<>(cycle.services()));
    assertEquals(3, cycle.foreignKeys().size());
    assertTrue(cycle.suggestion().contains("break the cycle at its weakest link"), cycle.suggestion());
    assertEquals(3, a.crossingForeignKeys().size());
    assertEquals(0.0, a.distributedShare());

    Analysis noCycle = BoundaryAnalyzer.analyze(schema("orders:", "order_items: orders", "invoices: orders",
        "invoice_lines: invoices"), List.of(tx("o", 10, "orders", "order_items"), tx("i", 10, "invoices",
        "invoice_lines")), Hints.NONE, 1);
    assertEquals(List.of(), noCycle.cycles());
  }

  @Test
  void honoursTogetherApartServicesAndSizeHints() {
    PlantedSchema p = PlantedSchema.generate(4, 4, 6, 0, 1, true, 42);
    List<String> group0 = p.truth().entrySet().stream().filter(e -> e.getValue() == 0).map(Map.Entry::getKey)
        .sorted().toList();
    List<String> group1 = p.truth().entrySet().stream().filter(e -> e.getValue() == 1).map(Map.Entry::getKey)
        .sorted().toList();
    Analysis free = BoundaryAnalyzer.analyze(p.schema(), p.transactions(), Hints.NONE, 3);
    assertEquals(4, free.services().size());

    Analysis together = BoundaryAnalyzer.analyze(p.schema(), p.transactions(),
        new Hints(List.of(Set.of(group0.get(0), group1.get(0))), List.of(), 0, 0), 3);
    assertEquals(together.serviceOf(group0.get(0)), together.serviceOf(group1.get(0)));

    Analysis apart = BoundaryAnalyzer.analyze(p.schema(), p.transactions(),
        new Hints(List.of(), List.of(Set.of(group0.get(0), group0.get(1))), 0, 0), 3);
    assertNotEquals(apart.serviceOf(group0.get(0)), apart.serviceOf(group0.get(1)));

    for (int k : new int[] {2, 3, 6}) {
      Analysis exact = BoundaryAnalyzer.analyze(p.schema(), p.transactions(), new Hints(List.of(), List.of(), k, 0), 3);
      assertEquals(k, exact.services().size(), "services hint " + k);
    }
    Analysis small = BoundaryAnalyzer.analyze(p.schema(), p.transactions(), new Hints(List.of(), List.of(), 0, 3), 3);
    assertTrue(small.services().stream().allMatch(s -> s.tables().size() <= 3), small.services().toString());
    assertEquals(p.truth().size(), small.services().stream().mapToInt(s -> s.tables().size()).sum());

    Analysis merged = BoundaryAnalyzer.analyze(p.schema(), p.transactions(),
        new Hints(List.of(), List.of(Set.of(group0.get(0), group1.get(0))), 1, 0), 3);
    assertEquals(2, merged.services().size(), "one service cannot hold two tables that must be apart");
  }

  @Test
  void namesWhatIsWrongWithHints() {
    Schema s = schema("a:", "b: a", "c: b");
    IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> BoundaryAnalyzer.analyze(s,
        List.of(), new Hints(List.of(Set.of("a", "zz")), List.of(), 0, 0), 1));
    assertTrue(unknown.getMessage().contains("hint names table zz"), unknown.getMessage());
    IllegalArgumentException contradiction = assertThrows(IllegalArgumentException.class,
        () -> BoundaryAnalyzer.analyze(s, List.of(), new Hints(List.of(Set.of("a", "b")), List.of(Set.of("a", "b")),
            0, 0), 1));
    assertTrue(contradiction.getMessage().contains("must be apart but are in one together group"));
    IllegalArgumentException size = assertThrows(IllegalArgumentException.class,
        () -> BoundaryAnalyzer.analyze(s, List.of(), new Hints(List.of(Set.of("a", "b", "c")), List.of(), 0, 2), 1));
    assertTrue(size.getMessage().contains("more than the maximum of 2"), size.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new Hints(List.of(), List.of(Set.of("a")), 0, 0));
    assertThrows(IllegalArgumentException.class, () -> new Hints(List.of(), List.of(), -1, 0));
    assertThrows(IllegalArgumentException.class, () -> schema("a: nowhere"));
  }

  @Test
  void reportsDistributedTransactionsPerPairOfServicesAndWhyTablesBelongTogether() {
    Schema s = schema("orders:", "order_items: orders", "customers:", "customer_addresses: customers",
        "currencies:", "prices: currencies", "refunds: currencies, orders", "loyalty: currencies, customers");
    List<Transaction> log = List.of(
        tx("order", 90, "orders", "order_items"),
        tx("signup", 90, "customers", "customer_addresses"),
        new Transaction("checkout", Set.of("customers", "currencies"), Set.of("orders"), 10));
    Analysis a = BoundaryAnalyzer.analyze(s, log, Hints.NONE, 1);
    assertEquals(List.of("currencies"), a.referenceTables().stream().map(Analysis.ReferenceTable::table).toList());
    assertTrue(a.referenceTables().get(0).reason().contains("referenced by 3 tables"), a.referenceTables().toString());
    assertNotEquals(a.serviceOf("orders"), a.serviceOf("customers"));
    assertEquals(10 / 190.0, a.distributedShare(), 1e-9);
    String pair = new java.util.TreeSet<>(List.of(a.serviceOf("orders"), a.serviceOf("customers"))).stream()
        .reduce((x, y) -> x + "+" + y).orElseThrow();
    assertEquals(Map.of(pair, 10 / 190.0), a.distributedByPair());
    Analysis.ProposedService orders = a.services().stream().filter(x -> x.tables().contains("orders")).findFirst()
        .orElseThrow();
    assertTrue(orders.reasons().get(0).contains("foreign key order_items(orders_id) -> orders(id)"),
        orders.reasons().toString());
    assertTrue(orders.reasons().get(0).contains("used together in"), orders.reasons().toString());
    assertTrue(orders.cohesion() > 0 && orders.cohesion() <= 1);
    assertEquals(190, a.transactions());
    assertTrue(a.modularity() > 0.2, "modularity " + a.modularity());
  }

  @Test
  void stemsAndServiceNames() {
    assertEquals("order", BoundaryAnalyzer.stem("order_items"));
    assertEquals("address", BoundaryAnalyzer.stem("addresses"));
    assertEquals("category", BoundaryAnalyzer.stem("categories"));
    assertEquals("box", BoundaryAnalyzer.stem("boxes"));
    assertEquals("orders", BoundaryAnalyzer.serviceName("order_items"));
    assertEquals("categories", BoundaryAnalyzer.serviceName("categories"));
    assertEquals("s1xs", BoundaryAnalyzer.serviceName("1x"));
    assertEquals(1.0, PlantedSchema.adjustedRandIndex(Map.of("a", "x", "b", "x", "c", "y"),
        Map.of("a", "p", "b", "p", "c", "q")), 1e-9);
    assertTrue(PlantedSchema.adjustedRandIndex(Map.of("a", "x", "b", "x", "c", "y", "d", "y"),
        Map.of("a", "p", "b", "q", "c", "p", "d", "q")) < 0);
  }
}
