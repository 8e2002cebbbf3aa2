package dev.edgeseg.core;

import static dev.edgeseg.core.TestRunner.check;
import static dev.edgeseg.core.TestRunner.expectError;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The runtime boundary: buffers from a runtime into a {@link Tensor} (every kind, both declared
 * byte orders), runtime exceptions into one-line messages, and the exporter's runtime version
 * against the app's.
 */
final class RuntimeTests {
  private RuntimeTests() {}

  static final float[] FLOATS = {1.5f, -2.25f, 3e-7f, Float.MAX_VALUE, -0f, 42f};
  static final long[] SHAPE = {1, 2, 3};

  /** The four buffer kinds a runtime hands out: heap, direct, and read-only views of both. */
  static ByteBuffer[] kinds(byte[] bytes) {
    ByteBuffer heap = ByteBuffer.wrap(bytes.clone());
    ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length);
    direct.put(bytes).rewind();
    ByteBuffer direct2 = ByteBuffer.allocateDirect(bytes.length);
    direct2.put(bytes).rewind();
    return new ByteBuffer[] {
      heap, direct, ByteBuffer.wrap(bytes.clone()).asReadOnlyBuffer(), direct2.asReadOnlyBuffer()
    };
  }

  static byte[] floatBytes(float[] values, ByteOrder order) {
    ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(order);
    b.asFloatBuffer().put(values);
    return b.array();
  }

  static void testRuntimeFloatsAreReadInNativeOrderWhateverTheLabel() {
    byte[] nativeBytes = floatBytes(FLOATS, ByteOrder.nativeOrder());
    for (ByteOrder declared : new ByteOrder[] {ByteOrder.BIG_ENDIAN, ByteOrder.LITTLE_ENDIAN}) {
      for (ByteBuffer buf : kinds(nativeBytes)) {
        buf.order(declared); // ONNX Runtime's heap copy says BIG_ENDIAN over little-endian bytes
        Tensor t = Tensor.fromRuntime(DType.FLOAT32, SHAPE, buf);
        String kind = (buf.isDirect() ? "direct" : "heap") + (buf.isReadOnly() ? " ro " : " ")
            + declared;
        check(Arrays.equals(t.floats(), FLOATS), kind + ": " + Arrays.toString(t.floats()));
        check(buf.position() == 0 && buf.order() == declared, kind + ": caller's buffer moved");
      }
    }
  }

  static void testIntegerOutputsOfEveryWidthKeepTheirValues() {
    long[] longs = {0, -1, 1L << 40, 7, Long.MIN_VALUE, 255};
    ByteBuffer lb = ByteBuffer.allocate(48).order(ByteOrder.nativeOrder());
    lb.asLongBuffer().put(longs);
    int[] ints = {0, -1, 1 << 30, 7, Integer.MIN_VALUE, 255};
    ByteBuffer ib = ByteBuffer.allocate(24).order(ByteOrder.nativeOrder());
    ib.asIntBuffer().put(ints);
    byte[] bytes = {0, (byte) 255, 1, (byte) 128, 127, 9};
    for (ByteOrder declared : new ByteOrder[] {ByteOrder.BIG_ENDIAN, ByteOrder.LITTLE_ENDIAN}) {
      for (ByteBuffer buf : kinds(lb.array())) {
        Tensor t = Tensor.fromRuntime(DType.INT64, SHAPE, buf.order(declared));
        for (int i = 0; i < 6; i++) {
          check(t.integerAt(i) == longs[i], "int64 " + i + " " + declared);
        }
      }
      for (ByteBuffer buf : kinds(ib.array())) {
        Tensor t = Tensor.fromRuntime(DType.INT32, SHAPE, buf.order(declared));
        for (int i = 0; i < 6; i++) {
          check(t.integerAt(i) == ints[i], "int32 " + i + " " + declared);
        }
      }
      for (ByteBuffer buf : kinds(bytes)) {
        Tensor t = Tensor.fromRuntime(DType.UINT8, SHAPE, buf.order(declared));
        check(Arrays.equals(t.data, bytes) && t.integerAt(1) == 255, "uint8 " + declared);
      }
    }
  }

  static void testOnlyTheRemainingBytesAreRead() {
    byte[] padded = new byte[4 + 24 + 4];
    System.arraycopy(floatBytes(FLOATS, ByteOrder.nativeOrder()), 0, padded, 4, 24);
    for (ByteBuffer buf : kinds(padded)) {
      buf.position(4).limit(28);
      Tensor t = Tensor.fromRuntime(DType.FLOAT32, SHAPE, buf.order(ByteOrder.BIG_ENDIAN));
      check(Arrays.equals(t.floats(), FLOATS), "window of a larger buffer");
      check(buf.position() == 4, "position kept");
    }
  }

  static void testBigEndianMachineBytesAreSwappedToTheCoresLittleEndian() {
    byte[] big = floatBytes(FLOATS, ByteOrder.BIG_ENDIAN);
    for (ByteBuffer buf : kinds(big)) {
      Tensor t = Tensor.fromRuntime(DType.FLOAT32, SHAPE, buf.order(ByteOrder.LITTLE_ENDIAN),
          ByteOrder.BIG_ENDIAN);
      check(Arrays.equals(t.floats(), FLOATS), "big-endian native order");
      check(Arrays.equals(t.data, floatBytes(FLOATS, ByteOrder.LITTLE_ENDIAN)), "stored LE");
    }
  }

  static void testRuntimeBufferOfTheWrongSizeIsAMessage() {
    expectError(() -> Tensor.fromRuntime(DType.FLOAT32, SHAPE, ByteBuffer.allocate(20)),
        "20 bytes", "[1, 2, 3]", "24 expected");
  }

  /** What ONNX Runtime's OrtException is: a checked exception (the real class needs the AAR). */
  static final class CheckedRuntimeError extends Exception {
    private static final long serialVersionUID = 1L;

    CheckedRuntimeError(String message) {
      super(message);
    }
  }

  static void testCheckedRuntimeErrorBecomesTheAppsMessage() {
    Exception ort = new CheckedRuntimeError("Error code - ORT_FAIL - message: Load model from"
        + " /data/m.onnx failed:/onnxruntime_src/onnxruntime/core/graph/model_load_utils.h:46"
        + " onnx.ModelProto exception: ONNX Runtime only *guarantees* support for models stamped"
        + " with official released onnx opset versions. Opset 23 is under development\nline 2");
    ContractException e = RuntimeFailure.translate("onnxruntime", "1.22.0", "m.onnx", "load", ort);
    String m = e.getMessage();
    check(m.startsWith("m.onnx: ONNX Runtime 1.22.0 could not load it ("), m);
    check(m.contains("needs a newer runtime") && m.contains("libs.versions.toml"), m);
    check(!m.contains("line 2") && e.getCause() == ort, "first line only, cause kept: " + m);
  }

  static void testExecuTorchAndNativeFailuresSayWhatToDo() {
    String m = RuntimeFailure.translate("executorch", "1.5.1", "m.pte", "run",
        new IllegalStateException("[ExecuTorch Error 0x14] Operator missing: aten::foo"))
        .getMessage();
    check(m.contains("m.pte: ExecuTorch 1.5.1 could not run it") && m.contains("release"), m);
    m = RuntimeFailure.translate("litert", "1.4.2", "m.tflite", "load",
        new IllegalArgumentException("Internal error: Cannot create interpreter: Didn't find op"
            + " for builtin opcode 'CONV_2D' version '7'")).getMessage();
    check(m.contains("LiteRT 1.4.2") && m.contains("needs a newer runtime"), m);
    m = RuntimeFailure.translate("litert", "1.4.2", "m.tflite", "run", new OutOfMemoryError())
        .getMessage();
    check(m.contains("(OutOfMemoryError)") && m.contains("out of memory"), m);
    m = RuntimeFailure.translate("onnxruntime", "1.22.0", "m.onnx", "load",
        new UnsatisfiedLinkError("dlopen failed")).getMessage();
    check(m.contains("native library"), m);
    m = RuntimeFailure.translate("onnxruntime", "1.22.0", "m.onnx", "run",
        new RuntimeException("something odd")).getMessage();
    check(m.endsWith("see logcat for the runtime's own log; re-export the model if it persists"), m);
    ContractException own = new ContractException("m.onnx.json: bad");
    check(RuntimeFailure.translate("onnxruntime", "1", "m", "run", own) == own, "passes through");
  }

  static String sidecar(String runtimeVersion) {
    return CoreTests.SIDECAR.substring(0, CoreTests.SIDECAR.length() - 1)
        + (runtimeVersion == null ? "" : ", \"runtime_version\": " + runtimeVersion) + "}";
  }

  static void testNewerExecuTorchProgramIsRefusedByAnOlderAppRuntime() {
    ModelMetadata meta = ModelMetadata.parse(
        sidecar("{\"runtime\": \"executorch\", \"version\": \"1.5.1\"}"), "m.pte.json");
    check("1.5.1".equals(meta.runtimeVersion) && meta.onnxOpset == -1, "parsed");
    expectError(() -> RuntimeVersions.check("m.pte", meta, "executorch", "1.4.0"),
        "m.pte", "ExecuTorch 1.5.1", "ExecuTorch 1.4.0", "executorch = \"1.5.1\"",
        "libs.versions.toml");
    RuntimeVersions.check("m.pte", meta, "executorch", "1.5.1");
    RuntimeVersions.check("m.pte", meta, "executorch", "1.10.0");
    RuntimeVersions.check("m.pte", ModelMetadata.parse(sidecar(null), "m.pte.json"),
        "executorch", "0.1.0"); // not recorded: the runtime's own load decides
  }

  static void testOnnxOpsetAboveTheAppsRuntimeIsRefused() {
    ModelMetadata meta = ModelMetadata.parse(sidecar(
        "{\"runtime\": \"onnxruntime\", \"version\": \"1.32.0\", \"opset\": 23}"), "m.onnx.json");
    expectError(() -> RuntimeVersions.check("m.onnx", meta, "onnxruntime", "1.22.0"),
        "opset 23", "ONNX Runtime 1.22.0", "up to 22");
    ModelMetadata ok = ModelMetadata.parse(sidecar(
        "{\"runtime\": \"onnxruntime\", \"version\": \"1.32.0\", \"opset\": 18}"), "m.onnx.json");
    RuntimeVersions.check("m.onnx", ok, "onnxruntime", "1.14.1");
    expectError(() -> RuntimeVersions.check("m.onnx", ok, "onnxruntime", "1.13.1"), "opset 18");
    check(RuntimeVersions.ortMaxOpset("1.27.0") == 22 && RuntimeVersions.ortMaxOpset("1.17.3") == 20,
        "opset table");
  }

  static void testTfliteNewerThanLiteRtImplementsIsRefused() {
    ModelMetadata meta = ModelMetadata.parse(sidecar("{\"runtime\": \"tflite\", \"version\":"
        + " \"2.3.0\", \"min_runtime_version\": \"2.19.0\"}"), "m.tflite.json");
    check("2.19.0".equals(meta.tfliteMinRuntime), "parsed");
    expectError(() -> RuntimeVersions.check("m.tflite", meta, "litert", "1.4.2"),
        "m.tflite", "2.19.0", "LiteRT 1.4.2", "raise litert");
    ModelMetadata old = ModelMetadata.parse(sidecar("{\"runtime\": \"tflite\", \"version\":"
        + " \"2.3.0\", \"min_runtime_version\": \"2.2.0\"}"), "m.tflite.json");
    RuntimeVersions.check("m.tflite", old, "litert", "1.4.2");
    RuntimeVersions.check("m.pte", meta, "executorch", "1.5.1"); // another runtime's record
    expectError(() -> ModelMetadata.parse(sidecar("{\"runtime\": \"tflite\", \"version\":"
        + " \"2.3.0\", \"min_runtime_version\": \"new\"}"), "m.json"),
        "runtime_version.min_runtime_version");
  }

  static void testVersionsCompareNumerically() {
    check(RuntimeVersions.compare("1.10.0", "1.9.2") > 0, "minor 10 > 9");
    check(RuntimeVersions.compare("1.5.1+cpu", "1.5.1") == 0, "local suffix");
    check(RuntimeVersions.compare("2.13.0.dev20260101", "2.13") == 0, "dev build, two parts");
    check(RuntimeVersions.compare("1.5.0rc1", "1.5.1") < 0, "rc suffix");
  }

  static void testMalformedRuntimeVersionNamesTheKey() {
    expectError(() -> ModelMetadata.parse(sidecar("{\"runtime\": \"onnxruntime\"}"), "m.json"),
        "m.json", "'version'");
    expectError(() -> ModelMetadata.parse(sidecar("\"1.5.1\""), "m.json"), "runtime_version");
    expectError(() -> ModelMetadata.parse(sidecar(
        "{\"runtime\": \"executorch\", \"version\": \"latest\"}"), "m.json"),
        "runtime_version.version");
    expectError(() -> ModelMetadata.parse(sidecar(
        "{\"runtime\": \"onnxruntime\", \"version\": \"1.2.0\", \"opset\": 0}"), "m.json"),
        "runtime_version.opset");
  }
}
