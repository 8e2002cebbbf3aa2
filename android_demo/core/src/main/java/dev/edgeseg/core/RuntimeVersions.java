package dev.edgeseg.core;

import java.util.Locale;

/**
 * Whether this app's runtime can run a model, from the exporter's runtime version that the
 * sidecar records ({@code runtime_version}), checked before the runtime is asked to load it.
 *
 * <p>ExecuTorch promises no forward compatibility: a {@code .pte} is only guaranteed to load in
 * the release that wrote it or a newer one, so an older app runtime is refused with a message
 * instead of an abort or a cryptic error. ONNX Runtime runs every opset up to the one its release
 * implements ({@link #ortMaxOpset}). A {@code .tflite} file names the oldest TensorFlow Lite
 * runtime whose kernels cover its op versions ({@code min_runtime_version}); every LiteRT Android
 * release (the Maven successor of {@code tensorflow-lite} 2.16) implements at least
 * {@link #LITERT_TFLITE_RUNTIME}. A sidecar without the key (older exports, hand-written ones) is
 * not refused: the runtime's own error still becomes a message ({@link RuntimeFailure}).
 */
public final class RuntimeVersions {
  private RuntimeVersions() {}

  /**
   * Highest ai.onnx opset each ONNX Runtime minor release implements (ONNX Runtime's published
   * compatibility table). Releases after the last row are taken to implement at least its opset.
   */
  private static final int[][] ORT_OPSETS = {
    {14, 18}, {15, 19}, {16, 19}, {17, 20}, {18, 21}, {19, 21}, {20, 21}, {21, 22}, {22, 22},
  };

  /**
   * The TensorFlow Lite runtime release every LiteRT Android release implements at least:
   * {@code org.tensorflow:tensorflow-lite} was relocated to {@code com.google.ai.edge.litert:litert}
   * after 2.16, so LiteRT 1.0.1 and later run what TensorFlow Lite 2.16 runs.
   */
  public static final String LITERT_TFLITE_RUNTIME = "2.16.0";

  /** The highest opset ONNX Runtime {@code version} ("1.22.0") runs; -1 below 1.14. */
  public static int ortMaxOpset(String version) {
    int[] v = parse(version);
    if (v[0] != 1) {
      return v[0] > 1 ? ORT_OPSETS[ORT_OPSETS.length - 1][1] : -1;
    }
    int best = -1;
    for (int[] row : ORT_OPSETS) {
      if (v[1] >= row[0]) {
        best = row[1];
      }
    }
    return best;
  }

  /**
   * Refuse a model this app's runtime ({@code runtime}, at {@code appVersion}) may not run.
   *
   * @param file the model file name, for the message
   * @param meta the model's sidecar; without {@code runtime_version} nothing is checked
   */
  public static void check(String file, ModelMetadata meta, String runtime, String appVersion) {
    if (meta.runtimeName == null || !meta.runtimeName.equals(exporterName(runtime))) {
      return; // not recorded, or recorded by another runtime (checked by that runtime's load)
    }
    String toml = "android_demo/gradle/libs.versions.toml";
    if (runtime.equals("executorch") && compare(meta.runtimeVersion, appVersion) > 0) {
      throw new ContractException(file + " was exported with ExecuTorch " + meta.runtimeVersion
          + " but this app has ExecuTorch " + appVersion + ", which may not load it (ExecuTorch"
          + " programs are not forward compatible): set executorch = \"" + meta.runtimeVersion
          + "\" in " + toml + " and rebuild the app, or export with executorch=="
          + appVersion);
    }
    if (runtime.equals("litert") && meta.tfliteMinRuntime != null
        && compare(meta.tfliteMinRuntime, LITERT_TFLITE_RUNTIME) > 0) {
      throw new ContractException(file + " needs a TensorFlow Lite runtime of "
          + meta.tfliteMinRuntime + " or newer (its min_runtime_version) but this app's LiteRT "
          + appVersion + " is only known to implement " + LITERT_TFLITE_RUNTIME + ": raise litert"
          + " in " + toml + " and rebuild the app, or export with an older converter");
    }
    if (runtime.equals("onnxruntime") && meta.onnxOpset > ortMaxOpset(appVersion)) {
      throw new ContractException(file + " uses ONNX opset " + meta.onnxOpset + " but this app's"
          + " ONNX Runtime " + appVersion + " runs opsets up to " + ortMaxOpset(appVersion)
          + ": raise onnxruntime in " + toml + " and rebuild the app");
    }
  }

  /** The name edgeseg's exporter records for the app's runtime (its host runtime's name). */
  static String exporterName(String runtime) {
    return runtime.equals("litert") ? "tflite" : runtime;
  }

  /** Compare dotted release versions numerically ("1.10.0" > "1.9.2"); suffixes ignored. */
  public static int compare(String a, String b) {
    int[] x = parse(a);
    int[] y = parse(b);
    for (int i = 0; i < 3; i++) {
      if (x[i] != y[i]) {
        return Integer.compare(x[i], y[i]);
      }
    }
    return 0;
  }

  /** "1.5.1", "1.5.1+cpu", "2.13.0.dev20260101", "1.5" → {major, minor, patch}. */
  static int[] parse(String version) {
    String[] parts = version.trim().toLowerCase(Locale.ROOT).split("[.+-]");
    int[] out = new int[3];
    for (int i = 0; i < 3 && i < parts.length; i++) {
      String digits = parts[i].replaceAll("^(\\d*).*$", "$1");
      if (digits.isEmpty()) {
        if (i == 0) {
          throw new ContractException("'" + version + "' is not a release version");
        }
        break;
      }
      out[i] = Integer.parseInt(digits);
    }
    return out;
  }
}
