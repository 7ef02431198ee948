package io.cutover.engine.pipeline;

import io.cutover.engine.event.ChangeEvent;
import io.cutover.journal.Journal;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * A file-backed sink that stores the journal index with each effect (one line per change: index, key, event
 * number) and reports the highest as its durable position: the same contract a database apply keeps.
 */
final class LedgerSink implements ChangeHandler, AutoCloseable {
  record Entry(long journalIndex, long key, long eventNo) {}

  private final String name;
  private final FileChannel channel;
  private final StringBuilder batch = new StringBuilder();
  private final long durablePosition;

  LedgerSink(String name, Path file) throws IOException {
    this.name = name;
    List<Entry> entries = read(file);
    this.durablePosition = entries.isEmpty() ? Journal.NO_INDEX : entries.get(entries.size() - 1).journalIndex();
    this.channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    channel.truncate(validLength(file));
    channel.position(channel.size());
  }

  /** Every complete line of a ledger; a line torn by a crash is ignored. */
  static List<Entry> read(Path file) throws IOException {
    List<Entry> entries = new ArrayList<>();
    if (!Files.exists(file)) {
      return entries;
    }
    String text = Files.readString(file, StandardCharsets.UTF_8);
    int end = text.lastIndexOf('\n');
    if (end < 0) {
      return entries;
    }
    for (String line : text.substring(0, end).split("\n")) {
      String[] parts = line.split(" ");
      entries.add(new Entry(Long.parseLong(parts[0]), Long.parseLong(parts[1]), Long.parseLong(parts[2])));
    }
    return entries;
  }

  private static long validLength(Path file) throws IOException {
    if (!Files.exists(file)) {
      return 0;
    }
    byte[] bytes = Files.readAllBytes(file);
    int end = bytes.length;
    while (end > 0 && bytes[end - 1] != '\n') {
      end--;
    }
    return end;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public long durablePosition() {
    return durablePosition;
  }

  @Override
  public void onChange(ChangeRecord change) {
    ChangeEvent event = change.decode();
    batch.append(change.journalIndex()).append(' ')
        .append(event.key().get("id").asLong()).append(' ')
        .append(event.after() == null ? -1 : event.after().get("n").asLong()).append('\n');
  }

  @Override
  public void onBatchEnd() throws IOException {
    ByteBuffer bytes = ByteBuffer.wrap(batch.toString().getBytes(StandardCharsets.UTF_8));
    while (bytes.hasRemaining()) {
      channel.write(bytes);
    }
    batch.setLength(0);
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
