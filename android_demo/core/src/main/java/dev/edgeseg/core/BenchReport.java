package dev.edgeseg.core;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.Deflater;

/**
 * Bench mode's output folder, in the format android_demo/BENCH_MODE.md documents and
 * {@code edgeseg.android_demo.read_bench_result} reads.
 *
 * <p>{@code status.json} is written first ("running") and last ("ok"/"failed"), each time
 * atomically, so a host polling it over adb never reads half a file; {@code result.json} is
 * complete before the status says "ok". Masks are zlib-compressed uint8 files under
 * {@code masks/}, one per input image, at the model's input size.
 */
public final class BenchReport {
  public static final int VERSION = 1;
  public static final String FORMAT = "edgeseg-android-bench";
  public static final String RESULT = "result.json";
  public static final String STATUS = "status.json";
  public static final String MASKS = "masks";

  private final Path dir;
  private final List<Object> masks = new ArrayList<>();

  /** Start a run in {@code dir}: old results there are removed, status becomes "running". */
  public BenchReport(Path dir) throws IOException {
    this.dir = dir;
    Files.createDirectories(dir.resolve(MASKS));
    Files.deleteIfExists(dir.resolve(RESULT));
    try (java.util.stream.Stream<Path> old = Files.list(dir.resolve(MASKS))) {
      for (Path p : (Iterable<Path>) old::iterator) {
        Files.delete(p);
      }
    }
    status("running", "");
  }

  public Path dir() {
    return dir;
  }

  /** Store the mask of one input image; {@code image} is its file name, recorded in order. */
  public void addMask(String image, Mask mask) throws IOException {
    String name = String.format(Locale.ROOT, "%s/%04d.u8.z", MASKS, masks.size());
    writeAtomic(dir.resolve(name), deflate(mask.labels));
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("image", image);
    row.put("file", name);
    row.put("height", (long) mask.height);
    row.put("width", (long) mask.width);
    row.put("encoding", "zlib-uint8");
    masks.add(row);
  }

  /** Write result.json (with "status": "ok") and then the "ok" status. */
  public void finish(Map<String, Object> result) throws IOException {
    write(result, "ok", "");
  }

  /** Write what is known plus the reason, then the "failed" status. */
  public void fail(Map<String, Object> partial, String reason) throws IOException {
    write(partial, "failed", reason);
  }

  private void write(Map<String, Object> fields, String status, String reason) throws IOException {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("format", FORMAT);
    out.put("version", (long) VERSION);
    out.put("status", status);
    out.put("reason", reason);
    out.putAll(fields);
    out.put("masks", masks);
    writeAtomic(dir.resolve(RESULT), Json.write(out).getBytes(StandardCharsets.UTF_8));
    status(status, reason);
  }

  private void status(String status, String reason) throws IOException {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("status", status);
    s.put("reason", reason);
    s.put("result", RESULT);
    writeAtomic(dir.resolve(STATUS), (Json.write(s) + "\n").getBytes(StandardCharsets.UTF_8));
  }

  private static byte[] deflate(byte[] data) {
    Deflater deflater = new Deflater(Deflater.BEST_SPEED);
    deflater.setInput(data);
    deflater.finish();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] chunk = new byte[1 << 16];
    while (!deflater.finished()) {
      out.write(chunk, 0, deflater.deflate(chunk));
    }
    deflater.end();
    return out.toByteArray();
  }

  private static void writeAtomic(Path target, byte[] bytes) throws IOException {
    Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
    Files.write(tmp, bytes);
    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
