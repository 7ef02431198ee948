package io.cutover.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cutover.admin.cli.CutoverCli;
import io.cutover.admin.v1.AnalyzeRequest;
import io.cutover.admin.v1.AnalyzeResponse;
import io.cutover.admin.v1.CutoverAdminGrpc;
import io.cutover.admin.v1.GenerateApiRequest;
import io.cutover.admin.v1.GenerateApiResponse;
import io.cutover.admin.v1.GetStatusRequest;
import io.cutover.engine.config.MigrationConfig;
import io.cutover.engine.migration.Migration;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.io.FileInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.Base64;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin API's planning triggers (analysis, API generation) over a real gRPC channel with TLS and a bearer token:
 * what the engine's configured databases hold, proposed as services and as an OpenAPI document.
 */
@Timeout(120)
class AdminPlanningTest {
  @TempDir Path dir;

  /** A self-signed certificate for 127.0.0.1 made with the JDK's keytool, written as PEM: [chain, key]. */
  private Path[] certificate() throws Exception {
    Path store = dir.resolve("admin.p12");
    Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
    Process p = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", "admin", "-keyalg", "EC",
        "-groupname", "secp256r1", "-dname", "CN=localhost", "-ext", "SAN=IP:127.0.0.1,DNS:localhost",
        "-validity", "2", "-keystore", store.toString(), "-storetype", "PKCS12", "-storepass", "changeit",
        "-keypass", "changeit").redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), output);
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (FileInputStream in = new FileInputStream(store.toFile())) {
      ks.load(in, "changeit".toCharArray());
    }
    Base64.Encoder pem = Base64.getMimeEncoder(64, "\n".getBytes());
    Path chain = Files.writeString(dir.resolve("admin.crt"), "-----BEGIN CERTIFICATE-----\n"
        + pem.encodeToString(ks.getCertificate("admin").getEncoded()) + "\n-----END CERTIFICATE-----\n");
    Path key = Files.writeString(dir.resolve("admin.key"), "-----BEGIN PRIVATE KEY-----\n"
        + pem.encodeToString(ks.getKey("admin", "changeit".toCharArray()).getEncoded())
        + "\n-----END PRIVATE KEY-----\n");
    return new Path[] {chain, key};
  }

  private static void exec(String url, String... sql) throws Exception {
    try (Connection c = DriverManager.getConnection(url, "sa", ""); Statement st = c.createStatement()) {
      for (String s : sql) {
        st.execute(s);
      }
    }
  }

  @Test
  void analysisAndApiGenerationOverTlsWithAToken() throws Exception {
    String mono = "jdbc:h2:mem:adm-pm-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    String svc = "jdbc:h2:mem:adm-ps-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    exec(mono, "CREATE TABLE countries (code VARCHAR(2) PRIMARY KEY)",
        "CREATE TABLE customers (id BIGINT PRIMARY KEY, country VARCHAR(2) REFERENCES countries)",
        "CREATE TABLE addresses (id BIGINT PRIMARY KEY, customer_id BIGINT REFERENCES customers, "
            + "country VARCHAR(2) REFERENCES countries)",
        "CREATE TABLE products (sku VARCHAR(9) PRIMARY KEY, country VARCHAR(2) REFERENCES countries)",
        "CREATE TABLE stock (sku VARCHAR(9) PRIMARY KEY REFERENCES products, qty INT)",
        "CREATE TABLE item (id INT PRIMARY KEY, name VARCHAR(20))");
    exec(svc, "CREATE TABLE item (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL)",
        "COMMENT ON TABLE item IS 'What the service sells'");
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
        ""));
    Path[] tls = certificate();
    try (Migration migration = Migration.start(MigrationConfig.load(file));
         AdminServer admin = AdminServer.start(AdminConfig.loopback(0).withBearerToken("s3cret")
             .withTls(tls[0], tls[1]), migration)) {
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", admin.port())
          .sslContext(GrpcSslContexts.forClient().trustManager(tls[0].toFile()).build()).build();
      ManagedChannel plaintext = NettyChannelBuilder.forAddress("127.0.0.1", admin.port()).usePlaintext().build();
      try {
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer s3cret");
        CutoverAdminGrpc.CutoverAdminBlockingStub stub = CutoverAdminGrpc.newBlockingStub(channel)
            .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
        StatusRuntimeException anonymous = assertThrows(StatusRuntimeException.class, () -> CutoverAdminGrpc
            .newBlockingStub(channel).analyze(AnalyzeRequest.getDefaultInstance()));
        assertEquals(io.grpc.Status.Code.UNAUTHENTICATED, anonymous.getStatus().getCode());
        StatusRuntimeException clear = assertThrows(StatusRuntimeException.class, () -> CutoverAdminGrpc
            .newBlockingStub(plaintext).getStatus(GetStatusRequest.getDefaultInstance()));
        assertEquals(io.grpc.Status.Code.UNAVAILABLE, clear.getStatus().getCode(), "no plaintext on a TLS port");

        AnalyzeResponse analysis = stub.analyze(AnalyzeRequest.newBuilder().setServices(2).build());
        assertEquals(2, analysis.getServicesCount(), analysis.toString());
        assertTrue(analysis.getReferenceTablesList().contains("countries"), analysis.toString());
        assertTrue(analysis.getPlanYaml().contains("sides:"), analysis.getPlanYaml());
        Path plan = Files.writeString(dir.resolve("plan.yaml"), analysis.getPlanYaml());
        assertEquals(2, MigrationConfig.load(plan).services().size(), "the plan is a configuration that loads");

        GenerateApiResponse api = stub.generateApi(GenerateApiRequest.newBuilder().setSide("inventory").build());
        JsonNode document = new ObjectMapper().readTree(api.getDocument());
        assertEquals("3.1.0", document.get("openapi").asText());
        assertEquals("What the service sells", document.at("/components/schemas/item/description").asText());
        assertEquals(api.getSpecVersion(), document.at("/info/version").asText());
        assertEquals(java.util.List.of("item"), api.getResourcesList());
        assertTrue(stub.generateApi(GenerateApiRequest.newBuilder().setSide("monolith").addTables("stock")
            .setFormat("yaml").build()).getDocument().startsWith("openapi: 3.1.0"));
        assertInvalid("side: 'nope'", () -> stub.generateApi(GenerateApiRequest.newBuilder().setSide("nope").build()));
        assertInvalid("tables: table 'ghost'", () -> stub.generateApi(GenerateApiRequest.newBuilder()
            .setSide("inventory").addTables("ghost").build()));
        assertInvalid("format: json or yaml", () -> stub.generateApi(GenerateApiRequest.newBuilder()
            .setSide("inventory").setFormat("xml").build()));
      } finally {
        channel.shutdownNow();
        plaintext.shutdownNow();
      }

      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      int code = CutoverCli.run(new String[] {"admin", "--target", "127.0.0.1:" + admin.port(), "--tls-ca",
          tls[0].toString(), "apigen", "--side", "inventory", "--format", "yaml"}, new PrintWriter(out, true),
          new PrintWriter(err, true));
      assertEquals(1, code, "no token in this JVM's environment: refused " + err);
      assertTrue(err.toString().contains("UNAUTHENTICATED"), err.toString());
    }
    assertThrows(IllegalArgumentException.class, () -> AdminConfig.loopback(0).withTls(dir.resolve("none.crt"),
        dir.resolve("none.key")));
    assertThrows(IllegalArgumentException.class, () -> new AdminConfig("127.0.0.1", 0, "", 4096, tlsOnly(), null));
  }

  private Path tlsOnly() throws Exception {
    return Files.writeString(dir.resolve("only.crt"), "x");
  }

  @Test
  void theCliTalksTlsAndPrintsTheDocument() throws Exception {
    String mono = "jdbc:h2:mem:adm-cm-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    String svc = "jdbc:h2:mem:adm-cs-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    exec(mono, "CREATE TABLE item (id INT PRIMARY KEY, name VARCHAR(20))");
    exec(svc, "CREATE TABLE item (id INT PRIMARY KEY, name VARCHAR(20))");
    Path file = dir.resolve("cutover.yaml");
    Files.writeString(file, String.join("\n", "journal: {directory: journal}", "state: {directory: state}",
        "sides:", "  monolith: {url: '" + mono + "', user: sa}", "  services:",
        "    inventory: {url: '" + svc + "', user: sa}", "tables:", "  - {source: item, service: inventory}", ""));
    Path[] tls = certificate();
    try (Migration migration = Migration.start(MigrationConfig.load(file));
         AdminServer admin = AdminServer.start(AdminConfig.loopback(0).withTls(tls[0], tls[1]), migration)) {
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      int code = CutoverCli.run(new String[] {"admin", "--target", "127.0.0.1:" + admin.port(), "--tls-ca",
          tls[0].toString(), "apigen", "--side", "inventory", "--format", "yaml"}, new PrintWriter(out, true),
          new PrintWriter(err, true));
      assertEquals(0, code, err.toString());
      assertTrue(out.toString().startsWith("openapi: 3.1.0"), out.toString());
      StringWriter analyzed = new StringWriter();
      assertEquals(0, CutoverCli.run(new String[] {"admin", "--target", "127.0.0.1:" + admin.port(), "--tls-ca",
          tls[0].toString(), "analyze"}, new PrintWriter(analyzed, true), new PrintWriter(err, true)), err.toString());
      assertTrue(analyzed.toString().contains("\"planYaml\""), analyzed.toString());
      StringWriter ruled = new StringWriter();
      assertEquals(2, CutoverCli.run(new String[] {"admin", "--target", "127.0.0.1:" + admin.port(), "--tls-ca",
          tls[0].toString(), "rules", "--route", "r", "--rule", "bogus"}, new PrintWriter(ruled, true),
          new PrintWriter(err, true)));
      assertTrue(err.toString().contains("KIND:NAME=VALUE:TARGET"), err.toString());
    }
  }

  private static void assertInvalid(String message, org.junit.jupiter.api.function.Executable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
    assertEquals(io.grpc.Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.toString());
    assertTrue(e.getStatus().getDescription().contains(message), e.getStatus().getDescription());
  }
}
