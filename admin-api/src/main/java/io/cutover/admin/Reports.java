package io.cutover.admin;

import io.cutover.admin.v1.DiscrepancyInfo;
import io.cutover.admin.v1.TableReport;
import io.cutover.engine.validate.Discrepancy;
import io.cutover.engine.validate.ValidationReport;
import java.util.Locale;

/** Validation results in the admin API's messages (shared by the server and the command line's {@code --json}). */
public final class Reports {
  private Reports() {}

  /**
   * A table pair's report.
   *
   * @param service the service.
   * @param report the validation report.
   * @param limit the most discrepancies listed.
   * @return the message.
   */
  public static TableReport tableReport(String service, ValidationReport report, int limit) {
    TableReport.Builder table = TableReport.newBuilder().setService(service).setTable(report.table())
        .setServiceTable(report.serviceTable()).setMonolithRows(report.monolithRows())
        .setServiceRows(report.serviceRows()).setDiscrepancyCount(report.discrepancyCount())
        .setElapsedMillis(report.elapsed().toMillis());
    report.discrepancies().stream().limit(limit).forEach(d -> table.addDiscrepancies(discrepancy(service, d)));
    report.countsByKind().forEach((kind, count) -> table.putCountsByKind(kind.name().toLowerCase(Locale.ROOT),
        count));
    return table.setListCut(table.getDiscrepanciesCount() < report.discrepancyCount()).build();
  }

  /**
   * One discrepancy.
   *
   * @param service the service.
   * @param d the discrepancy.
   * @return the message.
   */
  public static DiscrepancyInfo discrepancy(String service, Discrepancy d) {
    return DiscrepancyInfo.newBuilder().setService(service).setTable(d.table()).setKey(d.key().toString())
        .setKind(d.kind().name().toLowerCase(Locale.ROOT)).addAllColumns(d.columns())
        .setMonolith(String.valueOf(d.monolith())).setServiceRow(String.valueOf(d.service()))
        .setDescription(d.describe()).build();
  }
}
