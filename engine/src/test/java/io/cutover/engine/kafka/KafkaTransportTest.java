package io.cutover.engine.kafka;

import static io.cutover.engine.testing.TestSupport.exec;
import static io.cutover.engine.testing.TestSupport.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.apply.JdbcApplier;
import io.cutover.engine.apply.TableMapping;
import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.Operation;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import io.cutover.engine.event.SourcePosition;
import io.cutover.engine.event.Value;
import io.cutover.engine.pipeline.Pipeline;
import io.cutover.engine.pipeline.PipelineConfig;
import io.cutover.engine.testing.Collector;
import io.cutover.engine.testing.Kafka;
import io.cutover.journal.JournalConfig;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka as the change stream, against a real broker the test run starts: Cutover's changes round trip through
 * Kafka losslessly, and a topic in the format an existing Debezium PostgreSQL connector writes drives the apply
 * stage, with offsets committed only for what the journal holds.
 */
@Timeout(180)
class KafkaTransportTest {
  @TempDir Path dir;

  private static Row row(long id, String sku, long qty) {
    return Row.of("id", Value.of(id), "sku", Value.of(sku), "qty", Value.of(qty), "price",
        Value.of(new BigDecimal("12.50")), "ref", Value.of(UUID.fromString("123e4567-e89b-12d3-a456-426614174000")),
        "at", Value.timestampMicros(1_764_000_000_000_000L), "day", Value.date(20_000), "note", Value.NULL);
  }

  @Test
  void changesRoundTripThroughKafkaInKeyOrderWithNothingLost() throws Exception {
    String prefix = "cutover.rt" + UUID.randomUUID().toString().substring(0, 6);
    Kafka.createTopics(3, KafkaPublisher.topic(prefix, Side.MONOLITH, "stock"),
        KafkaPublisher.topic(prefix, Side.service("inventory"), "stock"));
    List<ChangeEvent> sent = new ArrayList<>();
    for (long id = 1; id <= 30; id++) {
      sent.add(ChangeEvent.builder(Side.MONOLITH, "stock", Operation.INSERT).key(Row.of("id", Value.of(id)))
          .after(row(id, "s" + id, id)).commitTimeMicros(1_764_000_000_000_000L + id)
          .position(SourcePosition.triggerSequence(100 + id)).build());
    }
    sent.add(ChangeEvent.builder(Side.service("inventory"), "stock", Operation.UPDATE).key(Row.of("id", Value.of(7L)))
        .before(row(7, "s7", 7)).after(row(7, "s7", 6)).changedColumns(List.of("qty")).origin("somewhere").build());
    sent.add(ChangeEvent.builder(Side.MONOLITH, "stock", Operation.UPDATE).key(Row.of("id", Value.of(7L)))
        .before(row(7, "s7", 6)).after(row(7, "s7", 5)).changedColumns(List.of("qty")).build());
    sent.add(ChangeEvent.builder(Side.MONOLITH, "stock", Operation.DELETE).key(Row.of("id", Value.of(8L)))
        .before(row(8, "s8", 8)).build());
    Collector collector = new Collector();
    try (KafkaPublisher publisher = new KafkaPublisher("kafka-out", Kafka.bootstrap(), prefix, "shop");
         Pipeline out = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(dir.resolve("out"))).build())
             .apply(publisher).start();
         Pipeline in = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(dir.resolve("in"))).build())
             .apply(collector).start();
         KafkaCapture capture = new KafkaCapture(Side.MONOLITH, Kafka.bootstrap(), "rt-" + prefix,
             List.of(KafkaPublisher.topic(prefix, Side.MONOLITH, "stock"),
                 KafkaPublisher.topic(prefix, Side.service("inventory"), "stock")))) {
      for (ChangeEvent e : sent) {
        out.publish(e).get();
      }
      assertTrue(out.awaitIdle(Duration.ofSeconds(30)), "Kafka acknowledged every record");
      capture.start(in);
      collector.await(sent.size());
    }
    List<ChangeEvent> received = collector.events;
    for (ChangeEvent e : sent) {
      ChangeEvent r = received.stream().filter(x -> x.key().equals(e.key()) && x.operation() == e.operation())
          .filter(x -> x.side().equals(e.side()))
          .findFirst().orElseThrow(() -> new AssertionError("lost: " + e));
      assertEquals(e.side(), r.side());
      assertEquals(e.before(), r.before());
      assertEquals(e.after(), r.after());
      assertEquals(e.changedColumns(), r.changedColumns());
      assertEquals(e.origin(), r.origin());
      assertEquals(e.position(), r.position(), "the source's position travels through Kafka");
    }
    List<Long> seven = received.stream().filter(x -> x.key().get("id").asLong() == 7 && x.side().isMonolith())
        .map(x -> x.after().get("qty").asLong()).toList();
    assertEquals(List.of(7L, 5L), seven, "one key's changes keep their order (one partition)");
    assertEquals(prefix + ".inventory.stock", KafkaPublisher.topic(prefix, Side.service("inventory"), "Stock"),
        "a side's table has a topic of its own");
  }

  @Test
  void aDebeziumTopicDrivesTheApplyStageAndOffsetsFollowTheJournal() throws Exception {
    String topic = "shop" + UUID.randomUUID().toString().substring(0, 6) + ".public.orders";
    Kafka.createTopics(2, topic);
    JdbcDataSource service = new JdbcDataSource();
    service.setURL("jdbc:h2:mem:kafka-dbz-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
    exec(service, "CREATE TABLE orders (id BIGINT PRIMARY KEY, status VARCHAR(12), total DECIMAL(10,2), "
        + "ref UUID, placed_on DATE, placed_at TIMESTAMP)");
    String source = "\"source\":{\"version\":\"2.7.0.Final\",\"connector\":\"postgresql\",\"name\":\"shop\","
        + "\"ts_ms\":1764000000000,\"db\":\"shop\",\"schema\":\"public\",\"table\":\"orders\",\"txId\":771,"
        + "\"lsn\":2403904}";
    List<String[]> records = List.of(
        new String[] {"{\"id\":1}", "{\"before\":null,\"after\":{\"id\":1,\"status\":\"new\",\"total\":\"19.90\","
            + "\"ref\":\"123e4567-e89b-12d3-a456-426614174000\",\"placed_on\":20416,\"placed_at\":"
            + "1764000000000000}," + source + ",\"op\":\"c\",\"ts_ms\":1764000000100}"},
        new String[] {"{\"id\":2}", "{\"before\":null,\"after\":{\"id\":2,\"status\":\"new\",\"total\":5,"
            + "\"ref\":null,\"placed_on\":null,\"placed_at\":null}," + source + ",\"op\":\"r\",\"ts_ms\":1}"},
        new String[] {"{\"id\":1}", "{\"before\":{\"id\":1,\"status\":\"new\",\"total\":\"19.90\",\"ref\":null,"
            + "\"placed_on\":null,\"placed_at\":null},\"after\":{\"id\":1,\"status\":\"paid\",\"total\":\"19.90\","
            + "\"ref\":\"123e4567-e89b-12d3-a456-426614174000\",\"placed_on\":20416,\"placed_at\":"
            + "1764000000000000}," + source + ",\"op\":\"u\",\"ts_ms\":2}"},
        new String[] {"{\"id\":2}", "{\"before\":{\"id\":2,\"status\":\"new\",\"total\":5,\"ref\":null,"
            + "\"placed_on\":null,\"placed_at\":null},\"after\":null," + source + ",\"op\":\"d\",\"ts_ms\":3}"},
        new String[] {"{\"id\":2}", null}); // Debezium's tombstone after a delete
    Properties p = new Properties();
    p.put("bootstrap.servers", Kafka.bootstrap());
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
        new ByteArraySerializer())) {
      for (String[] r : records) {
        producer.send(new ProducerRecord<>(topic, r[0].getBytes(StandardCharsets.UTF_8),
            r[1] == null ? null : r[1].getBytes(StandardCharsets.UTF_8))).get();
      }
    }
    String group = "dbz-" + UUID.randomUUID();
    try (JdbcApplier applier = JdbcApplier.builder("orders", service).source(Side.MONOLITH)
             .map(TableMapping.identity("orders")).build();
         Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(dir.resolve("dbz"))).build())
             .apply(applier).start();
         KafkaCapture capture = new KafkaCapture(Side.MONOLITH, Kafka.bootstrap(), group, List.of(topic))) {
      capture.start(pipeline);
      long deadline = System.nanoTime() + 60_000_000_000L;
      List<String> expected = List.of("1|paid|19.90|123e4567-e89b-12d3-a456-426614174000|2025-11-24|"
          + "2025-11-24 16:00:00");
      while (!rows(service, "SELECT * FROM orders ORDER BY id").equals(expected) && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertEquals(expected, rows(service, "SELECT * FROM orders ORDER BY id"));
      assertEquals(4, capture.published(), "the tombstone is not a change");
      long committed = 0;
      try (Admin admin = Admin.create(p)) {
        while (committed < records.size() && System.nanoTime() < deadline) {
          Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
              .partitionsToOffsetAndMetadata().get();
          committed = offsets.values().stream().mapToLong(OffsetAndMetadata::offset).sum();
          Thread.sleep(50);
        }
      }
      assertEquals(records.size(), committed, "every record's offset committed once it was journaled");
    }
    assertThrows(IllegalArgumentException.class, () -> DebeziumEnvelope.parse(null,
        "{\"op\":\"x\"}".getBytes(StandardCharsets.UTF_8), topic, 0, 0, Side.MONOLITH));
    assertThrows(IllegalArgumentException.class, () -> DebeziumEnvelope.parse(null,
        "not json".getBytes(StandardCharsets.UTF_8), topic, 0, 0, Side.MONOLITH));
    assertNull(DebeziumEnvelope.parse(null, null, topic, 0, 0, Side.MONOLITH));
  }
}
