package io.cutover.engine.event;

import java.util.Objects;

/**
 * Where a change sits in its source, so a restart knows where to resume.
 *
 * @param kind what the position counts.
 * @param value the LSN, trigger sequence or Kafka offset.
 * @param topic the Kafka topic, or empty.
 * @param partition the Kafka partition, or 0.
 */
public record SourcePosition(Kind kind, long value, String topic, int partition) {
  /** No position (a change published by an application). */
  public static final SourcePosition NONE = new SourcePosition(Kind.NONE, 0L, "", 0);

  /** What a position counts; the byte code is part of the journal format. */
  public enum Kind {
    /** No position. */
    NONE,
    /** A PostgreSQL log sequence number. */
    LSN,
    /** A trigger-capture change-table sequence number. */
    TRIGGER_SEQUENCE,
    /** A Kafka partition offset. */
    KAFKA
  }

  /** Validates the fields. */
  public SourcePosition {
    Objects.requireNonNull(kind, "position kind");
    topic = topic == null ? "" : topic;
  }

  /**
   * A PostgreSQL LSN.
   *
   * @param lsn the log sequence number.
   * @return the position.
   */
  public static SourcePosition lsn(long lsn) {
    return new SourcePosition(Kind.LSN, lsn, "", 0);
  }

  /**
   * A trigger change-table sequence number.
   *
   * @param sequence the sequence number.
   * @return the position.
   */
  public static SourcePosition triggerSequence(long sequence) {
    return new SourcePosition(Kind.TRIGGER_SEQUENCE, sequence, "", 0);
  }

  /**
   * A Kafka offset.
   *
   * @param topic the topic.
   * @param partition the partition.
   * @param offset the offset.
   * @return the position.
   */
  public static SourcePosition kafka(String topic, int partition, long offset) {
    return new SourcePosition(Kind.KAFKA, offset, Objects.requireNonNull(topic, "topic"), partition);
  }
}
