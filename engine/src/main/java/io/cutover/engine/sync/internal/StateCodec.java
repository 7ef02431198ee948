package io.cutover.engine.sync.internal;

import io.cutover.engine.apply.Write;
import io.cutover.engine.event.ChangeEventProtos;
import io.cutover.engine.event.Row;
import io.cutover.engine.sync.Conflict;
import io.cutover.proto.v1.ConflictKind;
import io.cutover.proto.v1.ConflictOutcome;
import com.google.protobuf.InvalidProtocolBufferException;
import java.util.ArrayList;
import java.util.List;

/** Row states and conflicts to and from their protobuf form (what the state store holds). */
public final class StateCodec {
  private StateCodec() {}

  /**
   * Encodes a row state.
   *
   * @param state the state.
   * @return its bytes.
   */
  public static byte[] encode(RowState state) {
    io.cutover.proto.v1.RowState.Builder out = io.cutover.proto.v1.RowState.newBuilder()
        .setDeleted(state.row == null).setRowHlc(state.rowHlc).setParked(state.parked)
        .setMonolithPosition(state.monolithPosition).setServicePosition(state.servicePosition)
        .setMonolithTransaction(state.monolithTransaction).setServiceTransaction(state.serviceTransaction);
    if (!state.sentMonolith.isEmpty()) {
      out.setSentMonolith(ChangeEventProtos.toProto(RowState.overlay(null, state.sentMonolith)));
    }
    if (!state.sentService.isEmpty()) {
      out.setSentService(ChangeEventProtos.toProto(RowState.overlay(null, state.sentService)));
    }
    if (state.row == null && state.lastRow != null) {
      out.setLastRow(ChangeEventProtos.toProto(state.lastRow));
    }
    if (state.row != null) {
      out.setRow(ChangeEventProtos.toProto(state.row));
      for (String column : state.row.names()) {
        out.addColumnHlc(state.hlc(column));
      }
    }
    if (state.parked != 0) {
      out.setParkedMonolithDeleted(state.parkedMonolith == null).setParkedServiceDeleted(state.parkedService == null);
      if (state.parkedMonolith != null) {
        out.setParkedMonolith(ChangeEventProtos.toProto(state.parkedMonolith));
      }
      if (state.parkedService != null) {
        out.setParkedService(ChangeEventProtos.toProto(state.parkedService));
      }
    }
    return out.build().toByteArray();
  }

  /**
   * Decodes a row state.
   *
   * @param bytes what {@link #encode(RowState)} wrote.
   * @return the state.
   * @throws IllegalStateException if the bytes are not a row state (a damaged state store).
   */
  public static RowState decodeState(byte[] bytes) {
    io.cutover.proto.v1.RowState in;
    try {
      in = io.cutover.proto.v1.RowState.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("sync state store holds a damaged row state: " + e.getMessage(), e);
    }
    RowState state = new RowState();
    state.rowHlc = in.getRowHlc();
    state.parked = in.getParked();
    state.monolithPosition = in.getMonolithPosition();
    state.servicePosition = in.getServicePosition();
    state.monolithTransaction = in.getMonolithTransaction();
    state.serviceTransaction = in.getServiceTransaction();
    if (in.hasSentMonolith()) {
      state.sentMonolith.putAll(ChangeEventProtos.fromProto(in.getSentMonolith()).columns());
    }
    if (in.hasSentService()) {
      state.sentService.putAll(ChangeEventProtos.fromProto(in.getSentService()).columns());
    }
    if (in.hasLastRow()) {
      state.lastRow = ChangeEventProtos.fromProto(in.getLastRow());
    }
    if (!in.getDeleted()) {
      state.row = ChangeEventProtos.fromProto(in.getRow());
      List<String> names = state.row.names();
      for (int i = 0; i < names.size() && i < in.getColumnHlcCount(); i++) {
        state.hlc.put(names.get(i), in.getColumnHlc(i));
      }
    }
    if (state.parked != 0) {
      state.parkedMonolith = in.getParkedMonolithDeleted() ? null : ChangeEventProtos.fromProto(in.getParkedMonolith());
      state.parkedService = in.getParkedServiceDeleted() ? null : ChangeEventProtos.fromProto(in.getParkedService());
    }
    return state;
  }

  /**
   * Encodes a conflict.
   *
   * @param c the conflict.
   * @return its bytes.
   */
  public static byte[] encode(Conflict c) {
    io.cutover.proto.v1.Conflict.Builder out = io.cutover.proto.v1.Conflict.newBuilder()
        .setId(c.id()).setTable(c.table()).setKey(ChangeEventProtos.toProto(c.key()))
        .setKind(ConflictKind.valueOf(c.kind().name()))
        .setHeldSide(ChangeEventProtos.toProto(c.heldSide())).setHeldHlc(c.heldHlc())
        .setIncomingSide(ChangeEventProtos.toProto(c.incomingSide())).setIncomingHlc(c.incomingHlc())
        .addAllColumns(c.columns()).addAllDecisions(c.decisions())
        .setResolvedDeleted(c.resolved() == null)
        .setOutcome(ConflictOutcome.valueOf(c.outcome().name()))
        .setDetectedMicros(c.detectedMicros()).setIncomingCommitMicros(c.incomingCommitMicros());
    if (c.held() != null) {
      out.setHeld(ChangeEventProtos.toProto(c.held()));
    }
    if (c.incoming() != null) {
      out.setIncoming(ChangeEventProtos.toProto(c.incoming()));
    }
    if (c.resolved() != null) {
      out.setResolved(ChangeEventProtos.toProto(c.resolved()));
    }
    return out.build().toByteArray();
  }

  /**
   * Decodes a conflict.
   *
   * @param bytes what {@link #encode(Conflict)} wrote.
   * @return the conflict.
   */
  public static Conflict decodeConflict(byte[] bytes) {
    io.cutover.proto.v1.Conflict in;
    try {
      in = io.cutover.proto.v1.Conflict.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("sync state store holds a damaged conflict record: " + e.getMessage(), e);
    }
    return new Conflict(in.getId(), in.getTable(), ChangeEventProtos.fromProto(in.getKey()),
        Conflict.Kind.valueOf(in.getKind().name()), ChangeEventProtos.fromProto(in.getHeldSide()),
        in.hasHeld() ? ChangeEventProtos.fromProto(in.getHeld()) : null, in.getHeldHlc(),
        ChangeEventProtos.fromProto(in.getIncomingSide()),
        in.hasIncoming() ? ChangeEventProtos.fromProto(in.getIncoming()) : null, in.getIncomingHlc(),
        new ArrayList<>(in.getColumnsList()), new ArrayList<>(in.getDecisionsList()),
        in.hasResolved() ? ChangeEventProtos.fromProto(in.getResolved()) : null,
        Conflict.Outcome.valueOf(in.getOutcome().name()), in.getDetectedMicros(), in.getIncomingCommitMicros());
  }

  /**
   * A batch about to be written, as the changelog keeps it: who writes it (the applier name its positions are
   * recorded under in both databases), its last journal index, and its writes.
   *
   * @param applier the applier name.
   * @param position the batch's last journal index.
   * @param writes the writes, in order.
   */
  public record PendingBatch(String applier, long position, List<io.cutover.engine.apply.SideWriter.Indexed> writes) {}

  /**
   * Encodes a pending batch.
   *
   * @param batch the batch.
   * @return its bytes.
   */
  public static byte[] encode(PendingBatch batch) {
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    try (java.io.DataOutputStream out = new java.io.DataOutputStream(bytes)) {
      out.writeUTF(batch.applier());
      out.writeLong(batch.position());
      out.writeInt(batch.writes().size());
      for (io.cutover.engine.apply.SideWriter.Indexed indexed : batch.writes()) {
        Write w = indexed.write();
        out.writeLong(indexed.journalIndex());
        out.writeBoolean(indexed.held());
        out.writeUTF(w.side().isMonolith() ? "" : w.side().service());
        out.writeUTF(w.table());
        out.writeByte(w.type().ordinal());
        for (Row row : new Row[] {w.key(), w.values(), w.expected(), w.deltas()}) {
          byte[] encoded = row == null ? null : ChangeEventProtos.toProto(row).toByteArray();
          out.writeInt(encoded == null ? -1 : encoded.length);
          if (encoded != null) {
            out.write(encoded);
          }
        }
        out.writeLong(w.seen());
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e); // not thrown by a byte array
    }
    return bytes.toByteArray();
  }

  /**
   * Decodes a pending batch.
   *
   * @param bytes what {@link #encode(PendingBatch)} wrote.
   * @return the batch.
   * @throws IllegalStateException if the bytes are not a batch (a damaged changelog).
   */
  public static PendingBatch decodeBatch(byte[] bytes) {
    try (java.io.DataInputStream in = new java.io.DataInputStream(new java.io.ByteArrayInputStream(bytes))) {
      String applier = in.readUTF();
      long position = in.readLong();
      int n = in.readInt();
      List<io.cutover.engine.apply.SideWriter.Indexed> writes = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        long index = in.readLong();
        boolean held = in.readBoolean();
        String side = in.readUTF();
        String table = in.readUTF();
        Write.Type type = Write.Type.values()[in.readByte()];
        Row[] rows = new Row[4];
        for (int r = 0; r < rows.length; r++) {
          int length = in.readInt();
          if (length >= 0) {
            byte[] encoded = in.readNBytes(length);
            rows[r] = ChangeEventProtos.fromProto(io.cutover.proto.v1.Row.parseFrom(encoded));
          }
        }
        long seen = in.readLong();
        writes.add(new io.cutover.engine.apply.SideWriter.Indexed(index, new Write(side.isEmpty() ? io.cutover.engine.event.Side.MONOLITH
            : io.cutover.engine.event.Side.service(side), table, type, rows[0], rows[1], rows[2], rows[3], seen),
            held));
      }
      return new PendingBatch(applier, position, writes);
    } catch (java.io.IOException | RuntimeException e) {
      throw new IllegalStateException("the sync changelog holds a damaged pending batch: " + e.getMessage(), e);
    }
  }
}
