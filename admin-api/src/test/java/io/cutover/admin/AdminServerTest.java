package io.cutover.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.admin.v1.CutoverAdminGrpc;
import io.cutover.admin.v1.GetStatusRequest;
import io.cutover.admin.v1.PipelineStatus;
import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.Operation;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import io.cutover.engine.event.Value;
import io.cutover.engine.pipeline.ChangeHandler;
import io.cutover.engine.pipeline.ChangeRecord;
import io.cutover.engine.pipeline.Pipeline;
import io.cutover.engine.pipeline.PipelineConfig;
import io.cutover.journal.JournalConfig;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class AdminServerTest {
  @TempDir Path dir;
  private Pipeline pipeline;
  private ManagedChannel channel;

  @BeforeEach
  void startPipeline() throws Exception {
    ChangeHandler sink = new ChangeHandler() {
      @Override
      public String name() {
        return "sink";
      }

      @Override
      public void onChange(ChangeRecord change) {}
    };
    pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(dir)).ringSize(64).build())
        .apply(sink).start();
    for (int i = 0; i < 3; i++) {
      pipeline.publish(ChangeEvent.builder(Side.MONOLITH, "users", Operation.INSERT)
          .key(Row.of("id", Value.of(i))).after(Row.of("id", Value.of(i))).build()).get(10, TimeUnit.SECONDS);
    }
    assertTrue(pipeline.awaitIdle(Duration.ofSeconds(10)));
  }

  @AfterEach
  void stop() {
    if (channel != null) {
      channel.shutdownNow();
    }
    pipeline.close();
  }

  private ManagedChannel connect(AdminServer server) {
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    return channel;
  }

  @Test
  void shouldServeStatusOverARealChannelBoundToLoopback() {
    try (AdminServer server = AdminServer.start(AdminConfig.loopback(0), pipeline)) {
      PipelineStatus status = CutoverAdminGrpc.newBlockingStub(connect(server))
          .getStatus(GetStatusRequest.getDefaultInstance()).getPipeline();
      assertEquals(3, status.getPublished());
      assertEquals(3, status.getDurable());
      assertEquals(pipeline.journal().lastIndex(), status.getJournalLastIndex());
      assertEquals(List.of("journal", "sink"), status.getStagesList().stream().map(s -> s.getHandler()).toList());
      assertEquals(3, status.getStages(1).getHandled());
      assertEquals(pipeline.journal().lastIndex(), status.getConsumersOrThrow("apply.sink"));
    }
  }

  @Test
  void shouldRefuseCallsWithoutTheBearerToken() {
    try (AdminServer server = AdminServer.start(AdminConfig.loopback(0).withBearerToken("s3cret"), pipeline)) {
      CutoverAdminGrpc.CutoverAdminBlockingStub stub = CutoverAdminGrpc.newBlockingStub(connect(server));
      StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
          () -> stub.getStatus(GetStatusRequest.getDefaultInstance()));
      assertEquals(io.grpc.Status.Code.UNAUTHENTICATED, refused.getStatus().getCode());
      Metadata wrong = new Metadata();
      wrong.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer nope");
      assertThrows(StatusRuntimeException.class, () -> stub
          .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(wrong))
          .getStatus(GetStatusRequest.getDefaultInstance()));
      Metadata right = new Metadata();
      right.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer s3cret");
      assertEquals(3, stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(right))
          .getStatus(GetStatusRequest.getDefaultInstance()).getPipeline().getPublished());
      ExecutionException hidden = assertThrows(ExecutionException.class, () -> listServices(connect(server), null));
      assertTrue(hidden.getCause().getMessage().contains("UNAUTHENTICATED"), "reflection is behind the token too");
      assertEquals(HealthCheckResponse.ServingStatus.SERVING, HealthGrpc.newBlockingStub(connect(server))
          .check(HealthCheckRequest.newBuilder().build()).getStatus(), "health is not: probes have no token");
    }
  }

  /** The services reflection lists, asked over v1 (with the given headers, or none). */
  private static List<String> listServices(ManagedChannel ch, Metadata headers) throws Exception {
    CompletableFuture<ServerReflectionResponse> answer = new CompletableFuture<>();
    ServerReflectionGrpc.ServerReflectionStub stub = ServerReflectionGrpc.newStub(ch);
    if (headers != null) {
      stub = stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }
    StreamObserver<ServerReflectionRequest> requests = stub.serverReflectionInfo(new StreamObserver<>() {
      @Override
      public void onNext(ServerReflectionResponse value) {
        answer.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        answer.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {}
    });
    requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
    try {
      return answer.get(10, TimeUnit.SECONDS).getListServicesResponse().getServiceList().stream()
          .map(s -> s.getName()).toList();
    } finally {
      requests.onCompleted();
    }
  }

  @Test
  void shouldOfferReflectionAndHealthSoGrpcurlWorksWithoutProtoFiles() throws Exception {
    try (AdminServer server = AdminServer.start(AdminConfig.loopback(0), pipeline)) {
      ManagedChannel ch = connect(server);
      assertEquals(HealthCheckResponse.ServingStatus.SERVING, HealthGrpc.newBlockingStub(ch)
          .check(HealthCheckRequest.newBuilder().setService("cutover.admin.v1.CutoverAdmin").build()).getStatus());
      CompletableFuture<ServerReflectionResponse> answer = new CompletableFuture<>();
      StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(ch).serverReflectionInfo(
          new StreamObserver<>() {
            @Override
            public void onNext(ServerReflectionResponse value) {
              answer.complete(value);
            }

            @Override
            public void onError(Throwable t) {
              answer.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {}
          });
      requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
      List<String> services = answer.get(10, TimeUnit.SECONDS).getListServicesResponse().getServiceList().stream()
          .map(s -> s.getName()).toList();
      requests.onCompleted();
      assertTrue(services.contains("cutover.admin.v1.CutoverAdmin"), services.toString());
      assertTrue(services.contains("grpc.health.v1.Health"), services.toString());
      assertTrue(services.contains("grpc.reflection.v1alpha.ServerReflection"), "for older clients: " + services);
    }
  }

  @Test
  void shouldValidateConfigurationAndReportABusyPort() {
    assertThrows(IllegalArgumentException.class, () -> AdminConfig.loopback(70_000));
    assertThrows(IllegalArgumentException.class, () -> new AdminConfig("127.0.0.1", 0, "", 10));
    try (AdminServer first = AdminServer.start(AdminConfig.loopback(0), pipeline)) {
      java.io.UncheckedIOException busy = assertThrows(java.io.UncheckedIOException.class,
          () -> AdminServer.start(AdminConfig.loopback(first.port()), pipeline));
      assertTrue(busy.getMessage().contains("cannot listen on 127.0.0.1:" + first.port()), busy.getMessage());
    }
  }
}
