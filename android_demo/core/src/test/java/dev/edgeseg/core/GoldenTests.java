package dev.edgeseg.core;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks the core against golden vectors written by edgeseg's Python side
 * (tests/android_demo/golden.py): same picture → same input tensor bytes, same output → same
 * mask, same mask → same overlay pixels; bad models fail with the expected message; and a bench
 * report the host can read. One line per case ({@code ok …} / {@code FAIL …}); exit 1 on any
 * failure.
 */
final class GoldenTests {
  private GoldenTests() {}

  public static void main(String[] args) throws Exception {
    Path dir = Paths.get(args[0]);
    Fields manifest = Fields.parse(text(dir.resolve("manifest.json")), "manifest.json");
    System.out.println("runtimes " + ModelFiles.RUNTIMES);
    Map<String, Mask> masks = new LinkedHashMap<>();
    int failed = 0;
    for (Object row : manifest.list("cases")) {
      failed += goodCase(dir, new Fields(row, "manifest.json", "case"), masks);
    }
    for (Object row : manifest.list("bad")) {
      failed += badCase(dir, new Fields(row, "manifest.json", "bad case"));
    }
    if (manifest.has("bench")) {
      failed += bench(dir, manifest.object("bench"), masks);
    }
    System.out.println("summary failed=" + failed);
    System.exit(failed == 0 ? 0 : 1);
  }

  private static int goodCase(Path dir, Fields c, Map<String, Mask> masks) throws Exception {
    String id = c.string("id");
    try {
      ModelContract contract = ModelSource.folder(dir).contract(c.string("model_file"));
      RgbImage image = new RgbImage(integer(c, "image_width"), integer(c, "image_height"),
          bytes(dir, c.string("image")));
      contract.checkInput(shape(c, "input_shape"), DType.of(c.string("input_dtype")));
      Tensor input = contract.preprocess(image);
      same(bytes(dir, c.string("input")), input.data, "input tensor");
      Tensor output = new Tensor(DType.of(c.string("output_dtype")), shape(c, "output_shape"),
          bytes(dir, c.string("output")));
      contract.checkOutput(output.shape(), output.dtype);
      Mask mask = contract.postprocess(output);
      same(bytes(dir, c.string("mask")), mask.labels, "mask");
      double opacity = Fields.number(c.get("opacity"));
      RgbImage blended = Overlay.blend(image, mask, contract.meta.palette, opacity);
      same(bytes(dir, c.string("overlay")), blended.rgb, "overlay");
      masks.put(id, mask);
      System.out.println("ok " + id);
      return 0;
    } catch (Exception | AssertionError ex) {
      System.out.println("FAIL " + id + ": " + ex);
      return 1;
    }
  }

  private static int badCase(Path dir, Fields c) {
    String id = "bad:" + c.string("id");
    try {
      ModelContract contract = ModelSource.folder(dir).contract(c.string("model_file"));
      String stage = c.string("stage");
      if (stage.equals("input")) {
        contract.checkInput(shape(c, "shape"), DType.of(c.string("dtype")));
      } else if (stage.equals("output")) {
        contract.checkOutput(shape(c, "shape"), DType.of(c.string("dtype")));
      }
      System.out.println("FAIL " + id + ": no error");
      return 1;
    } catch (ContractException ex) {
      for (Object fragment : c.list("expect")) {
        if (!ex.getMessage().contains((String) fragment)) {
          System.out.println("FAIL " + id + ": '" + fragment + "' not in: " + ex.getMessage());
          return 1;
        }
      }
      System.out.println("ok " + id + " | " + ex.getMessage());
      return 0;
    } catch (Exception ex) {
      System.out.println("FAIL " + id + ": " + ex);
      return 1;
    }
  }

  private static int bench(Path dir, Fields b, Map<String, Mask> masks) throws Exception {
    BenchReport report = new BenchReport(dir.resolve(b.string("dir")));
    for (Object id : b.list("cases")) {
      if (masks.get((String) id) == null) {
        System.out.println("FAIL bench: case " + id + " has no mask");
        return 1;
      }
      report.addMask(id + ".png", masks.get((String) id));
    }
    List<Object> raw = b.list("samples_ms");
    double[] samples = new double[raw.size()];
    for (int i = 0; i < samples.length; i++) {
      samples[i] = Fields.number(raw.get(i));
    }
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("model", b.string("model"));
    result.put("latency_ms", new LatencyStats(samples).toJson());
    report.finish(result);
    System.out.println("ok bench " + report.dir());
    return 0;
  }

  private static void same(byte[] expected, byte[] got, String what) {
    if (expected.length != got.length) {
      throw new AssertionError(what + ": " + got.length + " bytes, expected " + expected.length);
    }
    for (int i = 0; i < got.length; i++) {
      if (expected[i] != got[i]) {
        throw new AssertionError(what + " differs first at byte " + i + ": got "
            + (got[i] & 0xFF) + ", expected " + (expected[i] & 0xFF));
      }
    }
  }

  private static long[] shape(Fields c, String key) {
    List<Object> raw = c.list(key);
    long[] out = new long[raw.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (Long) raw.get(i);
    }
    return out;
  }

  private static int integer(Fields c, String key) {
    return ((Long) c.get(key)).intValue();
  }

  private static byte[] bytes(Path dir, String name) throws java.io.IOException {
    return Files.readAllBytes(dir.resolve(name));
  }

  private static String text(Path p) throws java.io.IOException {
    return new String(Files.readAllBytes(p), StandardCharsets.UTF_8);
  }
}
