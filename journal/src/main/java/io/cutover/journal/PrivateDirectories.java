package io.cutover.journal;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Creates the directories Cutover keeps data in (journal, sync state) readable by their owner only: they hold
 * every captured row. Directories that already exist keep the permissions an operator gave them.
 */
public final class PrivateDirectories {
  private PrivateDirectories() {}

  /**
   * Creates a directory and any missing parents, owner-only ({@code rwx------}) where the file system has POSIX
   * permissions.
   *
   * @param directory the directory.
   * @throws IOException if it cannot be created.
   */
  public static void create(Path directory) throws IOException {
    if (Files.isDirectory(directory)) {
      return;
    }
    try {
      Files.createDirectories(directory,
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } catch (UnsupportedOperationException e) {
      Files.createDirectories(directory); // no POSIX permissions here (Windows): the ACLs the parent passes on
    } catch (FileAlreadyExistsException e) {
      if (!Files.isDirectory(directory)) {
        throw e;
      }
    }
  }
}
