/** The {@code cutover} command line ({@link io.cutover.admin.cli.CutoverCli}), run by {@code bin/cutover}. */
package io.cutover.admin.cli;
