/** Chronicle Queue wiring behind {@link io.cutover.journal.Journal}. Nothing outside this module imports it. */
package io.cutover.journal.internal;
