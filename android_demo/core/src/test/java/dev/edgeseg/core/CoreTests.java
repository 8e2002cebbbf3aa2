package dev.edgeseg.core;

import static dev.edgeseg.core.TestRunner.check;
import static dev.edgeseg.core.TestRunner.expectError;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Unit tests of the core that need no golden data: JSON, files, checks, errors. */
final class CoreTests {
  private CoreTests() {}

  static final String SIDECAR = "{\"arch\": \"tiny\", \"classes\": [\"sky\", \"road\"],"
      + " \"palette\": [[0, 0, 255], [128, 64, 128]], \"input_size\": [4, 6],"
      + " \"layout\": \"NCHW\", \"mean\": [0.5, 0.5, 0.5], \"std\": [0.25, 0.25, 0.25],"
      + " \"input_dtype\": \"float32\", \"output\": \"logits\", \"output_dtype\": \"float32\","
      + " \"quantization\": \"fp32\"}";

  static void testJsonParsesNestedValuesWithPythonTypes() {
    Object v = Json.parse("{\"a\": [1, -2.5, 3e2, true, null, \"x\\\"\\u00e9\\n\"], \"b\": {}}");
    Map<?, ?> m = (Map<?, ?>) v;
    List<?> a = (List<?>) m.get("a");
    check(a.get(0).equals(1L), "integer literal → Long");
    check(a.get(1).equals(-2.5), "fraction → Double");
    check(a.get(2).equals(300.0), "exponent → Double (as Python's json)");
    check(a.get(3) == Boolean.TRUE && a.get(4) == Json.NULL, "true / null");
    check(a.get(5).equals("x\"é\n"), "escapes: " + a.get(5));
    check(((Map<?, ?>) m.get("b")).isEmpty(), "empty object");
    check(Json.parse(Json.write(v)).equals(v), "write → parse round trip");
  }

  static void testJsonRejectsBadText() {
    for (String bad : new String[] {"{", "[1,]", "{\"a\" 1}", "tru", "1 2", "\"abc", "-"}) {
      try {
        Json.parse(bad);
        throw new AssertionError("accepted " + bad);
      } catch (IllegalArgumentException ex) {
        check(ex.getMessage().startsWith("invalid JSON at character"), ex.getMessage());
      }
    }
  }

  static void testSidecarThatIsNotJsonNamesTheFile() {
    expectError(() -> ModelContract.forModel("m.onnx", "{\"classes\": "), "m.onnx.json",
        "invalid JSON");
  }

  static void testValidSidecarParses() {
    ModelContract c = ModelContract.forModel("tiny.onnx", SIDECAR);
    check(c.meta.numClasses() == 2 && c.meta.height == 4 && c.meta.width == 6, "sizes");
    check(Arrays.equals(c.inputShape(), new long[] {1, 3, 4, 6}), "input shape");
    check(Arrays.equals(c.outputShape(), new long[] {1, 2, 4, 6}), "output shape");
    check(c.meta.mean[0] == 0.5f && c.meta.inputQuant == null, "mean, no quantisation");
    check(c.meta.arch.equals("tiny") && c.meta.quantization.equals("fp32"), "labels");
  }

  static void testUnsupportedExtensionListsWhatRuns() {
    expectError(() -> ModelFiles.runtimeFor("deeplab.mlpackage"), "deeplab.mlpackage",
        "'.mlpackage'", ".tflite, .pte, .onnx");
    expectError(() -> ModelFiles.runtimeFor("noext"), "'noext'");
    check(ModelFiles.runtimeFor("a/B.TFLITE").equals("litert"), "case-insensitive");
    check(ModelFiles.runtimeFor("x.pte").equals("executorch"), "pte");
    check(ModelFiles.runtimeFor("x.onnx").equals("onnxruntime"), "onnx");
  }

  static void testMissingSidecarMessageSaysHowToFixIt() {
    String m = ModelFiles.missingSidecar("m.tflite").getMessage();
    check(m.contains("m.tflite.json") && m.contains("edgeseg export"), m);
  }

  static void testInputShapeDisagreementIsReported() {
    ModelContract c = ModelContract.forModel("tiny.onnx", SIDECAR);
    c.checkInput(new long[] {1, 3, 4, 6}, DType.FLOAT32);
    expectError(() -> c.checkInput(new long[] {1, 4, 6, 3}, DType.FLOAT32),
        "tiny.onnx.json", "[1, 4, 6, 3] float32", "[1, 3, 4, 6] float32", "layout");
    expectError(() -> c.checkInput(new long[] {1, 3, 4, 6}, DType.UINT8), "uint8");
  }

  static void testOutputShapeDisagreementIsReported() {
    ModelContract c = ModelContract.forModel("tiny.onnx", SIDECAR);
    c.checkOutput(new long[] {1, 2, 4, 6}, DType.FLOAT32);
    expectError(() -> c.checkOutput(new long[] {1, 21, 4, 6}, DType.FLOAT32),
        "[1, 21, 4, 6]", "classes");
    Tensor wrong = Tensor.ofFloats(new float[3 * 24], new long[] {1, 3, 4, 6});
    expectError(() -> c.postprocess(wrong), "the model's output is [1, 3, 4, 6]");
  }

  static void testMaskOutputAcceptsUnitAxesOnly() {
    String mask = SIDECAR.replace("\"output\": \"logits\", \"output_dtype\": \"float32\"",
        "\"output\": \"mask\", \"output_dtype\": \"int64\"");
    ModelContract c = ModelContract.forModel("tiny.tflite", mask);
    c.checkOutput(new long[] {1, 4, 6}, DType.INT64);
    c.checkOutput(new long[] {1, 4, 6, 1}, DType.INT64);
    expectError(() -> c.checkOutput(new long[] {1, 6, 4}, DType.INT64), "[1, 6, 4]");
    long[] ids = new long[24];
    ids[5] = 1;
    ids[6] = 257; // wraps modulo 256, as numpy's astype(uint8)
    Mask m = c.postprocess(Tensor.ofLongs(ids, new long[] {1, 4, 6}));
    check(m.labels[5] == 1 && m.labels[6] == 1 && m.labels[0] == 0, "int64 mask → uint8");
  }

  static void testTensorRejectsWrongByteCount() {
    expectError(() -> new Tensor(DType.FLOAT32, new long[] {1, 3}, new byte[8]), "needs 12");
    expectError(() -> new Tensor(DType.UINT8, new long[] {-1, 3}, new byte[3]), "dynamic");
  }

  static void testOpacityOutOfRangeIsAnError() {
    expectError(() -> Overlay.alpha(1.5), "opacity");
    expectError(() -> Overlay.alpha(Double.NaN), "opacity");
    check(Overlay.alpha(0.5) == 128 && Overlay.alpha(1.0) == 255, "alpha rounding");
  }

  static void testArgbRoundTripAndNearestIdentity() {
    int[] argb = {0xFF102030, 0xFFFFFFFF, 0xFF000000, 0x80A0B0C0};
    RgbImage img = RgbImage.fromArgb(argb, 2, 2);
    check(img.rgb[0] == 0x10 && (img.rgb[3] & 0xFF) == 255, "unpack");
    check(img.toArgb()[3] == 0xFFA0B0C0, "repack opaque");
    byte[] mask = {0, 1, 2, 3, 4, 5};
    check(Arrays.equals(Resample.nearest(mask, 3, 2, 3, 2), mask), "identity");
    check(Arrays.equals(Resample.nearest(mask, 3, 2, 6, 2), new byte[] {0, 0, 1, 1, 2, 2, 3, 3,
        4, 4, 5, 5}), "2x upscale");
  }

  static void testLatencyStatsMatchPythonDefinitions() {
    LatencyStats s = new LatencyStats(new double[] {4, 1, 3, 2});
    check(s.median == 2.5 && s.mean == 2.5 && s.min == 1 && s.max == 4, "median/mean");
    check(s.p90 == 4, "p90 = sorted[round(2.7)] = sorted[3]");
    check(new LatencyStats(new double[] {1, 2, 3, 4, 5, 6}).p90 == 5, "round(4.5) → 4 (even)");
    expectError(() -> new LatencyStats(new double[0]), "no timed runs");
  }

  static void testIndexParsesInOrder() {
    List<ModelFiles.Entry> rows = ModelFiles.parseIndex("{\"models\": [{\"file\": \"b.onnx\","
        + " \"label\": \"B\"}, {\"file\": \"a.pte\"}]}", "index.json");
    check(rows.size() == 2 && rows.get(0).label.equals("B") && rows.get(1).label.equals("a.pte"),
        "rows");
    expectError(() -> ModelFiles.parseIndex("{\"models\": [3]}", "index.json"), "index.json");
  }

  static void testBenchReportFailureIsVisible() throws Exception {
    Path dir = Files.createTempDirectory("bench");
    BenchReport report = new BenchReport(dir);
    check(Files.readString(dir.resolve(BenchReport.STATUS)).contains("\"running\""), "running");
    report.fail(new java.util.LinkedHashMap<>(), "model.tflite has no sidecar");
    String status = Files.readString(dir.resolve(BenchReport.STATUS));
    check(status.contains("\"failed\"") && status.contains("no sidecar"), status);
  }
}
