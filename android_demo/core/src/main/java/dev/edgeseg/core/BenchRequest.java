package dev.edgeseg.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The checks on what another app may ask the exported {@code BenchActivity} to do.
 *
 * <p>The activity is exported (adb's {@code am start} needs that), so any installed app can start
 * it with any extras. Model and image paths are accepted only under the app's own folders or
 * {@code /data/local/tmp/edgeseg/} (where adb stages files), after resolving {@code ..} and
 * symbolic links, so no extra can make the app read elsewhere; the run id names the output folder,
 * so it must be a plain name. Pure Java, tested on the JVM.
 */
public final class BenchRequest {
  /** Where adb stages files for edgeseg (edgeseg.benchmarks.adb.session.REMOTE_DIR). */
  public static final String ADB_STAGING = "/data/local/tmp/edgeseg";

  private static final Pattern RUN_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  private final List<Path> roots;
  private final Path base;

  /**
   * @param base where relative paths resolve (the app's external files folder)
   * @param roots every folder paths may lie under (base is always one)
   */
  public BenchRequest(Path base, List<Path> roots) {
    this.base = base;
    List<Path> all = new ArrayList<>();
    all.add(base);
    all.addAll(roots);
    this.roots = Collections.unmodifiableList(all);
  }

  /** The run id, or a ContractException: 1–64 of letters, digits, '.', '_', '-', no leading dot. */
  public static String runId(String raw) {
    if (raw == null) {
      return "latest";
    }
    if (!RUN_ID.matcher(raw).matches()) {
      throw new ContractException("run_id '" + raw + "' is not a plain name (1-64 letters,"
          + " digits, '.', '_' or '-', not starting with '.' or '-'): pass --es run_id NAME");
    }
    return raw;
  }

  /**
   * {@code raw} (absolute, or relative to the base folder) as a real path under one of the
   * allowed folders, or a ContractException saying where paths may be. {@code what} names the
   * extra ("model", "images") in the message.
   */
  public Path allowed(String what, String raw) {
    if (raw == null || raw.isEmpty() || raw.indexOf('\0') >= 0) {
      throw new ContractException(what + ": an empty or invalid path");
    }
    Path given = Paths.get(raw);
    Path path = real(given.isAbsolute() ? given : base.resolve(given));
    for (Path root : roots) {
      Path r = real(root);
      if (path.startsWith(r)) {
        return path;
      }
    }
    throw new ContractException(what + " " + raw + " is outside the folders bench mode reads ("
        + describeRoots() + "): adb push the file under one of them");
  }

  private String describeRoots() {
    List<String> names = new ArrayList<>();
    for (Path r : roots) {
      names.add(r.toString());
    }
    return String.join(", ", names);
  }

  /**
   * The path with {@code .}/{@code ..} removed and, for the longest part that exists, symbolic
   * links resolved (a link out of an allowed folder is judged by where it points).
   */
  static Path real(Path path) {
    Path abs = path.toAbsolutePath().normalize();
    Path existing = abs;
    while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
      existing = existing.getParent();
    }
    if (existing == null) {
      return abs;
    }
    try {
      return existing.toRealPath().resolve(existing.relativize(abs)).normalize();
    } catch (IOException ex) {
      throw new ContractException(path + ": cannot resolve it (" + ex.getMessage() + ")", ex);
    }
  }
}
