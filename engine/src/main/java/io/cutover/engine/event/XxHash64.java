package io.cutover.engine.event;

import java.nio.ByteOrder;
import org.agrona.DirectBuffer;

/**
 * xxHash64 (Yann Collet's specification) over a region of a buffer. Fast, well distributed and allocation-free;
 * used for key hashes and row checksums. Thread-safe (stateless).
 */
public final class XxHash64 {
  private static final long P1 = 0x9E3779B185EBCA87L;
  private static final long P2 = 0xC2B2AE3D27D4EB4FL;
  private static final long P3 = 0x165667B19E3779F9L;
  private static final long P4 = 0x85EBCA77C2B2AE63L;
  private static final long P5 = 0x27D4EB2F165667C5L;
  private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

  private XxHash64() {}

  /**
   * Hashes {@code length} bytes from {@code offset}.
   *
   * @param buffer the bytes.
   * @param offset of the first byte.
   * @param length how many bytes.
   * @param seed the seed (0 for the reference hash).
   * @return the 64-bit hash.
   */
  public static long hash(DirectBuffer buffer, int offset, int length, long seed) {
    int end = offset + length;
    int p = offset;
    long h;
    if (length >= 32) {
      long v1 = seed + P1 + P2;
      long v2 = seed + P2;
      long v3 = seed;
      long v4 = seed - P1;
      int limit = end - 32;
      do {
        v1 = round(v1, buffer.getLong(p, LE));
        v2 = round(v2, buffer.getLong(p + 8, LE));
        v3 = round(v3, buffer.getLong(p + 16, LE));
        v4 = round(v4, buffer.getLong(p + 24, LE));
        p += 32;
      } while (p <= limit);
      h = Long.rotateLeft(v1, 1) + Long.rotateLeft(v2, 7) + Long.rotateLeft(v3, 12) + Long.rotateLeft(v4, 18);
      h = merge(h, v1);
      h = merge(h, v2);
      h = merge(h, v3);
      h = merge(h, v4);
    } else {
      h = seed + P5;
    }
    h += length;
    while (p + 8 <= end) {
      h ^= round(0, buffer.getLong(p, LE));
      h = Long.rotateLeft(h, 27) * P1 + P4;
      p += 8;
    }
    if (p + 4 <= end) {
      h ^= (buffer.getInt(p, LE) & 0xFFFFFFFFL) * P1;
      h = Long.rotateLeft(h, 23) * P2 + P3;
      p += 4;
    }
    while (p < end) {
      h ^= (buffer.getByte(p) & 0xFFL) * P5;
      h = Long.rotateLeft(h, 11) * P1;
      p++;
    }
    h ^= h >>> 33;
    h *= P2;
    h ^= h >>> 29;
    h *= P3;
    h ^= h >>> 32;
    return h;
  }

  private static long round(long acc, long input) {
    return Long.rotateLeft(acc + input * P2, 31) * P1;
  }

  private static long merge(long acc, long v) {
    return (acc ^ round(0, v)) * P1 + P4;
  }
}
