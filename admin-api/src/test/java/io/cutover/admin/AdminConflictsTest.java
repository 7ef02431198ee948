package io.cutover.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.admin.v1.ConflictInfo;
import io.cutover.admin.v1.CutoverAdminGrpc;
import io.cutover.admin.v1.GetStatusRequest;
import io.cutover.admin.v1.ListConflictsRequest;
import io.cutover.admin.v1.ResolveConflictRequest;
import io.cutover.admin.v1.Status;
import io.cutover.admin.v1.TableRequest;
import io.cutover.engine.apply.TableMapping;
import io.cutover.engine.capture.TriggerCapture;
import io.cutover.engine.event.Side;
import io.cutover.engine.pipeline.Pipeline;
import io.cutover.engine.pipeline.PipelineConfig;
import io.cutover.engine.sync.BidirectionalSync;
import io.cutover.engine.sync.ConflictPolicy;
import io.cutover.engine.sync.Rule;
import io.cutover.journal.JournalConfig;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Conflicts and sync status over a real gRPC channel: list parked conflicts, resolve one, refuse bad input. */
@Timeout(60)
class AdminConflictsTest {
  @TempDir Path dir;

  private static JdbcDataSource h2(String name) {
    JdbcDataSource ds = new JdbcDataSource();
    ds.setURL("jdbc:h2:mem:" + name + "-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
    return ds;
  }

  private static void exec(JdbcDataSource ds, String... sql) throws Exception {
    try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
      for (String s : sql) {
        st.execute(s);
      }
    }
  }

  private static String name(JdbcDataSource ds) throws Exception {
    try (Connection c = ds.getConnection(); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT name FROM item WHERE id = 1")) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(20);
    }
  }

  @Test
  void shouldListParkedConflictsAndResolveOneThroughTheJournal() throws Exception {
    JdbcDataSource monolith = h2("m");
    JdbcDataSource service = h2("s");
    for (JdbcDataSource ds : List.of(monolith, service)) {
      exec(ds, "CREATE TABLE item (id INT PRIMARY KEY, name VARCHAR(40))", "INSERT INTO item VALUES (1, 'bolt')");
    }
    TriggerCapture serviceCapture = TriggerCapture.builder(Side.service("catalog"), service).tables("item")
        .pollInterval(Duration.ofMillis(2)).build();
    serviceCapture.install();
    TriggerCapture monolithCapture = TriggerCapture.builder(Side.MONOLITH, monolith).tables("item")
        .pollInterval(Duration.ofMillis(2)).build();
    monolithCapture.install();
    BidirectionalSync sync = BidirectionalSync.builder("catalog", monolith, service, dir.resolve("state"))
        .table(TableMapping.identity("item"), ConflictPolicy.of(Rule.MANUAL)).build();
    java.util.concurrent.atomic.AtomicLong seen = new java.util.concurrent.atomic.AtomicLong();
    io.cutover.engine.pipeline.ChangeHandler counter = new io.cutover.engine.pipeline.ChangeHandler() {
      @Override
      public String name() {
        return "counter";
      }

      @Override
      public void onChange(io.cutover.engine.pipeline.ChangeRecord change) {
        seen.incrementAndGet();
      }
    };
    try (Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(dir.resolve("journal")))
            .build()).apply(sync, counter).start();
         AdminServer server = AdminServer.start(AdminConfig.loopback(0).withBearerToken("s3cret"), pipeline,
             Map.of("catalog", sync))) {
      // Both sides rename the row before either change is synced: a conflict, parked by the manual rule.
      exec(monolith, "UPDATE item SET name = 'nut' WHERE id = 1");
      exec(service, "UPDATE item SET name = 'screw' WHERE id = 1");
      monolithCapture.start(pipeline);
      serviceCapture.start(pipeline);
      await("the conflict to park", () -> {
        try {
          return sync.parked().size() == 1;
        } catch (Exception e) {
          return false;
        }
      });
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
      try {
        CutoverAdminGrpc.CutoverAdminBlockingStub anonymous = CutoverAdminGrpc.newBlockingStub(channel);
        assertEquals(io.grpc.Status.Code.UNAUTHENTICATED, assertThrows(StatusRuntimeException.class,
            () -> anonymous.resolveConflict(ResolveConflictRequest.newBuilder().setConflictId(1).setWinner("monolith")
                .build())).getStatus().getCode());
        assertEquals(io.grpc.Status.Code.UNAUTHENTICATED, assertThrows(StatusRuntimeException.class,
            () -> anonymous.replay(io.cutover.admin.v1.ReplayRequest.newBuilder().setConsumer("counter").build()))
            .getStatus().getCode());
        Metadata token = new Metadata();
        token.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer s3cret");
        CutoverAdminGrpc.CutoverAdminBlockingStub admin = anonymous.withInterceptors(
            MetadataUtils.newAttachHeadersInterceptor(token));

        List<ConflictInfo> parked = admin.listConflicts(ListConflictsRequest.newBuilder().setParkedOnly(true)
            .build()).getConflictsList();
        assertEquals(1, parked.size());
        ConflictInfo conflict = parked.get(0);
        assertEquals("update_update", conflict.getKind());
        assertEquals("parked", conflict.getOutcome());
        assertEquals(List.of("name"), conflict.getColumnsList());
        assertEquals("catalog", conflict.getService());
        Status status = admin.getStatus(GetStatusRequest.getDefaultInstance());
        assertEquals(1, status.getSyncs(0).getParked());
        assertEquals(1, status.getSyncs(0).getConflictsByKindOrThrow("update_update"));

        try (MetricsServer metrics = MetricsServer.start(0, pipeline, Map.of("catalog", sync))) {
          java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
          java.net.URI uri = java.net.URI.create("http://127.0.0.1:" + metrics.port() + "/metrics");
          java.net.http.HttpResponse<String> page = http.send(java.net.http.HttpRequest.newBuilder(uri).build(),
              java.net.http.HttpResponse.BodyHandlers.ofString());
          assertEquals(200, page.statusCode());
          String text = page.body();
          assertTrue(text.contains("cutover_sync_conflicts_total{service=\"catalog\",kind=\"update_update\"} 1\n"),
              text);
          assertTrue(text.contains("cutover_sync_parked_rows{service=\"catalog\"} 1\n"), text);
          assertTrue(text.contains("# TYPE cutover_pipeline_published_total counter\n"), text);
          java.util.regex.Matcher bytes = java.util.regex.Pattern.compile("cutover_journal_bytes ([0-9.eE+]+)\n")
              .matcher(text);
          assertTrue(bytes.find() && Double.parseDouble(bytes.group(1)) > 0, "the journal takes space: " + text);
          assertTrue(text.contains("# TYPE cutover_sync_apply_latency_seconds histogram\n"), text);
          assertTrue(text.contains("cutover_sync_apply_latency_seconds_bucket{service=\"catalog\",direction="
              + "\"to_service\",le=\"+Inf\"} "), text);
          assertTrue(text.contains("cutover_sync_apply_latency_seconds_count{service=\"catalog\",direction="
              + "\"to_monolith\"} "), text);
          java.util.Set<String> closed = new java.util.HashSet<>();
          String current = null;
          for (String line : text.split("\n")) {
            if (line.startsWith("#")) {
              continue;
            }
            assertTrue(line.matches("cutover_[a-z_]+(\\{[^}]*})? -?[0-9][0-9.eE+-]*"), "malformed sample: " + line);
            String family = line.replaceAll("[{ ].*", "").replaceAll("_(bucket|sum|count)$", "");
            if (!family.equals(current)) {
              assertTrue(closed.add(family), "samples of " + family + " are not grouped together");
              current = family;
            }
          }
          assertEquals(405, http.send(java.net.http.HttpRequest.newBuilder(uri).POST(
              java.net.http.HttpRequest.BodyPublishers.ofString("x")).build(),
              java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode());
          assertEquals(404, http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:"
              + metrics.port() + "/admin")).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode());
        }

        StatusRuntimeException wrongWinner = assertThrows(StatusRuntimeException.class, () -> admin.resolveConflict(
            ResolveConflictRequest.newBuilder().setConflictId(conflict.getId()).setWinner("billing").build()));
        assertEquals(io.grpc.Status.Code.INVALID_ARGUMENT, wrongWinner.getStatus().getCode());
        assertTrue(wrongWinner.getStatus().getDescription().startsWith("winner:"));
        assertEquals(io.grpc.Status.Code.INVALID_ARGUMENT, assertThrows(StatusRuntimeException.class,
            () -> admin.resolveConflict(ResolveConflictRequest.getDefaultInstance())).getStatus().getCode());
        assertEquals(io.grpc.Status.Code.NOT_FOUND, assertThrows(StatusRuntimeException.class,
            () -> admin.resolveConflict(ResolveConflictRequest.newBuilder().setConflictId(12345).setWinner("monolith")
                .build())).getStatus().getCode());
        assertEquals(io.grpc.Status.Code.INVALID_ARGUMENT, assertThrows(StatusRuntimeException.class,
            () -> admin.listConflicts(ListConflictsRequest.newBuilder().setService("nope").build()))
            .getStatus().getCode());
        assertEquals(io.grpc.Status.Code.INVALID_ARGUMENT, assertThrows(StatusRuntimeException.class,
            () -> admin.listConflicts(ListConflictsRequest.newBuilder().setLimit(1_000_000).build()))
            .getStatus().getCode());

        io.cutover.proto.v1.Row rivet = io.cutover.engine.event.ChangeEventProtos.toProto(
            io.cutover.engine.event.Row.of("name", io.cutover.engine.event.Value.of("rivet")));
        io.cutover.proto.v1.Row ghost = io.cutover.engine.event.ChangeEventProtos.toProto(
            io.cutover.engine.event.Row.of("colour", io.cutover.engine.event.Value.of("red")));
        StatusRuntimeException both = assertThrows(StatusRuntimeException.class, () -> admin.resolveConflict(
            ResolveConflictRequest.newBuilder().setConflictId(conflict.getId()).setWinner("catalog").setValues(rivet)
                .build()));
        assertTrue(both.getStatus().getDescription().contains("either a winner or values"), both.toString());
        StatusRuntimeException unknown = assertThrows(StatusRuntimeException.class, () -> admin.resolveConflict(
            ResolveConflictRequest.newBuilder().setConflictId(conflict.getId()).setValues(ghost).build()));
        assertTrue(unknown.getStatus().getDescription().contains("column 'colour' is not a column of item"),
            unknown.toString());
        assertTrue(admin.resolveConflict(ResolveConflictRequest.newBuilder().setConflictId(conflict.getId())
            .setValues(rivet).build()).getResolved());
        await("both sides to hold the operator's values", () -> {
          try {
            return name(monolith).equals("rivet") && name(service).equals("rivet");
          } catch (Exception e) {
            return false;
          }
        });
        // a second conflict, resolved by naming a winner
        admin.pauseTable(TableRequest.newBuilder().setService("catalog").setTable("item").build());
        exec(monolith, "UPDATE item SET name = 'nut' WHERE id = 1");
        exec(service, "UPDATE item SET name = 'screw' WHERE id = 1");
        Thread.sleep(300);
        admin.resumeTable(TableRequest.newBuilder().setService("catalog").setTable("item").build());
        await("the second conflict to park", () -> {
          try {
            pipeline.publish(BidirectionalSync.tick()).join();
            return sync.parked().size() == 1;
          } catch (Exception e) {
            return false;
          }
        });
        assertTrue(admin.resolveConflict(ResolveConflictRequest.newBuilder().setConflictId(sync.parked().get(0).id())
            .setWinner("catalog").build()).getResolved());
        await("both sides to hold the service's name", () -> {
          try {
            return name(monolith).equals("screw") && name(service).equals("screw");
          } catch (Exception e) {
            return false;
          }
        });
        // Sync control: pause the table, change the monolith, nothing moves; resume, it does.
        assertEquals(Map.of("item", BidirectionalSync.PAUSED_BY_OPERATOR), admin.pauseTable(TableRequest.newBuilder()
            .setService("catalog").setTable("item").build()).getPausedTablesMap());
        exec(monolith, "UPDATE item SET name = 'washer' WHERE id = 1");
        Thread.sleep(500);
        assertEquals("screw", name(service));
        admin.resumeTable(TableRequest.newBuilder().setService("catalog").setTable("item").build());
        await("the held change to land after resume", () -> {
          try {
            pipeline.publish(BidirectionalSync.tick()).join();
            return name(service).equals("washer") && sync.paused().isEmpty();
          } catch (Exception e) {
            return false;
          }
        });
        assertEquals(io.grpc.Status.Code.INVALID_ARGUMENT, assertThrows(StatusRuntimeException.class,
            () -> admin.pauseTable(TableRequest.newBuilder().setService("catalog").setTable("nope").build()))
            .getStatus().getCode());
        assertEquals(io.grpc.Status.Code.INVALID_ARGUMENT, assertThrows(StatusRuntimeException.class,
            () -> admin.resumeTable(TableRequest.newBuilder().setService("x").setTable("item").build()))
            .getStatus().getCode());
        // Replay from a journal index: one consumer gets the journaled changes again, the sync refuses.
        assertTrue(pipeline.awaitIdle(Duration.ofSeconds(10)));
        long before = seen.get();
        io.cutover.admin.v1.ReplayResponse replayed = admin.replay(io.cutover.admin.v1.ReplayRequest.newBuilder()
            .setConsumer("counter").build());
        assertTrue(replayed.getReplayed() > 0, replayed.toString());
        assertEquals(before + replayed.getReplayed(), seen.get(), "the consumer saw each journaled change again");
        long last = pipeline.journal().lastIndex();
        assertEquals(0, admin.replay(io.cutover.admin.v1.ReplayRequest.newBuilder().setConsumer("counter")
            .setAfterIndex(last).build()).getReplayed());
        StatusRuntimeException refused = assertThrows(StatusRuntimeException.class, () -> admin.replay(
            io.cutover.admin.v1.ReplayRequest.newBuilder().setConsumer("sync-catalog").build()));
        assertEquals(io.grpc.Status.Code.INVALID_ARGUMENT, refused.getStatus().getCode());
        assertTrue(refused.getStatus().getDescription().startsWith("consumer: handler 'sync-catalog' refuses "
            + "replays"), refused.getStatus().getDescription());
        assertTrue(assertThrows(StatusRuntimeException.class, () -> admin.replay(io.cutover.admin.v1.ReplayRequest
            .newBuilder().setConsumer("nobody").build())).getStatus().getDescription()
            .contains("no pipeline handler is named 'nobody'"));
        assertTrue(assertThrows(StatusRuntimeException.class, () -> admin.replay(io.cutover.admin.v1.ReplayRequest
            .newBuilder().setConsumer("counter").setAfterIndex(last + 10).build())).getStatus().getDescription()
            .startsWith("after_index: journal index"));
        assertTrue(assertThrows(StatusRuntimeException.class, () -> admin.replay(io.cutover.admin.v1.ReplayRequest
            .newBuilder().build())).getStatus().getDescription().startsWith("consumer: required"));
        List<ConflictInfo> log = admin.listConflicts(ListConflictsRequest.newBuilder().setService("catalog")
            .setLimit(10).build()).getConflictsList();
        assertEquals("resolved_by_operator", log.get(0).getOutcome());
        assertTrue(admin.listConflicts(ListConflictsRequest.newBuilder().setParkedOnly(true).build())
            .getConflictsList().isEmpty());
      } finally {
        channel.shutdownNow();
      }
    } finally {
      monolithCapture.close();
      serviceCapture.close();
      sync.close();
    }
  }
}
