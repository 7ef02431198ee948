/**
 * Kafka as a change-stream transport and the way engine instances share a migration:
 * {@link io.cutover.engine.kafka.KafkaPublisher} publishes journaled changes to a topic per side and table, keyed by
 * primary key, in a Debezium-compatible JSON envelope ({@link io.cutover.engine.kafka.DebeziumEnvelope}) with
 * Cutover's own fields beside it; {@link io.cutover.engine.kafka.KafkaCapture} consumes such topics (Cutover's, or
 * an existing Debezium connector's) into a pipeline, committing offsets only once every stage handled the changes;
 * {@link io.cutover.engine.kafka.ServiceAssignor} gives each instance of a consumer group whole services;
 * {@link io.cutover.engine.kafka.KafkaStateChangelog} keeps a bi-directional sync's state in a compacted topic so
 * another instance can take the service over; {@link io.cutover.engine.kafka.KafkaTopics} creates the topics.
 */
package io.cutover.engine.kafka;
