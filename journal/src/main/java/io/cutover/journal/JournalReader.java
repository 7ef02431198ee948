package io.cutover.journal;

/**
 * Reads records in index order, tailing the journal as it grows. NOT thread-safe: one thread per reader.
 */
public interface JournalReader extends AutoCloseable {

  /**
   * Reads the next record, if one has been appended.
   *
   * @param handler called once with the record when there is one.
   * @return true if a record was handed over; false if the reader is at the end for now.
   * @throws JournalCorruptedException if the next record is damaged and not quarantined; the reader stays
   *     before it, so retrying fails the same way.
   */
  boolean next(RecordHandler handler);

  /**
   * The index of the last record handed over, or the position given when the reader was opened.
   *
   * @return an index or {@link Journal#NO_INDEX}.
   */
  long lastReadIndex();

  @Override
  void close();
}
