package io.cutover.admin;

import io.cutover.admin.v1.AuditEntryInfo;
import io.cutover.admin.v1.DiscrepancyInfo;
import io.cutover.admin.v1.ReadAuditRequest;
import io.cutover.admin.v1.ReadAuditResponse;
import io.cutover.admin.v1.RepairRequest;
import io.cutover.admin.v1.RepairResponse;
import io.cutover.admin.v1.ValidateRequest;
import io.cutover.admin.v1.ValidateResponse;
import io.cutover.admin.v1.ValidationStatus;
import io.cutover.admin.v1.WatchDiscrepanciesRequest;
import io.cutover.engine.apply.TableMapping;
import io.cutover.engine.validate.AuditEntry;
import io.cutover.engine.validate.AuditLog;
import io.cutover.engine.validate.Authority;
import io.cutover.engine.validate.ContinuousValidator;
import io.cutover.engine.validate.Discrepancy;
import io.cutover.engine.validate.Repair;
import io.cutover.engine.validate.Repairer;
import io.cutover.engine.validate.ValidationListener;
import io.cutover.engine.validate.ValidationReport;
import io.cutover.engine.validate.ValidationStats;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The admin API's validation methods: validate on demand, repair, watch alerts, read the audit log, status.
 * Thread-safe.
 */
final class ValidationMethods {
  private static final int MAX_LIMIT = 10_000;
  private final Map<String, ContinuousValidator> validations;
  private final Map<String, Repairer> repairers;
  private final AuditLog audit;

  /**
   * The methods over a migration's validation.
   *
   * @param validations each service's validation.
   * @param repairers each service's repairer.
   * @param audit the audit log, or null.
   */
  ValidationMethods(Map<String, ContinuousValidator> validations, Map<String, Repairer> repairers, AuditLog audit) {
    this.validations = new TreeMap<>(validations);
    this.repairers = Map.copyOf(repairers);
    this.audit = audit;
  }

  private static StatusRuntimeException invalid(String message) {
    return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
  }

  /** The services validated, checked against a request's service (empty: all). */
  private Map<String, ContinuousValidator> services(String service) {
    if (validations.isEmpty()) {
      throw Status.FAILED_PRECONDITION.withDescription("this engine runs no validation").asRuntimeException();
    }
    if (service.isEmpty()) {
      return validations;
    }
    ContinuousValidator one = validations.get(service);
    if (one == null) {
      throw invalid("service: '" + service + "' is not one of " + validations.keySet());
    }
    return Map.of(service, one);
  }

  private static List<TableMapping> tables(ContinuousValidator validation, String table) {
    if (table.isEmpty()) {
      return validation.tables();
    }
    return validation.tables().stream().filter(t -> t.sourceTable().equalsIgnoreCase(table)).toList();
  }

  void validate(ValidateRequest request, StreamObserver<ValidateResponse> response) {
    try {
      if (request.getLimit() > MAX_LIMIT) {
        throw invalid("limit: at most " + MAX_LIMIT + ", got " + request.getLimit());
      }
      int limit = request.getLimit() == 0 ? 100 : request.getLimit();
      ValidateResponse.Builder out = ValidateResponse.newBuilder().setConsistent(true);
      for (Map.Entry<String, ContinuousValidator> service : services(request.getService()).entrySet()) {
        for (ValidationReport report : run(service.getValue(), request.getTable(), "admin Validate")) {
          out.addReports(Reports.tableReport(service.getKey(), report, limit))
              .setConsistent(out.getConsistent() && report.consistent());
        }
      }
      response.onNext(out.build());
      response.onCompleted();
    } catch (StatusRuntimeException e) {
      response.onError(e);
    }
  }

  /** Validates a service's tables now; every run is audited. */
  private List<ValidationReport> run(ContinuousValidator validation, String table, String cause) {
    List<TableMapping> tables = tables(validation, table);
    if (tables.isEmpty()) {
      throw invalid("table: '" + table + "' is not one of " + new TreeSet<>(validation.tables().stream()
          .map(TableMapping::sourceTable).toList()));
    }
    List<ValidationReport> reports = new ArrayList<>();
    for (TableMapping mapping : tables) {
      ValidationReport report;
      try {
        report = validation.validator().validate(mapping);
      } catch (Exception e) {
        throw Status.UNAVAILABLE.withDescription("validation of " + mapping.sourceTable() + " failed: "
            + e.getMessage()).asRuntimeException();
      }
      if (audit != null) {
        audit.append(new AuditEntry(report.startedMicros(), AuditEntry.Kind.VALIDATION, validation.validator()
            .service(), mapping.sourceTable(), cause, report.summary()));
      }
      reports.add(report);
    }
    return reports;
  }

  void repair(RepairRequest request, StreamObserver<RepairResponse> response) {
    try {
      if (request.getService().isEmpty()) {
        throw invalid("service: required, one of " + validations.keySet());
      }
      ContinuousValidator validation = services(request.getService()).get(request.getService());
      Authority authority;
      try {
        authority = Authority.parse(request.getAuthority());
      } catch (IllegalArgumentException e) {
        throw invalid("authority: " + e.getMessage());
      }
      List<Discrepancy> found = new ArrayList<>();
      for (ValidationReport report : run(validation, request.getTable(), "admin Repair")) {
        found.addAll(report.discrepancies());
      }
      Repairer repairer = repairers.get(request.getService());
      List<Repair> repairs;
      try {
        repairs = request.getDryRun() ? repairer.plan(found, authority)
            : repairer.repair(found, authority, "admin Repair");
      } catch (IllegalArgumentException e) {
        throw Status.FAILED_PRECONDITION.withDescription(e.getMessage()).asRuntimeException();
      }
      RepairResponse.Builder out = RepairResponse.newBuilder().setDryRun(request.getDryRun());
      repairs.forEach(r -> out.addRepairs(r.describe()));
      response.onNext(out.build());
      response.onCompleted();
    } catch (StatusRuntimeException e) {
      response.onError(e);
    } catch (java.util.concurrent.CompletionException e) {
      response.onError(Status.UNAVAILABLE.withDescription("could not journal a repair: " + e.getMessage())
          .asRuntimeException());
    }
  }

  void watch(WatchDiscrepanciesRequest request, StreamObserver<DiscrepancyInfo> response) {
    Map<String, ContinuousValidator> watched;
    try {
      watched = services(request.getService());
    } catch (StatusRuntimeException e) {
      response.onError(e);
      return;
    }
    ServerCallStreamObserver<DiscrepancyInfo> stream = (ServerCallStreamObserver<DiscrepancyInfo>) response;
    List<Runnable> unsubscribe = new ArrayList<>();
    for (Map.Entry<String, ContinuousValidator> service : watched.entrySet()) {
      ValidationListener listener = d -> {
        synchronized (stream) {
          if (!stream.isCancelled()) {
            stream.onNext(info(service.getKey(), d));
          }
        }
      };
      service.getValue().addListener(listener);
      unsubscribe.add(() -> service.getValue().removeListener(listener));
    }
    stream.setOnCancelHandler(() -> unsubscribe.forEach(Runnable::run));
  }

  void readAudit(ReadAuditRequest request, StreamObserver<ReadAuditResponse> response) {
    if (audit == null) {
      response.onError(Status.FAILED_PRECONDITION.withDescription("this engine keeps no audit log")
          .asRuntimeException());
      return;
    }
    if (request.getLimit() > MAX_LIMIT) {
      response.onError(invalid("limit: at most " + MAX_LIMIT + ", got " + request.getLimit()));
      return;
    }
    if (request.getToMicros() != 0 && request.getToMicros() < request.getFromMicros()) {
      response.onError(invalid("to_micros: before from_micros"));
      return;
    }
    int limit = request.getLimit() == 0 ? 1_000 : request.getLimit();
    Deque<AuditEntry> newest = new ArrayDeque<>();
    for (AuditEntry entry : audit.read(request.getFromMicros(), request.getToMicros() == 0 ? Long.MAX_VALUE
        : request.getToMicros())) {
      newest.addLast(entry);
      if (newest.size() > limit) {
        newest.removeFirst();
      }
    }
    ReadAuditResponse.Builder out = ReadAuditResponse.newBuilder();
    for (AuditEntry e : newest) {
      out.addEntries(AuditEntryInfo.newBuilder().setTimeMicros(e.timeMicros())
          .setKind(e.kind().name().toLowerCase(Locale.ROOT)).setService(e.service()).setTable(e.table())
          .setCause(e.cause()).setDetail(e.detail()));
    }
    response.onNext(out.build());
    response.onCompleted();
  }

  /** Each service's validation counters, by service name. */
  private static java.util.Map<String, Long> outstandingByTable(io.cutover.engine.validate.ContinuousValidator v) {
    java.util.Map<String, Long> byTable = new java.util.TreeMap<>();
    v.tables().forEach(m -> byTable.put(m.sourceTable(), 0L));
    v.outstanding().forEach(d -> byTable.merge(d.table(), 1L, Long::sum));
    return byTable;
  }

  List<ValidationStatus> status() {
    List<ValidationStatus> out = new ArrayList<>();
    validations.forEach((service, v) -> {
      ValidationStats s = v.stats();
      out.add(ValidationStatus.newBuilder().setService(service).setRounds(s.rounds())
          .setRowsCompared(s.rowsCompared()).setReported(s.reported()).setHeldBack(s.heldBack())
          .setRepaired(s.repaired()).setOutstanding(s.outstanding()).setFailures(s.failures())
          .setLastRoundMillis(s.lastRoundMillis()).setFullScans(s.fullScans()).setRowsRechecked(s.rowsRechecked())
          .setLastRoundEndMillis(s.lastRoundEndMillis()).setLagAlerts(s.lagAlerts()).setBehindMillis(s.behindMillis()).putAllOutstandingByTable(outstandingByTable(v)).build());
    });
    return out;
  }

  private static DiscrepancyInfo info(String service, Discrepancy d) {
    return Reports.discrepancy(service, d);
  }

}
