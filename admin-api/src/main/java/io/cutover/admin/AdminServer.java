package io.cutover.admin;

import io.cutover.admin.v1.CutoverAdminGrpc;
import io.cutover.admin.v1.GetStatusRequest;
import io.cutover.admin.v1.PipelineStatus;
import io.cutover.admin.v1.StageStatus;
import io.cutover.admin.v1.Status;
import io.cutover.engine.pipeline.Pipeline;
import io.cutover.engine.pipeline.PipelineStats;
import io.cutover.engine.pipeline.StageStats;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.cutover.admin.v1.ConflictInfo;
import io.cutover.admin.v1.ListConflictsRequest;
import io.cutover.admin.v1.ListConflictsResponse;
import io.cutover.admin.v1.ResolveConflictRequest;
import io.cutover.admin.v1.ResolveConflictResponse;
import io.cutover.admin.v1.SyncStatus;
import io.cutover.admin.v1.TableRequest;
import io.cutover.admin.v1.TableResponse;
import io.cutover.engine.sync.BidirectionalSync;
import io.cutover.engine.sync.Conflict;
import io.cutover.engine.sync.SyncStats;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.concurrent.TimeUnit;

/**
 * Serves {@code cutover.admin.v1.CutoverAdmin}, reflection and health over gRPC. Binds to loopback unless told
 * otherwise. Thread-safe.
 */
public final class AdminServer implements AutoCloseable {
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final Server server;
  private final HealthStatusManager health = new HealthStatusManager();
  /** Threads serving calls. */
  static final int THREADS = 4;
  /** Calls one connection may have open at once (streams included). */
  static final int MAX_CALLS_PER_CONNECTION = 32;
  private final java.util.concurrent.ExecutorService executor = java.util.concurrent.Executors.newFixedThreadPool(
      THREADS, runnable -> {
        Thread thread = new Thread(runnable, "cutover-admin");
        thread.setDaemon(true);
        return thread;
      });

  @SuppressWarnings("deprecation") // ProtoReflectionService: v1alpha, for the clients that know no other
  private AdminServer(AdminConfig config, Pipeline pipeline,
      java.util.Map<String, io.cutover.engine.sync.BidirectionalSync> syncs, ValidationMethods validation,
      RoutingMethods routing, PlanningMethods planning, Replayer replayer) {
    BearerTokenCheck token = new BearerTokenCheck(config);
    NettyServerBuilder builder = NettyServerBuilder
        .forAddress(new InetSocketAddress(config.host(), config.port()))
        .maxInboundMessageSize(config.maxInboundMessageBytes())
        // a bounded pool, not gRPC's default unbounded one: a flood of calls queues instead of adding threads
        .executor(executor)
        .maxConcurrentCallsPerConnection(MAX_CALLS_PER_CONNECTION)
        .addService(ServerInterceptors.intercept(new AdminService(pipeline, syncs, validation, routing, planning,
            replayer), token))
        // reflection tells what the API can do: behind the token too (health stays open, for probes); v1alpha for
        // the clients that know no other
        .addService(ServerInterceptors.intercept(ProtoReflectionServiceV1.newInstance(), token))
        .addService(ServerInterceptors.intercept(io.grpc.protobuf.services.ProtoReflectionService.newInstance(),
            token))
        .addService(health.getHealthService());
    if (config.tls()) {
      try {
        builder.sslContext(io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts.forServer(
            config.tlsCertificateChain().toFile(), config.tlsPrivateKey().toFile()).build());
      } catch (javax.net.ssl.SSLException | IllegalArgumentException e) {
        throw new IllegalArgumentException("admin TLS: the certificate chain " + config.tlsCertificateChain()
            + " and key " + config.tlsPrivateKey() + " cannot be used: " + e.getMessage(), e);
      }
    }
    this.server = builder.build();
  }

  /**
   * Starts serving.
   *
   * @param config where to listen and how to authenticate.
   * @param pipeline the engine's pipeline.
   * @return the running server.
   * @throws UncheckedIOException if the address cannot be bound.
   */
  public static AdminServer start(AdminConfig config, Pipeline pipeline) {
    return start(config, pipeline, java.util.Map.of());
  }

  /**
   * Starts serving a pipeline and the services' syncs (conflicts, sync status).
   *
   * @param config where to listen and how to authenticate.
   * @param pipeline the engine's pipeline.
   * @param syncs each service's sync, by service name.
   * @return the running server.
   * @throws UncheckedIOException if the address cannot be bound.
   */
  public static AdminServer start(AdminConfig config, Pipeline pipeline,
      java.util.Map<String, io.cutover.engine.sync.BidirectionalSync> syncs) {
    return start(config, pipeline, syncs, new ValidationMethods(java.util.Map.of(), java.util.Map.of(), null),
        new RoutingMethods(null), new PlanningMethods(null), pipeline::replay);
  }

  /**
   * Starts serving a running migration: its pipeline, syncs, validation, repairs and audit log.
   *
   * @param config where to listen and how to authenticate.
   * @param migration the migration.
   * @return the running server.
   * @throws UncheckedIOException if the address cannot be bound.
   */
  public static AdminServer start(AdminConfig config, io.cutover.engine.migration.Migration migration) {
    return start(config, migration.pipeline(), migration.syncs(), new ValidationMethods(migration.validations(),
        migration.repairers(), migration.audit()), new RoutingMethods(migration),
        new PlanningMethods(migration), migration::replay);
  }

  private static AdminServer start(AdminConfig config, Pipeline pipeline,
      java.util.Map<String, io.cutover.engine.sync.BidirectionalSync> syncs, ValidationMethods validation,
      RoutingMethods routing, PlanningMethods planning, Replayer replayer) {
    AdminServer admin = new AdminServer(config, pipeline, syncs, validation, routing, planning, replayer);
    try {
      admin.server.start();
    } catch (IOException e) {
      throw new UncheckedIOException("admin server cannot listen on " + config.host() + ":" + config.port()
          + ": " + e.getMessage(), e);
    }
    admin.health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES,
        io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING);
    admin.health.setStatus(CutoverAdminGrpc.SERVICE_NAME,
        io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING);
    return admin;
  }

  /**
   * The port listened on.
   *
   * @return the port.
   */
  public int port() {
    return server.getPort();
  }

  /** Reports NOT_SERVING, then stops, waiting up to 5 s for calls in progress. */
  @Override
  public void close() {
    health.enterTerminalState();
    server.shutdown();
    try {
      if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
        server.shutdownNow();
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    } finally {
      executor.shutdownNow();
    }
  }

  /** Re-delivers journaled changes to a consumer ({@link Pipeline#replay}). */
  private interface Replayer {
    java.util.concurrent.CompletableFuture<Long> replay(String consumer, long afterIndex);
  }

  /** The admin service's methods. */
  private static final class AdminService extends CutoverAdminGrpc.CutoverAdminImplBase {
    private static final int MAX_LIMIT = 10_000;
    private final Pipeline pipeline;
    private final java.util.Map<String, BidirectionalSync> syncs;
    private final ValidationMethods validation;
    private final RoutingMethods routing;
    private final PlanningMethods planning;
    private final Replayer replayer;

    AdminService(Pipeline pipeline, java.util.Map<String, BidirectionalSync> syncs, ValidationMethods validation,
        RoutingMethods routing, PlanningMethods planning, Replayer replayer) {
      this.planning = planning;
      this.replayer = replayer;
      this.pipeline = pipeline;
      this.syncs = java.util.Map.copyOf(syncs);
      this.validation = validation;
      this.routing = routing;
    }

    @Override
    public void getRoutes(io.cutover.admin.v1.GetRoutesRequest request,
        StreamObserver<io.cutover.admin.v1.RoutesResponse> response) {
      routing.getRoutes(request, response);
    }

    @Override
    public void setWeight(io.cutover.admin.v1.SetWeightRequest request,
        StreamObserver<io.cutover.admin.v1.RoutesResponse> response) {
      routing.setWeight(request, response);
    }

    @Override
    public void rollback(io.cutover.admin.v1.RouteRequest request,
        StreamObserver<io.cutover.admin.v1.RoutesResponse> response) {
      routing.rollback(request, response);
    }

    @Override
    public void startRollout(io.cutover.admin.v1.StartRolloutRequest request,
        StreamObserver<io.cutover.admin.v1.RolloutStatus> response) {
      routing.startRollout(request, response);
    }

    @Override
    public void stopRollout(io.cutover.admin.v1.RouteRequest request,
        StreamObserver<io.cutover.admin.v1.RolloutStatus> response) {
      routing.stopRollout(request, response);
    }

    @Override
    public void setRules(io.cutover.admin.v1.SetRulesRequest request,
        StreamObserver<io.cutover.admin.v1.RoutesResponse> response) {
      routing.setRules(request, response);
    }

    @Override
    public void analyze(io.cutover.admin.v1.AnalyzeRequest request,
        StreamObserver<io.cutover.admin.v1.AnalyzeResponse> response) {
      planning.analyze(request, response);
    }

    @Override
    public void generateApi(io.cutover.admin.v1.GenerateApiRequest request,
        StreamObserver<io.cutover.admin.v1.GenerateApiResponse> response) {
      planning.generateApi(request, response);
    }

    @Override
    public void validate(io.cutover.admin.v1.ValidateRequest request,
        StreamObserver<io.cutover.admin.v1.ValidateResponse> response) {
      validation.validate(request, response);
    }

    @Override
    public void repair(io.cutover.admin.v1.RepairRequest request,
        StreamObserver<io.cutover.admin.v1.RepairResponse> response) {
      validation.repair(request, response);
    }

    @Override
    public void watchDiscrepancies(io.cutover.admin.v1.WatchDiscrepanciesRequest request,
        StreamObserver<io.cutover.admin.v1.DiscrepancyInfo> response) {
      validation.watch(request, response);
    }

    @Override
    public void readAudit(io.cutover.admin.v1.ReadAuditRequest request,
        StreamObserver<io.cutover.admin.v1.ReadAuditResponse> response) {
      validation.readAudit(request, response);
    }

    private static io.grpc.StatusRuntimeException invalid(String message) {
      return io.grpc.Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
    }

    @Override
    public void listConflicts(ListConflictsRequest request, StreamObserver<ListConflictsResponse> response) {
      if (request.getLimit() > MAX_LIMIT) {
        response.onError(invalid("limit: at most " + MAX_LIMIT + ", got " + request.getLimit()));
        return;
      }
      if (!request.getService().isEmpty() && !syncs.containsKey(request.getService())) {
        response.onError(invalid("service: '" + request.getService() + "' is not one of " + new java.util.TreeSet<>(
            syncs.keySet())));
        return;
      }
      int limit = request.getLimit() == 0 ? 100 : request.getLimit();
      ListConflictsResponse.Builder out = ListConflictsResponse.newBuilder();
      try {
        for (java.util.Map.Entry<String, BidirectionalSync> sync : new java.util.TreeMap<>(syncs).entrySet()) {
          if (!request.getService().isEmpty() && !request.getService().equals(sync.getKey())) {
            continue;
          }
          for (Conflict c : request.getParkedOnly() ? sync.getValue().parked() : sync.getValue().conflicts(limit)) {
            if (out.getConflictsCount() >= limit) {
              break;
            }
            out.addConflicts(ConflictInfo.newBuilder().setId(c.id()).setService(sync.getKey()).setTable(c.table())
                .setKey(c.key().toString()).setKind(c.kind().name().toLowerCase(java.util.Locale.ROOT))
                .setHeldSide(c.heldSide().toString()).setHeld(String.valueOf(c.held()))
                .setIncomingSide(c.incomingSide().toString()).setIncoming(String.valueOf(c.incoming()))
                .addAllColumns(c.columns()).addAllDecisions(c.decisions())
                .setResolved(c.resolved() == null ? "" : c.resolved().toString())
                .setOutcome(c.outcome().name().toLowerCase(java.util.Locale.ROOT))
                .setDetectedMicros(c.detectedMicros()));
          }
        }
      } catch (java.io.IOException e) {
        response.onError(io.grpc.Status.UNAVAILABLE.withDescription("sync state store unreadable: "
            + e.getMessage()).asRuntimeException());
        return;
      }
      response.onNext(out.build());
      response.onCompleted();
    }

    @Override
    public void replay(io.cutover.admin.v1.ReplayRequest request,
        StreamObserver<io.cutover.admin.v1.ReplayResponse> response) {
      if (request.getConsumer().isEmpty()) {
        response.onError(invalid("consumer: required (GetStatus lists the journal's consumers)"));
        return;
      }
      long after = request.hasAfterIndex() ? request.getAfterIndex() : io.cutover.journal.Journal.NO_INDEX;
      if (after < io.cutover.journal.Journal.NO_INDEX) {
        response.onError(invalid("after_index: " + after + " is not a journal index (-1 or absent: everything)"));
        return;
      }
      java.util.concurrent.CompletableFuture<Long> done;
      try {
        done = replayer.replay(request.getConsumer(), after);
      } catch (IllegalArgumentException e) {
        response.onError(invalid((e.getMessage().contains("handler is named") || e.getMessage().contains("refuses")
            ? "consumer: " : "after_index: ") + e.getMessage()));
        return;
      }
      try {
        long replayed = done.get(10, TimeUnit.MINUTES);
        response.onNext(io.cutover.admin.v1.ReplayResponse.newBuilder().setConsumer(request.getConsumer())
            .setReplayed(replayed).build());
        response.onCompleted();
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
        response.onError(io.grpc.Status.UNAVAILABLE.withDescription("the replay to " + request.getConsumer()
            + " did not complete: " + (e.getCause() == null ? e : e.getCause()).getMessage()).asRuntimeException());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        response.onError(io.grpc.Status.CANCELLED.withDescription("interrupted").asRuntimeException());
      }
    }

    @Override
    public void pauseTable(TableRequest request, StreamObserver<TableResponse> response) {
      control(request, response, true);
    }

    @Override
    public void resumeTable(TableRequest request, StreamObserver<TableResponse> response) {
      control(request, response, false);
    }

    private void control(TableRequest request, StreamObserver<TableResponse> response, boolean pause) {
      BidirectionalSync sync = syncs.get(request.getService());
      if (sync == null) {
        response.onError(invalid("service: '" + request.getService() + "' is not one of "
            + new java.util.TreeSet<>(syncs.keySet())));
        return;
      }
      if (!sync.tables().contains(request.getTable())) {
        response.onError(invalid("table: '" + request.getTable() + "' is not one of " + new java.util.TreeSet<>(
            sync.tables())));
        return;
      }
      try {
        pipeline.publish(pause ? BidirectionalSync.pauseTable(request.getTable())
            : BidirectionalSync.resumeTable(request.getTable())).get(10, TimeUnit.SECONDS);
        pipeline.awaitIdle(java.time.Duration.ofSeconds(10));
        response.onNext(TableResponse.newBuilder().putAllPausedTables(sync.paused()).build());
        response.onCompleted();
      } catch (java.io.IOException | java.util.concurrent.ExecutionException
          | java.util.concurrent.TimeoutException e) {
        response.onError(io.grpc.Status.UNAVAILABLE.withDescription("could not journal the request: "
            + e.getMessage()).asRuntimeException());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        response.onError(io.grpc.Status.CANCELLED.withDescription("interrupted").asRuntimeException());
      }
    }

    @Override
    public void resolveConflict(ResolveConflictRequest request, StreamObserver<ResolveConflictResponse> response) {
      if (request.getConflictId() == 0) {
        response.onError(invalid("conflict_id: required (ListConflicts with parked_only lists them)"));
        return;
      }
      try {
        for (java.util.Map.Entry<String, BidirectionalSync> sync : syncs.entrySet()) {
          for (Conflict parked : sync.getValue().parked()) {
            if (parked.id() != request.getConflictId()) {
              continue;
            }
            if (request.hasValues() && request.getValues().getColumnsCount() > 0) {
              if (!request.getWinner().isEmpty()) {
                response.onError(invalid("winner: give either a winner or values, not both"));
                return;
              }
              io.cutover.engine.event.Row values;
              try {
                values = io.cutover.engine.event.ChangeEventProtos.fromProto(request.getValues());
              } catch (IllegalArgumentException e) {
                response.onError(invalid("values: " + e.getMessage()));
                return;
              }
              java.util.Set<String> known = new java.util.TreeSet<>();
              for (io.cutover.engine.event.Row version : new io.cutover.engine.event.Row[] {parked.held(),
                  parked.incoming(), parked.key()}) {
                if (version != null) {
                  known.addAll(version.names());
                }
              }
              for (String column : values.names()) {
                if (!known.contains(column)) {
                  response.onError(invalid("values: column '" + column + "' is not a column of " + parked.table()
                      + " (" + known + ")"));
                  return;
                }
              }
              pipeline.publish(BidirectionalSync.resolution(parked.id(), values)).get(10, TimeUnit.SECONDS);
              response.onNext(ResolveConflictResponse.newBuilder().setResolved(true).build());
              response.onCompleted();
              return;
            }
            io.cutover.engine.event.Side winner;
            if (request.getWinner().equals("monolith")) {
              winner = io.cutover.engine.event.Side.MONOLITH;
            } else if (request.getWinner().equals(sync.getKey())) {
              winner = io.cutover.engine.event.Side.service(sync.getKey());
            } else {
              response.onError(invalid("winner: 'monolith' or '" + sync.getKey() + "', got '" + request.getWinner()
                  + "'"));
              return;
            }
            pipeline.publish(BidirectionalSync.resolution(parked.id(), winner)).get(10, TimeUnit.SECONDS);
            response.onNext(ResolveConflictResponse.newBuilder().setResolved(true).build());
            response.onCompleted();
            return;
          }
        }
      } catch (java.io.IOException | java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
        response.onError(io.grpc.Status.UNAVAILABLE.withDescription("could not journal the resolution: "
            + e.getMessage()).asRuntimeException());
        return;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        response.onError(io.grpc.Status.CANCELLED.withDescription("interrupted").asRuntimeException());
        return;
      }
      response.onError(io.grpc.Status.NOT_FOUND.withDescription("conflict_id: no parked conflict "
          + request.getConflictId()).asRuntimeException());
    }

    @Override
    public void getStatus(GetStatusRequest request, StreamObserver<Status> response) {
      PipelineStats stats = pipeline.stats();
      PipelineStatus.Builder status = PipelineStatus.newBuilder()
          .setPublished(stats.published())
          .setReplayed(stats.replayed())
          .setDurable(stats.durable())
          .setInFlight(stats.inFlight())
          .setJournalLastIndex(stats.journalLastIndex())
          .putAllConsumers(pipeline.journal().consumers());
      for (StageStats stage : stats.stages()) {
        status.addStages(StageStatus.newBuilder()
            .setStage(stage.stage())
            .setHandler(stage.handler())
            .setHandled(stage.handled())
            .setP50Micros(stage.p50Micros())
            .setP95Micros(stage.p95Micros())
            .setP99Micros(stage.p99Micros())
            .setMaxMicros(stage.maxMicros())
            .setCheckpoint(stage.checkpoint()));
      }
      Status.Builder out = Status.newBuilder().setPipeline(status);
      for (java.util.Map.Entry<String, BidirectionalSync> sync : new java.util.TreeMap<>(syncs).entrySet()) {
        SyncStats s = sync.getValue().stats();
        SyncStatus.Builder one = SyncStatus.newBuilder().setService(sync.getKey()).setToService(s.toService())
            .setToMonolith(s.toMonolith()).setConflicts(s.conflicts()).setParked(s.parked())
            .setP95ToServiceMicros(s.p95ToServiceMicros()).setP95ToMonolithMicros(s.p95ToMonolithMicros());
        s.conflictsByKind().forEach((kind, count) -> one.putConflictsByKind(kind.name().toLowerCase(
            java.util.Locale.ROOT), count));
        java.util.Map<String, String> paused;
        try {
          paused = sync.getValue().paused();
          one.putAllPausedTables(paused);
        } catch (java.io.IOException e) {
          paused = java.util.Map.of();
          one.putPausedTables("(unknown)", "sync state store unreadable: " + e.getMessage());
        }
        for (io.cutover.engine.sync.TableStats t : sync.getValue().tableStats().values()) {
          one.addTables(io.cutover.admin.v1.TableSyncStatus.newBuilder().setTable(t.table())
              .setToService(t.toService()).setToMonolith(t.toMonolith()).setConflicts(t.conflicts())
              .setLagMicros(t.lagMicros()).setRowsPerSecond(t.rowsPerSecond())
              .setLastAppliedMicros(t.lastAppliedMicros()).setPaused(paused.getOrDefault(t.table(), ""))
              .setP95Micros(t.p95Micros()));
        }
        out.addSyncs(one);
      }
      out.addAllValidations(validation.status());
      io.cutover.admin.v1.RoutesResponse routes = routing.current();
      if (routes != null) {
        out.setRoutes(routes);
      }
      response.onNext(out.build());
      response.onCompleted();
    }
  }

  /** Refuses calls without the configured bearer token before they reach the service. */
  private static final class BearerTokenCheck implements ServerInterceptor {
    private final byte[] expected;

    BearerTokenCheck(AdminConfig config) {
      this.expected = config.bearerToken().isEmpty() ? null
          : ("Bearer " + config.bearerToken()).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
        ServerCallHandler<Q, R> next) {
      if (expected != null) {
        String presented = headers.get(AUTHORIZATION);
        if (presented == null
            || !MessageDigest.isEqual(expected, presented.getBytes(StandardCharsets.UTF_8))) {
          call.close(io.grpc.Status.UNAUTHENTICATED.withDescription(
              "this admin server requires 'authorization: Bearer <token>'"), new Metadata());
          return new ServerCall.Listener<>() {};
        }
      }
      return next.startCall(call, headers);
    }
  }
}
