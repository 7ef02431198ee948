package io.cutover.engine.apigen;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The published versions of one service's API. The rules:
 * <ul>
 *   <li>the first model admitted is {@code /v1}; a model whose fingerprint equals the latest version's is that
 *       version again; any other (a column added, dropped, retyped, a table added...) becomes the next version;</li>
 *   <li>every version stays served with its own document: it keeps its contract for the fields it has. Fields
 *       added later are not in its responses and are refused in its bodies (unknown field); fields the database
 *       no longer has are marked deprecated in its document and left out of its responses; a resource whose table
 *       is gone answers 410 Gone.</li>
 * </ul>
 * With a directory, each version is kept as {@code vN.json} (written to a temporary name and moved into place), so
 * a restart serves the same versions. Thread-safe.
 */
public final class ApiVersions {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final Pattern FILE = Pattern.compile("v(\\d+)\\.json");
  private final Path directory;
  private final List<ApiModel> versions = new ArrayList<>();

  private ApiVersions(Path directory) {
    this.directory = directory;
  }

  /**
   * Versions kept in memory only (a restart starts again at {@code /v1}).
   *
   * @return the empty history.
   */
  public static ApiVersions inMemory() {
    return new ApiVersions(null);
  }

  /**
   * Versions kept in a directory, reading the ones already there.
   *
   * @param directory the directory (created if needed).
   * @return the history.
   * @throws IOException if the directory or a version file cannot be read, naming the file.
   */
  public static ApiVersions open(Path directory) throws IOException {
    Files.createDirectories(directory);
    ApiVersions history = new ApiVersions(directory);
    List<Path> files;
    try (Stream<Path> listed = Files.list(directory)) {
      files = listed.filter(p -> FILE.matcher(p.getFileName().toString()).matches()).toList();
    }
    List<ApiModel> found = new ArrayList<>();
    for (Path file : files) {
      try {
        found.add(JSON.readValue(file.toFile(), ApiModel.class));
      } catch (IOException e) {
        throw new IOException("API version file " + file + " cannot be read: " + e.getMessage(), e);
      }
    }
    found.sort((a, b) -> Integer.compare(a.version(), b.version()));
    for (int i = 0; i < found.size(); i++) {
      if (found.get(i).version() != i + 1) {
        throw new IOException("API versions in " + directory + " are not 1.." + found.size() + ": version "
            + (i + 1) + " is missing or a file's version does not match its name");
      }
    }
    history.versions.addAll(found);
    return history;
  }

  /**
   * Admits the current model: returns the latest version if the schema did not change, otherwise publishes (and
   * with a directory, stores) the next version.
   *
   * @param current the model of the schema as it is now (its version is ignored).
   * @return the model as published.
   * @throws IOException if the new version cannot be stored; nothing is published then.
   */
  public synchronized ApiModel admit(ApiModel current) throws IOException {
    if (!versions.isEmpty()) {
      ApiModel latest = versions.get(versions.size() - 1);
      if (latest.fingerprint().equals(current.fingerprint())) {
        return latest;
      }
    }
    ApiModel next = current.asVersion(versions.size() + 1);
    if (directory != null) {
      Path file = directory.resolve("v" + next.version() + ".json");
      Path temporary = directory.resolve(file.getFileName() + ".tmp");
      JSON.writeValue(temporary.toFile(), next);
      Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
    versions.add(next);
    return next;
  }

  /**
   * Every published version, oldest first.
   *
   * @return a copy of the list.
   */
  public synchronized List<ApiModel> all() {
    return List.copyOf(versions);
  }

  /**
   * One version.
   *
   * @param version the number.
   * @return the model, or null when there is no such version.
   */
  public synchronized ApiModel version(int version) {
    return version >= 1 && version <= versions.size() ? versions.get(version - 1) : null;
  }

  /**
   * The latest version.
   *
   * @return the model, or null before the first was admitted.
   */
  public synchronized ApiModel latest() {
    return versions.isEmpty() ? null : versions.get(versions.size() - 1);
  }
}
