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

  private AdminServer(AdminConfig config, Pipeline pipeline) {
    NettyServerBuilder builder = NettyServerBuilder
        .forAddress(new InetSocketAddress(config.host(), config.port()))
        .maxInboundMessageSize(config.maxInboundMessageBytes())
        .addService(ServerInterceptors.intercept(new AdminService(pipeline), new BearerTokenCheck(config)))
        .addService(ProtoReflectionServiceV1.newInstance())
        .addService(health.getHealthService());
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
    AdminServer admin = new AdminServer(config, pipeline);
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
    }
  }

  /** The admin service's methods. */
  private static final class AdminService extends CutoverAdminGrpc.CutoverAdminImplBase {
    private final Pipeline pipeline;

    AdminService(Pipeline pipeline) {
      this.pipeline = pipeline;
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
      response.onNext(Status.newBuilder().setPipeline(status).build());
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
