package io.cutover.journal.internal;

import java.util.zip.CRC32C;

/**
 * The framing of one record inside a Chronicle document: {@code int crc32c, int length, byte[length] payload}.
 * Chronicle's own header already carries the document length and its completeness; the CRC catches damage to
 * the payload, and the repeated length catches a header that points at the wrong bytes.
 */
final class RecordFormat {
  static final int HEADER_BYTES = 8;

  private RecordFormat() {}

  static int checksum(CRC32C crc, byte[] bytes, int length) {
    crc.reset();
    crc.update(bytes, 0, length);
    return (int) crc.getValue();
  }

  static String describe(long index) {
    return index + " (0x" + Long.toHexString(index) + ")";
  }
}
