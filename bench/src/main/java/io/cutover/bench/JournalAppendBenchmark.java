package io.cutover.bench;

import io.cutover.journal.Journal;
import io.cutover.journal.JournalConfig;
import io.cutover.journal.SyncPolicy;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import org.agrona.ExpandableArrayBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Appending one encoded change (234 bytes) to the journal, against writing the same bytes with a plain
 * FileChannel write per record (baseline). With BATCH the journal forces to disk every 64 records, as the
 * pipeline does at the end of a batch.
 */
@BenchmarkMode({Mode.Throughput, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
@State(Scope.Thread)
public class JournalAppendBenchmark {
  private static final int BATCH = 64;

  @Param({"NONE", "BATCH"})
  public String syncPolicy;

  private Path dir;
  private Journal journal;
  private FileChannel plain;
  private ExpandableArrayBuffer record;
  private ByteBuffer plainRecord;
  private int length;
  private int inBatch;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    dir = BenchEvents.tempDir("bench-journal");
    record = BenchEvents.encodedOrderUpdate(42);
    length = BenchEvents.length(record);
    journal = Journal.open(JournalConfig.builder(dir.resolve("journal"))
        .syncPolicy(SyncPolicy.valueOf(syncPolicy)).build());
    plain = FileChannel.open(dir.resolve("plain.log"), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.APPEND);
    byte[] bytes = new byte[length];
    record.getBytes(0, bytes);
    plainRecord = ByteBuffer.allocateDirect(length);
    plainRecord.put(bytes).flip();
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    journal.close();
    plain.close();
    BenchEvents.delete(dir);
  }

  /**
   * Append to the Chronicle journal.
   *
   * @return the index.
   */
  @Benchmark
  public long journalAppend() {
    long index = journal.append(record, 0, length);
    if (++inBatch == BATCH) {
      inBatch = 0;
      journal.flush();
    }
    return index;
  }

  /**
   * Write the same bytes with FileChannel, forcing every 64 records under BATCH (baseline).
   *
   * @return bytes written.
   * @throws IOException on failure.
   */
  @Benchmark
  public int fileChannelWrite() throws IOException {
    plainRecord.rewind();
    int written = plain.write(plainRecord);
    if (++inBatch == BATCH) {
      inBatch = 0;
      if (!"NONE".equals(syncPolicy)) {
        plain.force(false);
      }
    }
    return written;
  }
}
