package io.cutover.journal;

/**
 * A journal record is damaged (checksum mismatch, impossible length) or a journal file cannot be read. The
 * message names the directory, the index and what to do; {@link #index()} gives the record.
 */
public final class JournalCorruptedException extends JournalException {
  private static final long serialVersionUID = 1L;
  private final long index;

  /**
   * Creates an exception.
   *
   * @param message naming the directory, the index and what to do.
   * @param index of the damaged record, or {@link Journal#NO_INDEX} when no single record is to blame.
   */
  public JournalCorruptedException(String message, long index) {
    super(message);
    this.index = index;
  }

  /**
   * The damaged record's index.
   *
   * @return an index, or {@link Journal#NO_INDEX}.
   */
  public long index() {
    return index;
  }
}
