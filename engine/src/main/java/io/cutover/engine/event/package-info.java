/**
 * The change-event model: one change to one row ({@link io.cutover.engine.event.ChangeEvent}), its typed
 * values, the compact binary encoding the journal stores ({@link io.cutover.engine.event.EventCodec}) and the
 * mapping to the public protobuf schema {@code cutover.v1} ({@link io.cutover.engine.event.ChangeEventProtos}).
 */
package io.cutover.engine.event;
