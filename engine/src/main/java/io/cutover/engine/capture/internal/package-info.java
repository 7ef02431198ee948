/** Database wiring of trigger capture: the H2 trigger and the gap-aware change-table reader. */
package io.cutover.engine.capture.internal;
