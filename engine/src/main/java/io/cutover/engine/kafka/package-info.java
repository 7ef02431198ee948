/**
 * Kafka as a change-stream transport: {@link io.cutover.engine.kafka.KafkaPublisher} publishes journaled changes
 * to a topic per table, keyed by primary key, in a Debezium-compatible JSON envelope
 * ({@link io.cutover.engine.kafka.DebeziumEnvelope}) with Cutover's own fields beside it;
 * {@link io.cutover.engine.kafka.KafkaCapture} consumes such topics (Cutover's, or an existing Debezium
 * connector's) into a pipeline, committing offsets only once the changes are durable in the journal.
 */
package io.cutover.engine.kafka;
