/** Hybrid logical clocks: timestamps that order causally related events and stay near physical time. */
package io.cutover.engine.clock;
