package io.cutover.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.admin.v1.CutoverAdminGrpc;
import io.cutover.admin.v1.DiscrepancyInfo;
import io.cutover.admin.v1.GetStatusRequest;
import io.cutover.admin.v1.ReadAuditRequest;
import io.cutover.admin.v1.ReadAuditResponse;
import io.cutover.admin.v1.RepairRequest;
import io.cutover.admin.v1.RepairResponse;
import io.cutover.admin.v1.ValidateRequest;
import io.cutover.admin.v1.ValidateResponse;
import io.cutover.admin.v1.ValidationStatus;
import io.cutover.admin.v1.WatchDiscrepanciesRequest;
import io.cutover.engine.config.MigrationConfig;
import io.cutover.engine.db.ApplySessions;
import io.cutover.engine.migration.Migration;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Validation over a real gRPC channel against a running migration: validate on demand, watch alerts stream in as
 * continuous validation reports them, plan and make repairs through the journal, read the audit log, and refuse
 * bad input naming the field.
 */
@Timeout(90)
class AdminValidationTest {
  @TempDir Path dir;

  private static void exec(String url, String... sql) throws Exception {
    try (Connection c = DriverManager.getConnection(url, "sa", ""); Statement st = c.createStatement()) {
      for (String s : sql) {
        st.execute(s);
      }
    }
  }

  private static void behindTheBack(String url, String sql) throws Exception {
    try (Connection c = DriverManager.getConnection(url, "sa", ""); Statement st = c.createStatement()) {
      ApplySessions.mark(c, "someone_else");
      st.execute(sql);
    }
  }

  private static String single(String url, String sql) throws Exception {
    try (Connection c = DriverManager.getConnection(url, "sa", ""); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery(sql)) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  @Test
  void shouldValidateWatchRepairAndAuditOverGrpc() throws Exception {
    String mono = "jdbc:h2:mem:adm-vm-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    String svc = "jdbc:h2:mem:adm-vs-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    String ddl = "CREATE TABLE item (id INT PRIMARY KEY, name VARCHAR(20), stock INT)";
    exec(mono, ddl, "INSERT INTO item SELECT X, 'n' || X, 10 FROM SYSTEM_RANGE(1, 50)");
    exec(svc, ddl, "INSERT INTO item SELECT X, 'n' || X, 10 FROM SYSTEM_RANGE(1, 50)");
    Path file = dir.resolve("cutover.yaml");
    Files.writeString(file, String.join("\n",
        "journal: {directory: journal}",
        "state: {directory: state}",
        "sides:",
        "  monolith: {url: '" + mono + "', user: sa}",
        "  services:",
        "    inventory: {url: '" + svc + "', user: sa}",
        "tables:",
        "  - {source: item, service: inventory}",
        "validation: {interval: 100ms, consistency: strict}",
        ""));
    try (Migration migration = Migration.start(MigrationConfig.load(file));
         AdminServer admin = AdminServer.start(AdminConfig.loopback(0), migration)) {
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", admin.port()).usePlaintext().build();
      try {
        CutoverAdminGrpc.CutoverAdminBlockingStub stub = CutoverAdminGrpc.newBlockingStub(channel);
        ValidateResponse clean = stub.validate(ValidateRequest.getDefaultInstance());
        assertTrue(clean.getConsistent(), clean.toString());
        assertEquals(50, clean.getReports(0).getMonolithRows());

        LinkedBlockingQueue<DiscrepancyInfo> alerts = new LinkedBlockingQueue<>();
        CutoverAdminGrpc.newStub(channel).watchDiscrepancies(WatchDiscrepanciesRequest.newBuilder()
            .setService("inventory").build(), new StreamObserver<>() {
              @Override
              public void onNext(DiscrepancyInfo value) {
                alerts.add(value);
              }

              @Override
              public void onError(Throwable t) {}

              @Override
              public void onCompleted() {}
            });
        Thread.sleep(300); // the watch is registered before the divergence
        behindTheBack(svc, "UPDATE item SET stock = 99 WHERE id = 5");
        DiscrepancyInfo alert = alerts.poll(20, TimeUnit.SECONDS);
        assertTrue(alert != null, "the stream delivered the alert");
        assertEquals("columns_differ", alert.getKind());
        assertEquals("inventory", alert.getService());
        assertEquals(java.util.List.of("stock"), alert.getColumnsList());
        assertTrue(alert.getDescription().contains("differs in stock (monolith 10, service 99)"),
            alert.getDescription());

        ValidateResponse found = stub.validate(ValidateRequest.newBuilder().setService("inventory").setTable("item")
            .build());
        assertFalse(found.getConsistent());
        assertEquals(1, found.getReports(0).getDiscrepancyCount());
        RepairResponse plan = stub.repair(RepairRequest.newBuilder().setService("inventory").setAuthority("monolith")
            .setDryRun(true).build());
        assertEquals(java.util.List.of("item {id=5}: copy the monolith's row to the service (COLUMNS_DIFFER)"),
            plan.getRepairsList());
        assertEquals("99", single(svc, "SELECT stock FROM item WHERE id = 5"), "a dry run changes nothing");
        RepairResponse made = stub.repair(RepairRequest.newBuilder().setService("inventory").setAuthority("monolith")
            .build());
        assertEquals(1, made.getRepairsCount());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!"10".equals(single(svc, "SELECT stock FROM item WHERE id = 5")) && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
        assertEquals("10", single(svc, "SELECT stock FROM item WHERE id = 5"));
        assertTrue(stub.validate(ValidateRequest.getDefaultInstance()).getConsistent());

        ReadAuditResponse audit = stub.readAudit(ReadAuditRequest.getDefaultInstance());
        assertTrue(audit.getEntriesList().stream().anyMatch(e -> e.getKind().equals("repair")
            && e.getCause().equals("admin Repair")), audit.toString());
        assertTrue(audit.getEntriesList().stream().anyMatch(e -> e.getKind().equals("discrepancy")));
        assertTrue(audit.getEntriesList().stream().anyMatch(e -> e.getKind().equals("validation")
            && e.getCause().equals("admin Validate")));
        assertEquals(2, stub.readAudit(ReadAuditRequest.newBuilder().setLimit(2).build()).getEntriesCount());
        assertEquals(0, stub.readAudit(ReadAuditRequest.newBuilder().setFromMicros(1).setToMicros(2).build())
            .getEntriesCount());

        ValidationStatus status = stub.getStatus(GetStatusRequest.getDefaultInstance()).getValidations(0);
        assertEquals("inventory", status.getService());
        assertTrue(status.getRounds() > 0 && status.getReported() >= 1, status.toString());

        assertInvalid("service: 'billing' is not one of [inventory]",
            () -> stub.validate(ValidateRequest.newBuilder().setService("billing").build()));
        assertInvalid("table: 'orders' is not one of [item]",
            () -> stub.validate(ValidateRequest.newBuilder().setTable("orders").build()));
        assertInvalid("limit: at most 10000",
            () -> stub.validate(ValidateRequest.newBuilder().setLimit(10_001).build()));
        assertInvalid("authority: repair authority 'whoever'",
            () -> stub.repair(RepairRequest.newBuilder().setService("inventory").setAuthority("whoever").build()));
        assertInvalid("service: required", () -> stub.repair(RepairRequest.getDefaultInstance()));
        assertInvalid("to_micros: before from_micros",
            () -> stub.readAudit(ReadAuditRequest.newBuilder().setFromMicros(5).setToMicros(2).build()));
        assertInvalid("limit: at most 10000",
            () -> stub.readAudit(ReadAuditRequest.newBuilder().setLimit(20_000).build()));
      } finally {
        channel.shutdownNow();
      }
    }
  }

  @Test
  void aServerWithoutValidationSaysSo() throws Exception {
    try (io.cutover.engine.pipeline.Pipeline pipeline = io.cutover.engine.pipeline.Pipeline.builder(
        io.cutover.engine.pipeline.PipelineConfig.builder(io.cutover.journal.JournalConfig.of(dir.resolve("j")))
            .build()).start();
         AdminServer admin = AdminServer.start(AdminConfig.loopback(0), pipeline)) {
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", admin.port()).usePlaintext().build();
      try {
        CutoverAdminGrpc.CutoverAdminBlockingStub stub = CutoverAdminGrpc.newBlockingStub(channel);
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
            () -> stub.validate(ValidateRequest.getDefaultInstance()));
        assertEquals(io.grpc.Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
        assertEquals(io.grpc.Status.Code.FAILED_PRECONDITION, assertThrows(StatusRuntimeException.class,
            () -> stub.readAudit(ReadAuditRequest.getDefaultInstance())).getStatus().getCode());
        assertEquals(0, stub.getStatus(GetStatusRequest.getDefaultInstance()).getValidationsCount());
      } finally {
        channel.shutdownNow();
      }
    }
  }

  private static void assertInvalid(String message, org.junit.jupiter.api.function.Executable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
    assertEquals(io.grpc.Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.toString());
    assertTrue(e.getStatus().getDescription().contains(message), e.getStatus().getDescription());
  }
}
