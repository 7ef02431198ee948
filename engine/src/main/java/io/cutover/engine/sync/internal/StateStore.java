package io.cutover.engine.sync.internal;

import io.cutover.engine.event.ChangeEventProtos;
import io.cutover.engine.event.Row;
import io.cutover.engine.sync.Conflict;
import io.cutover.journal.Journal;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;

/**
 * Sync's durable state in an H2 MVStore file: what is known of each row, the conflict log, the parked rows and
 * the last journal index whose effects are in both databases. A batch's changes become durable together with
 * its journal index in one {@link #commit} (or are discarded together by {@link #rollback}); so after a crash
 * the batches since are decided again from the same state, identically, and the databases' positions skip the
 * writes they already hold. A batch that only moved rows' states may leave its store commit to a later batch (at
 * most {@link #POSITION_EVERY_NANOS} later): a store commit writes every B-tree page the batch touched, which for
 * small batches of scattered keys cost more than deciding them.
 */
public final class StateStore implements AutoCloseable {
  private final MVStore store;
  private final MVMap<byte[], byte[]> rows;
  private final MVMap<Long, byte[]> conflicts;
  private final MVMap<Long, byte[]> parked;
  private final MVMap<String, Long> meta;
  private final MVMap<String, String> paused;
  private final MVMap<Long, byte[]> held;
  private final int maxConflicts;
  private final Path file;
  private long commits;
  /** While a changelog is kept: every map entry set or removed since the last commit, in order. */
  private List<io.cutover.engine.sync.StateChangelog.Entry> changes;
  private static final int COMPACT_EVERY = 100;
  /** The longest time between two forced writes of the state store. */
  static final long SYNC_EVERY_NANOS = 100_000_000L;
  private long lastSync = System.nanoTime() - SYNC_EVERY_NANOS;
  /**
   * A batch that changed nothing here moves the stored position at most this often: replaying from an older
   * position only repeats writes the databases' own positions skip, so a one-way table costs no store commit per
   * batch (a commit writes a chunk), while a restart still replays at most this much.
   */
  public static final long POSITION_EVERY_NANOS = 1_000_000_000L;
  private long lastPositionWrite = System.nanoTime() - POSITION_EVERY_NANOS;
  /** The position of the last batch whose store commit waits (written on close); or NO_INDEX. */
  private long unwrittenPosition = Journal.NO_INDEX;
  /** Whether batches whose store commit waits changed the maps: a failed batch then undoes its own entries. */
  private boolean waiting;
  /**
   * While {@link #waiting}: what the batch under way replaced in the maps, in order (to undo it on rollback), as
   * map, key, old value, map, key, ...: one array reused from batch to batch, nothing allocated per entry.
   */
  private Object[] undo = new Object[3 * 256];
  /** How many slots of {@link #undo} the batch under way has filled. */
  private int undoSize;
  /** Waiting batches may hold this much changed B-tree memory before the store commits anyway. */
  private static final int MAX_WAITING_BYTES = 16 << 20;
  /** Whether a commit since the last sync is not forced to disk yet. */
  private boolean unsynced;
  /** The changelog's map names. */
  public static final String ROWS = "rows";
  static final String PARKED = "parked";
  static final String CONFLICTS = "conflicts";
  static final String PAUSED = "paused";
  static final String HELD = "held";

  /**
   * Opens (or creates) a store.
   *
   * @param file the store's file.
   * @param maxConflicts how many conflicts the log keeps (the oldest resolved ones go first).
   * @throws IOException if the directory cannot be created.
   */
  public StateStore(Path file, int maxConflicts) throws IOException {
    io.cutover.journal.PrivateDirectories.create(file.toAbsolutePath().getParent()); // rows' values: owner only
    healAfterCrash(file);
    // No auto-commit, and no auto-commit buffer either: with the default buffer MVStore writes a version of its own
    // once a batch has changed about 20 MB, which neither a rollback nor a kill before the commit can take back, so
    // part of a big batch (the catch-up after a restart) would stay with the old journal index. A batch is held in
    // memory until commit writes it whole.
    this.store = new MVStore.Builder().fileName(file.toString()).autoCommitDisabled().autoCommitBufferSize(0)
        .open();
    // Each commit writes a new chunk; without the background writer nothing reclaims old ones, and the file grew
    // by about 100 KiB per batch. Chunks with no live data may be reused at once (every batch is forced to disk
    // before the next starts), and sparse chunks are rewritten now and then (see commit).
    store.setRetentionTime(0);
    this.rows = store.openMap("rows");
    this.conflicts = store.openMap("conflicts");
    this.parked = store.openMap("parked");
    this.meta = store.openMap("meta");
    this.paused = store.openMap("paused");
    this.held = store.openMap("held");
    this.maxConflicts = maxConflicts;
    this.file = file;
    // Commit the maps' creation: a rollback before the first batch commits would otherwise close them.
    store.commit();
  }

  /**
   * A file the process was killed with (not closed cleanly) gets its live data copied into a fresh file before it is
   * used. H2 2.5.252 reopens such a file one commit back (the journal replays that batch), but its stored chunk list
   * may still name a chunk the lost commit overwrote; the first rollback, or a clean close and reopen, then fell
   * back to the maps' creation and every read after failed with {@code Chunk N not found}. A fresh copy has no such
   * entry. It costs one copy of the live state, after a crash only.
   */
  private static void healAfterCrash(Path file) throws IOException {
    if (!Files.exists(file) || Files.size(file) == 0) {
      return;
    }
    boolean clean;
    MVStore probe = new MVStore.Builder().fileName(file.toString()).readOnly().open();
    try {
      clean = probe.getStoreHeader().get("clean") != null;
    } finally {
      probe.close();
    }
    if (!clean) {
      org.h2.mvstore.MVStoreTool.compact(file.toString(), false); // into <file>.tempFile, then replaced
    }
  }

  /**
   * The key a row is stored under: the table and the primary key, columns in name order.
   *
   * @param table the monolith's table.
   * @param key the primary key.
   * @return the store key.
   */
  public static byte[] rowKey(String table, Row key) {
    Row sorted = key;
    if (key.size() > 1) { // a one-column key is in order already
      Row.Builder builder = Row.builder();
      key.columns().entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> builder.put(e.getKey(),
          e.getValue()));
      sorted = builder.build();
    }
    byte[] name = (table + '\0').getBytes(StandardCharsets.UTF_8);
    byte[] value = ChangeEventProtos.toProto(sorted).toByteArray();
    byte[] out = new byte[name.length + value.length];
    System.arraycopy(name, 0, out, 0, name.length);
    System.arraycopy(value, 0, out, name.length, value.length);
    return out;
  }

  /**
   * What is known of a row. Shared with the store's cache of recent rows: read it, never change it (the
   * {@link Reconciler} changes a copy).
   *
   * @param rowKey from {@link #rowKey}.
   * @return the state, or null.
   */
  public RowState get(byte[] rowKey) {
    Key key = new Key(rowKey);
    RowState cached = recent.get(key);
    if (cached != null) {
      return cached == ABSENT ? null : cached;
    }
    byte[] bytes = rows.get(rowKey);
    RowState state = bytes == null ? null : StateCodec.decodeState(bytes);
    recent.put(key, state == null ? ABSENT : state);
    return state;
  }

  /** A row key with value equality, for the cache of recent rows. */
  private record Key(byte[] bytes) {
    @Override
    public boolean equals(Object other) {
      return other instanceof Key k && java.util.Arrays.equals(bytes, k.bytes);
    }

    @Override
    public int hashCode() {
      return java.util.Arrays.hashCode(bytes);
    }
  }

  private static final RowState ABSENT = new RowState();
  private static final int RECENT_ROWS = 50_000;
  /** The rows read or written lately, decoded (hot rows skip the store's B-tree and the decoding). */
  private final Map<Key, RowState> recent = new java.util.LinkedHashMap<>(1 << 12, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Key, RowState> eldest) {
      return size() > RECENT_ROWS;
    }
  };

  /**
   * Records what is known of a row (uncommitted until {@link #commit}).
   *
   * @param rowKey from {@link #rowKey}.
   * @param state the state, no longer changed once put (kept in the cache of recent rows as it is).
   */
  public void put(byte[] rowKey, RowState state) {
    byte[] bytes = StateCodec.encode(state);
    set(rows, rowKey, bytes);
    recent.put(new Key(rowKey), state);
    changed(ROWS, rowKey, bytes);
    if (state.parked != 0) {
      set(parked, state.parked, rowKey);
      changed(PARKED, id(state.parked), rowKey);
    }
  }

  /** Sets (or, for null, removes) an entry, noting what it replaced while earlier batches wait uncommitted. */
  private <K, V> void set(MVMap<K, V> map, K key, V value) {
    V old = value == null ? map.remove(key) : map.put(key, value);
    if (waiting) {
      if (undoSize + 3 > undo.length) {
        undo = java.util.Arrays.copyOf(undo, undo.length * 2);
      }
      undo[undoSize++] = map;
      undo[undoSize++] = key;
      undo[undoSize++] = old;
    }
  }

  /** Forgets the batch under way's undo entries (it committed, waits, or was taken back). */
  private void clearUndo() {
    java.util.Arrays.fill(undo, 0, undoSize, null);
    undoSize = 0;
  }

  /**
   * The row a parked conflict holds.
   *
   * @param conflictId the conflict.
   * @return the row's store key, or null if that conflict is not parked here.
   */
  public byte[] parkedRow(long conflictId) {
    return parked.get(conflictId);
  }

  /**
   * Releases a parked row.
   *
   * @param conflictId the conflict.
   */
  public void unpark(long conflictId) {
    set(parked, conflictId, null);
    changed(PARKED, id(conflictId), null);
  }

  /**
   * Records (or updates) a conflict in the log, dropping the oldest entries beyond the limit (never a parked
   * one).
   *
   * @param conflict the conflict.
   */
  public void record(Conflict conflict) {
    byte[] bytes = StateCodec.encode(conflict);
    set(conflicts, conflict.id(), bytes);
    changed(CONFLICTS, id(conflict.id()), bytes);
    Iterator<Long> oldest = conflicts.keyIterator(null);
    while (conflicts.sizeAsLong() > maxConflicts && oldest.hasNext()) {
      Long id = oldest.next();
      if (!parked.containsKey(id)) {
        set(conflicts, id, null);
        changed(CONFLICTS, id(id), null);
      }
    }
  }

  /**
   * A conflict by id.
   *
   * @param id the id.
   * @return the conflict, or null.
   */
  public Conflict conflict(long id) {
    byte[] bytes = conflicts.get(id);
    return bytes == null ? null : StateCodec.decodeConflict(bytes);
  }

  /**
   * The most recent conflicts, newest first.
   *
   * @param limit the most to return.
   * @return the conflicts.
   */
  public List<Conflict> recentConflicts(int limit) {
    List<Conflict> out = new ArrayList<>();
    Long id = conflicts.lastKey();
    while (id != null && out.size() < limit) {
      byte[] bytes = conflicts.get(id);
      if (bytes != null) {
        out.add(StateCodec.decodeConflict(bytes));
      }
      id = conflicts.lowerKey(id);
    }
    return out;
  }

  /**
   * The parked conflicts, oldest first.
   *
   * @return the conflicts.
   */
  public List<Conflict> parkedConflicts() {
    List<Conflict> out = new ArrayList<>();
    for (Long id : new ArrayList<>(parked.keySet())) {
      Conflict c = conflict(id);
      if (c != null) {
        out.add(c);
      }
    }
    out.sort(Comparator.comparingLong(Conflict::id));
    return out;
  }

  /**
   * Pauses a table's sync (schema drift).
   *
   * @param table the monolith's table.
   * @param reason what does not fit.
   */
  public void pause(String table, String reason) {
    set(paused, table, reason);
    changed(PAUSED, table.getBytes(StandardCharsets.UTF_8), reason.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Resumes a table's sync.
   *
   * @param table the monolith's table.
   */
  public void unpause(String table) {
    set(paused, table, null);
    changed(PAUSED, table.getBytes(StandardCharsets.UTF_8), null);
  }

  /**
   * Whether a table's sync is paused.
   *
   * @param table the monolith's table.
   * @return true if paused.
   */
  public boolean isPaused(String table) {
    return paused.containsKey(table);
  }

  /**
   * Whether no table is paused and no change is held (their release depends on when schemas are read, so batches
   * around them are not decided again after a crash: see {@link #commit}).
   *
   * @return true if none.
   */
  public boolean holdsNothing() {
    return paused.isEmpty() && held.isEmpty();
  }

  /**
   * The paused tables and why.
   *
   * @return table to reason.
   */
  public Map<String, String> paused() {
    return new java.util.TreeMap<>(paused);
  }

  /**
   * Holds a change of a paused table until its sync resumes.
   *
   * @param journalIndex the change's journal index.
   * @param event the change (monolith's names).
   */
  public void hold(long journalIndex, io.cutover.engine.event.ChangeEvent event) {
    byte[] bytes = io.cutover.engine.event.ChangeEventProtos.toProto(event).toByteArray();
    set(held, journalIndex, bytes);
    changed(HELD, id(journalIndex), bytes);
  }

  /**
   * The held changes of a table, in journal order.
   *
   * @param table the monolith's table.
   * @return journal index to change.
   */
  public java.util.SortedMap<Long, io.cutover.engine.event.ChangeEvent> held(String table) {
    java.util.SortedMap<Long, io.cutover.engine.event.ChangeEvent> out = new java.util.TreeMap<>();
    for (Map.Entry<Long, byte[]> entry : held.entrySet()) {
      io.cutover.engine.event.ChangeEvent event;
      try {
        event = io.cutover.engine.event.ChangeEventProtos.fromProto(
            io.cutover.proto.v1.ChangeEvent.parseFrom(entry.getValue()));
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        throw new IllegalStateException("sync state store holds a damaged held change at journal index "
            + entry.getKey(), e);
      }
      if (event.table().equals(table)) {
        out.put(entry.getKey(), event);
      }
    }
    return out;
  }

  /**
   * Drops a held change once it is applied.
   *
   * @param journalIndex its journal index.
   */
  public void release(long journalIndex) {
    set(held, journalIndex, null);
    changed(HELD, id(journalIndex), null);
  }

  /**
   * How many changes are held.
   *
   * @return the count.
   */
  public long heldCount() {
    return held.sizeAsLong();
  }

  /**
   * The last journal index whose effects are committed: every change up to it is decided here. Batches whose
   * commit may wait move it at most every {@link #POSITION_EVERY_NANOS}, so it may be behind by their changes.
   *
   * @return the index, or {@link Journal#NO_INDEX}.
   */
  public long position() {
    Long position = meta.get("position");
    return position == null ? Journal.NO_INDEX : position;
  }

  /**
   * Makes the batch durable with its journal index: written to the file at once (survives a process crash);
   * forced to disk at most every {@link #SYNC_EVERY_NANOS} (a power loss can lose the last fraction of a second
   * of state, which the journal replays from {@link #position()}: the sync re-decides those changes identically
   * and the databases' positions skip the writes they already hold).
   *
   * <p>A batch that changed no state (rows mirrored one way), or that may wait, is not written yet when the last
   * write was less than {@link #POSITION_EVERY_NANOS} ago and the waiting changes are small: a later commit writes
   * it. After a crash the journal replays from the older position; the batches since are decided again from the
   * same state and the same changes, so identically, and the databases' positions skip their writes. A batch may
   * wait only if its decisions depend on nothing else: no conflict left to a custom resolver (which may read the
   * clock) or parked, no operator's resolution or control, no paused table or held change (released when the
   * schemas are read). Conflicts its tables' rules resolved are decided and recorded again alike (a conflict's
   * record is keyed by its change's clock).
   *
   * @param position the last journal index of the batch.
   * @param sync whether to force the file to disk (survives a power loss, not only a process crash).
   * @param mayWait whether this batch's decisions depend on its changes and the state only.
   */
  public void commit(long position, boolean sync, boolean mayWait) {
    long now = System.nanoTime();
    boolean changed = store.hasUnsavedChanges();
    if ((mayWait || !changed) && now - lastPositionWrite < POSITION_EVERY_NANOS
        && store.getUnsavedMemory() < MAX_WAITING_BYTES) {
      unwrittenPosition = position;
      waiting = changed;
      clearUndo();
      syncIfDue(sync, now);
      return;
    }
    meta.put("position", position);
    lastPositionWrite = now;
    store.commit(); // if this fails, rollback takes back this batch only (or everything, when nothing was waiting)
    waiting = false;
    clearUndo();
    unwrittenPosition = Journal.NO_INDEX;
    unsynced = true;
    syncIfDue(sync, now);
    if (changes != null) {
      changes.clear();
    }
    if (++commits % COMPACT_EVERY == 0) {
      // Rewrite chunks less than half full (at most 4 MiB a time), so the file stays near its live size.
      store.compact(50, 4 << 20);
      store.commit();
    }
  }

  /** Forces what is committed to disk if asked and due (at most every {@link #SYNC_EVERY_NANOS}). */
  private void syncIfDue(boolean sync, long now) {
    if (sync && unsynced && now - lastSync >= SYNC_EVERY_NANOS) {
      store.sync();
      lastSync = now;
      unsynced = false;
    }
  }

  /**
   * The store file's size.
   *
   * @return bytes.
   * @throws IOException if the file cannot be read.
   */
  public long fileBytes() throws IOException {
    return Files.size(file);
  }

  /**
   * Makes the batch durable with its journal index; see {@link #commit(long, boolean, boolean)}.
   *
   * @param position the last journal index of the batch.
   * @param sync whether to force the file to disk.
   */
  public void commit(long position, boolean sync) {
    commit(position, sync, false);
  }

  /** Discards the batch under way: everything since the last call of {@link #commit}. */
  public void rollback() {
    if (waiting) {
      for (int i = undoSize - 3; i >= 0; i -= 3) {
        @SuppressWarnings("unchecked")
        MVMap<Object, Object> map = (MVMap<Object, Object>) undo[i];
        if (undo[i + 2] == null) {
          map.remove(undo[i + 1]);
        } else {
          map.put(undo[i + 1], undo[i + 2]);
        }
      }
      clearUndo();
    } else {
      store.rollback();
    }
    recent.clear();
    if (changes != null) {
      changes.clear();
    }
  }

  /** Starts recording every change for a changelog ({@link #changes}). */
  public void keepChanges() {
    if (changes == null) {
      changes = new ArrayList<>();
    }
  }

  /**
   * The entries set or removed since the last call (or commit), for the changelog; cleared.
   *
   * @return the entries, in order.
   */
  public List<io.cutover.engine.sync.StateChangelog.Entry> takeChanges() {
    List<io.cutover.engine.sync.StateChangelog.Entry> out = List.copyOf(changes);
    changes.clear();
    return out;
  }

  /**
   * Replaces the whole state with a changelog's: every map is cleared and the entries are applied in order; held
   * changes keep their order under new small keys (below any journal index of this instance); the journal position
   * is forgotten (this instance's journal holds nothing of it). Committed.
   *
   * @param entries the changelog, oldest first.
   */
  public void restore(List<io.cutover.engine.sync.StateChangelog.Entry> entries) {
    recent.clear();
    rows.clear();
    parked.clear();
    conflicts.clear();
    paused.clear();
    held.clear();
    meta.remove("position");
    unwrittenPosition = Journal.NO_INDEX; // a position of the journal before the restore is not this state's
    waiting = false;
    clearUndo();
    java.util.TreeMap<Long, byte[]> heldByIndex = new java.util.TreeMap<>();
    for (io.cutover.engine.sync.StateChangelog.Entry e : entries) {
      switch (e.map()) {
        case ROWS -> put(rows, e.key(), e.value());
        case PARKED -> put(parked, id(e.key()), e.value());
        case CONFLICTS -> put(conflicts, id(e.key()), e.value());
        case PAUSED -> put(paused, new String(e.key(), StandardCharsets.UTF_8),
            e.value() == null ? null : new String(e.value(), StandardCharsets.UTF_8));
        case HELD -> put(heldByIndex, id(e.key()), e.value());
        default -> {
          // the pending batch is the caller's
        }
      }
    }
    long n = 0;
    for (byte[] change : heldByIndex.values()) {
      held.put(++n, change);
    }
    store.commit();
    if (changes != null) {
      changes.clear();
    }
  }

  private static <K, V> void put(Map<K, V> map, K key, V value) {
    if (value == null) {
      map.remove(key);
    } else {
      map.put(key, value);
    }
  }

  private void changed(String map, byte[] key, byte[] value) {
    if (changes != null) {
      changes.add(new io.cutover.engine.sync.StateChangelog.Entry(map, key, value));
    }
  }

  private static byte[] id(long id) {
    return java.nio.ByteBuffer.allocate(Long.BYTES).putLong(id).array();
  }

  private static long id(byte[] bytes) {
    return java.nio.ByteBuffer.wrap(bytes).getLong();
  }

  @Override
  public void close() {
    if (undoSize > 0 || (!waiting && store.hasUnsavedChanges())) {
      rollback(); // a batch under way is not kept (closing would write it); batches that wait are
    }
    if (unwrittenPosition != Journal.NO_INDEX) {
      meta.put("position", unwrittenPosition); // a clean stop resumes right after the last batch
      store.commit();
    }
    store.close(); // closing writes and forces what is committed
  }
}
