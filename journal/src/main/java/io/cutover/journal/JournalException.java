package io.cutover.journal;

/** A journal operation failed; the message says what and where. */
public class JournalException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception.
   *
   * @param message naming what failed and where.
   */
  public JournalException(String message) {
    super(message);
  }

  /**
   * Creates an exception with a cause.
   *
   * @param message naming what failed and where.
   * @param cause the underlying failure.
   */
  public JournalException(String message, Throwable cause) {
    super(message, cause);
  }
}
