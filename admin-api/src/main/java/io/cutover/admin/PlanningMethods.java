package io.cutover.admin;

import io.cutover.admin.v1.AnalyzeRequest;
import io.cutover.admin.v1.AnalyzeResponse;
import io.cutover.admin.v1.GenerateApiRequest;
import io.cutover.admin.v1.GenerateApiResponse;
import io.cutover.admin.v1.ProposedServiceInfo;
import io.cutover.engine.analysis.Analysis;
import io.cutover.engine.analysis.AnalysisWriter;
import io.cutover.engine.analysis.BoundaryAnalyzer;
import io.cutover.engine.analysis.Hints;
import io.cutover.engine.analysis.Schema;
import io.cutover.engine.analysis.Transaction;
import io.cutover.engine.apigen.ApiGenerator;
import io.cutover.engine.apigen.ApiModel;
import io.cutover.engine.apigen.OpenApiDocument;
import io.cutover.engine.config.MigrationConfig;
import io.cutover.engine.db.DataSources;
import io.cutover.engine.migration.Migration;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import javax.sql.DataSource;

/**
 * The admin API's planning triggers over a running migration's configured databases: service boundary analysis of
 * the monolith and API generation for a side. Read-only on the databases. Thread-safe.
 */
final class PlanningMethods {
  private final Migration migration;

  /**
   * The methods.
   *
   * @param migration the migration, or null for a server without one.
   */
  PlanningMethods(Migration migration) {
    this.migration = migration;
  }

  private MigrationConfig config() {
    if (migration == null) {
      throw Status.FAILED_PRECONDITION.withDescription("this server runs no migration, so it knows no databases")
          .asRuntimeException();
    }
    return migration.config();
  }

  private static StatusRuntimeException invalid(String message) {
    return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
  }

  private static DataSource dataSource(MigrationConfig.SideConfig side) {
    return DataSources.of(side.url(), side.user(), side.password());
  }

  void analyze(AnalyzeRequest request, StreamObserver<AnalyzeResponse> response) {
    try {
      MigrationConfig config = config();
      Hints hints;
      try {
        hints = new Hints(List.of(), List.of(), request.getServices(), request.getMaxTables());
      } catch (IllegalArgumentException e) {
        throw invalid(e.getMessage());
      }
      DataSource monolith = dataSource(config.monolith());
      List<Transaction> transactions = request.getPgStatStatements() ? fromPgStatStatements(monolith) : List.of();
      Analysis analysis;
      try {
        analysis = BoundaryAnalyzer.analyze(Schema.read(monolith), transactions, hints, request.getSeed() == 0 ? 1
            : request.getSeed());
      } catch (IllegalArgumentException e) {
        throw invalid(e.getMessage());
      }
      AnalyzeResponse.Builder out = AnalyzeResponse.newBuilder().setDistributedShare(analysis.distributedShare())
          .setPlanYaml(AnalysisWriter.plan(analysis, config.monolith().url(), config.monolith().user()));
      for (Analysis.ProposedService s : analysis.services()) {
        out.addServices(ProposedServiceInfo.newBuilder().setName(s.name()).addAllTables(s.tables())
            .setReason(String.join("; ", s.reasons())));
      }
      analysis.referenceTables().forEach(r -> out.addReferenceTables(r.table()));
      analysis.crossingForeignKeys().forEach(fk -> out.addCrossingForeignKeys(fk.describe()));
      for (Analysis.Cycle cycle : analysis.cycles()) {
        List<String> path = new ArrayList<>(cycle.services());
        path.add(cycle.services().get(0));
        out.addCycles(String.join(" -> ", path));
      }
      response.onNext(out.build());
      response.onCompleted();
    } catch (StatusRuntimeException e) {
      response.onError(e);
    } catch (SQLException e) {
      response.onError(Status.UNAVAILABLE.withDescription("the monolith's schema cannot be read: " + e.getMessage())
          .asRuntimeException());
    }
  }

  private static List<Transaction> fromPgStatStatements(DataSource monolith) throws SQLException {
    try {
      return io.cutover.engine.analysis.AccessLog.fromPgStatStatements(monolith);
    } catch (SQLException e) {
      throw Status.FAILED_PRECONDITION.withDescription("pg_stat_statements cannot be read on the monolith: "
          + e.getMessage()).asRuntimeException();
    }
  }

  void generateApi(GenerateApiRequest request, StreamObserver<GenerateApiResponse> response) {
    try {
      MigrationConfig config = config();
      String side = request.getSide();
      MigrationConfig.SideConfig sideConfig = side.equals("monolith") ? config.monolith()
          : config.services().get(side);
      if (sideConfig == null) {
        throw invalid("side: '" + side + "' is not monolith or one of the services " + config.services().keySet());
      }
      String format = request.getFormat().isEmpty() ? "json" : request.getFormat();
      if (!Set.of("json", "yaml").contains(format)) {
        throw invalid("format: json or yaml, got '" + format + "'");
      }
      ApiModel model;
      try {
        model = ApiGenerator.model(dataSource(sideConfig), side, request.getTablesList()).asVersion(1);
      } catch (IllegalArgumentException e) {
        throw invalid("tables: " + e.getMessage());
      }
      response.onNext(GenerateApiResponse.newBuilder()
          .setDocument(format.equals("yaml") ? OpenApiDocument.yaml(model) : OpenApiDocument.json(model))
          .setSpecVersion(OpenApiDocument.specVersion(model))
          .addAllResources(model.resources().stream().map(ApiModel.Resource::name).toList()).build());
      response.onCompleted();
    } catch (StatusRuntimeException e) {
      response.onError(e);
    } catch (SQLException e) {
      response.onError(Status.UNAVAILABLE.withDescription("the side's schema cannot be read: " + e.getMessage())
          .asRuntimeException());
    }
  }
}
