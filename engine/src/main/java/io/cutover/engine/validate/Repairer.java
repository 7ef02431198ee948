package io.cutover.engine.validate;

import io.cutover.engine.apply.TableMapping;
import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.Operation;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import io.cutover.engine.event.Value;
import io.cutover.engine.pipeline.Pipeline;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Reconciliation: turns discrepancies into repairs under a chosen {@link Authority} ({@link #plan}, the dry run),
 * and sends them through the journaled pipeline as change events ({@link #repair}), so they are durable,
 * replayable and applied by the same sync or applier as any other change. A repair is a change from the winning
 * side carrying that side's whole row (or its delete) and the origin {@link #ORIGIN}; the sync writes it to the
 * other side unconditionally. Each repair is recorded in the audit log with its journal index. Thread-safe.
 */
public final class Repairer {
  /** The origin tag of repair changes. */
  public static final String ORIGIN = ChangeEvent.ORIGIN_REPAIR;
  private final Pipeline pipeline;
  private final Side service;
  private final Map<String, TableMapping> mappings = new HashMap<>();
  private final Map<String, Boolean> bothWays = new HashMap<>();
  private final ChangeClock clock;
  private final AuditLog audit;

  /**
   * A repairer.
   *
   * @param pipeline the pipeline repairs are published to; null for a repairer that only plans.
   * @param service the service side.
   * @param clock the checksum stage's clock, for {@link Authority#NEWEST}; may be null (the monolith then wins).
   * @param audit where repairs are recorded; may be null.
   */
  public Repairer(Pipeline pipeline, Side service, ChangeClock clock, AuditLog audit) {
    this.pipeline = pipeline;
    this.service = Objects.requireNonNull(service, "service");
    this.clock = clock;
    this.audit = audit;
  }

  /**
   * Declares a table pair.
   *
   * @param mapping how the monolith's table lands in the service.
   * @param syncedBothWays whether changes from the service flow back (only then can the service win).
   * @return this repairer.
   */
  public Repairer table(TableMapping mapping, boolean syncedBothWays) {
    mappings.put(mapping.sourceTable(), mapping);
    bothWays.put(mapping.sourceTable(), syncedBothWays);
    return this;
  }

  /**
   * The repairs an authority would make, without making them (the dry run).
   *
   * @param discrepancies from a validation.
   * @param authority who wins.
   * @return one repair per discrepancy.
   * @throws IllegalArgumentException naming the table when it is not declared, or when the service would win on a
   *     table synced one way.
   */
  public List<Repair> plan(List<Discrepancy> discrepancies, Authority authority) {
    List<Repair> out = new ArrayList<>(discrepancies.size());
    for (Discrepancy d : discrepancies) {
      TableMapping mapping = mapping(d.table());
      Authority winner = winner(d, mapping, authority);
      if (winner == Authority.SERVICE && !bothWays.get(d.table())) {
        throw new IllegalArgumentException("table " + d.table() + " syncs one way (to the service): only the "
            + "monolith can be the repair authority");
      }
      Row row = winner == Authority.MONOLITH ? d.monolith() : d.service();
      out.add(new Repair(d, winner, row == null ? Repair.Action.DELETE : Repair.Action.COPY, row));
    }
    return out;
  }

  private Authority winner(Discrepancy d, TableMapping mapping, Authority authority) {
    if (authority != Authority.NEWEST) {
      return authority;
    }
    if (clock == null) {
      return Authority.MONOLITH;
    }
    long monolithStamp = clock.lastStamp(false, mapping.sourceTable(), toMonolith(mapping, d.key()));
    long serviceStamp = clock.lastStamp(true, mapping.targetTable(), d.key());
    return serviceStamp > monolithStamp && bothWays.get(d.table()) ? Authority.SERVICE : Authority.MONOLITH;
  }

  /**
   * Plans and sends repairs through the pipeline, each durable in the journal before this returns.
   *
   * @param discrepancies from a validation.
   * @param authority who wins.
   * @param cause why (for the audit log): {@code automatic}, {@code operator}, ...
   * @return the repairs made.
   * @throws IllegalArgumentException as {@link #plan}; nothing is sent then.
   * @throws IllegalStateException if this repairer only plans (it has no pipeline).
   */
  public List<Repair> repair(List<Discrepancy> discrepancies, Authority authority, String cause) {
    if (pipeline == null) {
      throw new IllegalStateException("this repairer only plans: it has no pipeline to send repairs through");
    }
    List<Repair> repairs = plan(discrepancies, authority);
    for (Repair repair : repairs) {
      long index = pipeline.publish(event(repair)).join();
      if (audit != null) {
        audit.append(new AuditEntry(System.currentTimeMillis() * 1_000L, AuditEntry.Kind.REPAIR, service.service(),
            repair.discrepancy().table(), cause, repair.describe() + " as journal change " + index));
      }
    }
    return repairs;
  }

  /** The change that carries a repair: from the winning side, in that side's names. */
  ChangeEvent event(Repair repair) {
    TableMapping mapping = mapping(repair.discrepancy().table());
    boolean monolithWins = repair.winner() == Authority.MONOLITH;
    Side side = monolithWins ? Side.MONOLITH : service;
    String table = monolithWins ? mapping.sourceTable() : mapping.targetTable();
    Row key = monolithWins ? toMonolith(mapping, repair.discrepancy().key()) : repair.discrepancy().key();
    ChangeEvent.Builder event = ChangeEvent.builder(side, table, repair.action() == Repair.Action.COPY
        ? Operation.SNAPSHOT_READ : Operation.DELETE).key(key).origin(ORIGIN)
        .commitTimeMicros(System.currentTimeMillis() * 1_000L);
    if (repair.action() == Repair.Action.COPY) {
      event.after(monolithWins ? toMonolith(mapping, repair.row()) : repair.row());
    }
    return event.build();
  }

  private TableMapping mapping(String table) {
    TableMapping mapping = mappings.get(table);
    if (mapping == null) {
      throw new IllegalArgumentException("table " + table + " is not one of the tables this repairer knows: "
          + mappings.keySet());
    }
    return mapping;
  }

  /** A row in service names, renamed to the monolith's names. */
  static Row toMonolith(TableMapping mapping, Row serviceRow) {
    if (mapping.columns().isEmpty()) {
      return serviceRow;
    }
    Map<String, String> back = new HashMap<>();
    mapping.columns().forEach((source, target) -> back.put(target.toLowerCase(Locale.ROOT), source));
    Row.Builder out = Row.builder();
    for (Map.Entry<String, Value> column : serviceRow.columns().entrySet()) {
      String source = back.getOrDefault(column.getKey(), column.getKey());
      out.put(source.toLowerCase(Locale.ROOT), column.getValue());
    }
    return out.build();
  }
}
