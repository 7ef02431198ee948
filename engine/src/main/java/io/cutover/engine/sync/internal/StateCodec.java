package io.cutover.engine.sync.internal;

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
        .setMonolithPosition(state.monolithPosition).setServicePosition(state.servicePosition);
    if (!state.sentMonolith.isEmpty()) {
      out.setSentMonolith(ChangeEventProtos.toProto(RowState.overlay(null, state.sentMonolith)));
    }
    if (!state.sentService.isEmpty()) {
      out.setSentService(ChangeEventProtos.toProto(RowState.overlay(null, state.sentService)));
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
    if (in.hasSentMonolith()) {
      state.sentMonolith.putAll(ChangeEventProtos.fromProto(in.getSentMonolith()).columns());
    }
    if (in.hasSentService()) {
      state.sentService.putAll(ChangeEventProtos.fromProto(in.getSentService()).columns());
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
}
