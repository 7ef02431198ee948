package io.cutover.engine.analysis;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * What the boundary analyzer proposes, with its evidence.
 *
 * @param services the proposed services.
 * @param referenceTables shared reference data: small lookup tables many others point at, kept out of the
 *     clustering and replicated one way to the services that use them.
 * @param crossingForeignKeys foreign keys between tables of different services (to become API calls or events).
 * @param distributedShare the share of observed transactions (count-weighted) that write and would touch more
 *     than one service (a read-only transaction across services is a composed query, not a distributed
 *     transaction); 0 without an access log.
 * @param distributedByPair the share per pair of services ({@code a+b}, names sorted).
 * @param cycles circular dependencies between services through foreign keys, each with a way to break it.
 * @param modularity the partition's modularity over the table graph (-0.5 to 1; higher is more modular).
 * @param transactions transactions observed (count-weighted).
 * @param elapsed how long the analysis took.
 */
public record Analysis(List<ProposedService> services, List<ReferenceTable> referenceTables,
    List<Schema.ForeignKey> crossingForeignKeys, double distributedShare, Map<String, Double> distributedByPair,
    List<Cycle> cycles, double modularity, long transactions, Duration elapsed) {

  /** Copies the collections. */
  public Analysis {
    services = List.copyOf(services);
    referenceTables = List.copyOf(referenceTables);
    crossingForeignKeys = List.copyOf(crossingForeignKeys);
    distributedByPair = Map.copyOf(distributedByPair);
    cycles = List.copyOf(cycles);
  }

  /**
   * One proposed service.
   *
   * @param name its name (a valid service name for the plan).
   * @param tables its tables, sorted.
   * @param reasons why these tables belong together: the strongest ties inside.
   * @param cohesion the share of its tables' tie weight that stays inside (1: self-contained).
   * @param coupling the share that crosses to other services (1 - cohesion).
   * @param interfaces how many of its tables other services' tables tie to (what it must expose).
   * @param usesReference the reference tables it uses.
   */
  public record ProposedService(String name, List<String> tables, List<String> reasons, double cohesion,
      double coupling, int interfaces, List<String> usesReference) {
    /** Copies the lists. */
    public ProposedService {
      tables = List.copyOf(tables);
      reasons = List.copyOf(reasons);
      usesReference = List.copyOf(usesReference);
    }
  }

  /**
   * A shared reference table.
   *
   * @param table the table.
   * @param reason why it is treated as reference data.
   * @param usedBy the services using it.
   */
  public record ReferenceTable(String table, String reason, List<String> usedBy) {
    /** Copies the list. */
    public ReferenceTable {
      usedBy = List.copyOf(usedBy);
    }
  }

  /**
   * A circular dependency between services: each depends on the next through foreign keys, the last on the first.
   *
   * @param services the services around the cycle.
   * @param foreignKeys the foreign keys along it.
   * @param suggestion how to break it.
   */
  public record Cycle(List<String> services, List<Schema.ForeignKey> foreignKeys, String suggestion) {
    /** Copies the lists. */
    public Cycle {
      services = List.copyOf(services);
      foreignKeys = List.copyOf(foreignKeys);
    }
  }

  /**
   * The service a table is proposed for.
   *
   * @param table a table.
   * @return the service's name, or null for reference data and unknown tables.
   */
  public String serviceOf(String table) {
    for (ProposedService service : services) {
      if (service.tables().contains(table)) {
        return service.name();
      }
    }
    return null;
  }
}
