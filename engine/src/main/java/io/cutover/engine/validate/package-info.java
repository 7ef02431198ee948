/**
 * Consistency validation: proves the monolith and a service hold the same data, says exactly where they differ,
 * and repairs it. {@link io.cutover.engine.validate.Validator} compares Merkle trees built from streamed rows
 * (canonical encodings, so PostgreSQL and H2 hash equal data equally) and classifies each discrepancy;
 * {@link io.cutover.engine.validate.ContinuousValidator} runs it on a schedule with strict or lag-tolerant
 * reporting; {@link io.cutover.engine.validate.Repairer} reconciles through the journaled pipeline; and
 * {@link io.cutover.engine.validate.AuditLog} records every run, discrepancy and repair.
 */
package io.cutover.engine.validate;
