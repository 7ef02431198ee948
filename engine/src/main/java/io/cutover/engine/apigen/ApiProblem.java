package io.cutover.engine.apigen;

import java.util.List;

/**
 * A request the API refuses, answered as RFC 9457 {@code application/problem+json}: a status, a title, a detail and,
 * for validation failures, every offending field. Hooks throw it to refuse a request. Immutable.
 */
public final class ApiProblem extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int status;
  private final String title;
  private final transient List<FieldError> errors;

  /**
   * A problem.
   *
   * @param status the HTTP status.
   * @param title a short, fixed summary of the problem type.
   * @param detail what is wrong with this request.
   * @param errors the offending fields (may be empty).
   */
  public ApiProblem(int status, String title, String detail, List<FieldError> errors) {
    super(detail, null, false, false);
    this.status = status;
    this.title = title;
    this.errors = List.copyOf(errors);
  }

  /**
   * A 400 Bad Request.
   *
   * @param detail what is wrong.
   * @param errors the offending fields.
   * @return the problem.
   */
  public static ApiProblem badRequest(String detail, List<FieldError> errors) {
    return new ApiProblem(400, "Bad Request", detail, errors);
  }

  /**
   * A 400 Bad Request about one query parameter.
   *
   * @param parameter the parameter's name.
   * @param detail what is wrong.
   * @return the problem.
   */
  public static ApiProblem badParameter(String parameter, String detail) {
    return badRequest("query parameter '" + parameter + "': " + detail,
        List.of(new FieldError(null, parameter, detail)));
  }

  /**
   * A 404 Not Found.
   *
   * @param detail what was not found.
   * @return the problem.
   */
  public static ApiProblem notFound(String detail) {
    return new ApiProblem(404, "Not Found", detail, List.of());
  }

  /**
   * The HTTP status.
   *
   * @return the status.
   */
  public int status() {
    return status;
  }

  /**
   * The problem type's title.
   *
   * @return the title.
   */
  public String title() {
    return title;
  }

  /**
   * The offending fields.
   *
   * @return the list, never null.
   */
  public List<FieldError> errors() {
    return errors;
  }

  /**
   * One offending field.
   *
   * @param pointer a JSON pointer into the body ({@code /name}, {@code /2/price} in a bulk), or null.
   * @param parameter the query parameter, or null.
   * @param detail what is wrong with it.
   */
  public record FieldError(String pointer, String parameter, String detail) {}
}
