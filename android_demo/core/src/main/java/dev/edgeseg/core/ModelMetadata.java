package dev.edgeseg.core;

import java.util.List;

/**
 * A validated sidecar ({@code <artifact>.json}, written by {@code edgeseg export}).
 *
 * <p>Validation follows {@code edgeseg.sidecar.parse_meta} rule for rule, so a sidecar the host
 * accepts the phone accepts too, and a bad one fails on both with a message naming the key.
 * Nothing about a model is hard-coded in the app: it is all read here.
 */
public final class ModelMetadata {
  public static final String IN_GRAPH = "in-graph";

  /** Tensor memory order of input and output (logits) alike. */
  public enum Layout { NCHW, NHWC }

  public final String source;
  public final String arch;
  public final String quantization;
  public final List<String> classes;
  public final int[][] palette;
  public final int height;
  public final int width;
  public final Layout layout;
  public final float[] mean; // null: normalisation is in the graph
  public final float[] std;
  public final DType inputDType;
  public final Quant inputQuant; // null unless the input is quantised
  public final boolean outputIsMask;
  public final DType outputDType;
  public final Quant outputQuant;
  /** What the exporter verified the file with ({@code runtime_version}); null when absent. */
  public final String runtimeName;
  public final String runtimeVersion;
  /** The ONNX file's ai.onnx opset from {@code runtime_version}; -1 when not recorded. */
  public final int onnxOpset;
  /** A TFLite file's own min_runtime_version (a TensorFlow Lite release); null if unknown. */
  public final String tfliteMinRuntime;

  private ModelMetadata(Fields f) {
    source = f.source();
    arch = f.optString("arch", "model");
    quantization = f.optString("quantization", "?");
    classes = names(f);
    palette = palette(f, classes.size());
    int[] size = size(f);
    height = size[0];
    width = size[1];
    layout = Layout.valueOf(f.choice("layout", "NCHW", "NHWC"));
    inputDType = DType.of(f.choice("input_dtype", "float32", "uint8", "int8"));
    mean = norm(f, "mean");
    std = norm(f, "std");
    if ((mean == null) != (std == null)) {
      throw f.fail("mean and std must both be lists or both '" + IN_GRAPH + "'");
    }
    for (int c = 0; std != null && c < 3; c++) {
      if (std[c] == 0f) {
        throw f.fail("std has a zero");
      }
    }
    inputQuant = quant(f, "input_quantization", inputDType);
    if (mean == null && inputDType != DType.UINT8) {
      throw f.fail("mean/std '" + IN_GRAPH + "' needs input_dtype uint8");
    }
    if (mean != null && inputDType != DType.FLOAT32 && inputQuant == null) {
      throw f.fail("input_dtype " + inputDType + " with mean/std needs input_quantization"
          + " {scale, zero_point}");
    }
    outputIsMask = f.choice("output", "logits", "mask").equals("mask");
    outputDType = outputIsMask
        ? DType.of(f.choice("output_dtype", "uint8", "int32", "int64"))
        : DType.of(f.choice("output_dtype", "float32", "uint8", "int8"));
    outputQuant = quant(f, "output_quantization", outputDType);
    Fields rv = f.has("runtime_version") ? f.object("runtime_version") : null;
    runtimeName = rv == null ? null : rv.string("runtime");
    runtimeVersion = rv == null ? null : rv.string("version");
    onnxOpset = rv == null || !rv.has("opset") ? -1 : opset(rv);
    tfliteMinRuntime = rv == null ? null : rv.optString("min_runtime_version", null);
    release(f, "runtime_version.version", runtimeVersion);
    release(f, "runtime_version.min_runtime_version", tfliteMinRuntime);
  }

  private static void release(Fields f, String key, String value) {
    if (value != null) {
      try {
        RuntimeVersions.parse(value);
      } catch (ContractException ex) {
        throw f.fail(key + " " + ex.getMessage());
      }
    }
  }

  private static int opset(Fields rv) {
    Object v = rv.get("opset");
    if (!Fields.isInt(v) || (Long) v < 1 || (Long) v > 1000) {
      throw rv.fail("runtime_version.opset must be a positive integer, got " + Json.write(v));
    }
    return ((Long) v).intValue();
  }

  /** Parse and validate sidecar text; {@code source} (the file name) prefixes every error. */
  public static ModelMetadata parse(String json, String source) {
    return new ModelMetadata(Fields.parse(json, source));
  }

  public int numClasses() {
    return classes.size();
  }

  private static List<String> names(Fields f) {
    List<Object> raw = f.list("classes");
    List<String> out = new java.util.ArrayList<>();
    for (Object v : raw) {
      if (!(v instanceof String)) {
        throw f.fail("classes must be a non-empty list of names");
      }
      out.add((String) v);
    }
    if (out.isEmpty()) {
      throw f.fail("classes must be a non-empty list of names");
    }
    return java.util.Collections.unmodifiableList(out);
  }

  private static int[][] palette(Fields f, int n) {
    List<Object> raw = f.list("palette");
    String problem = "palette must hold one [r, g, b] (0-255) per class (" + n + ")";
    if (raw.size() < n) {
      throw f.fail(problem);
    }
    int[][] out = new int[raw.size()][];
    for (int i = 0; i < raw.size(); i++) {
      if (!(raw.get(i) instanceof List) || ((List<?>) raw.get(i)).size() != 3) {
        throw f.fail(problem);
      }
      out[i] = new int[3];
      for (int c = 0; c < 3; c++) {
        Object v = ((List<?>) raw.get(i)).get(c);
        if (!Fields.isInt(v) || (Long) v < 0 || (Long) v > 255) {
          throw f.fail(problem);
        }
        out[i][c] = ((Long) v).intValue();
      }
    }
    return out;
  }

  private static int[] size(Fields f) {
    List<Object> raw = f.list("input_size");
    if (raw.size() != 2 || !Fields.isInt(raw.get(0)) || !Fields.isInt(raw.get(1))) {
      throw f.fail("input_size must be [height, width], got " + Json.write(raw));
    }
    long h = (Long) raw.get(0);
    long w = (Long) raw.get(1);
    if (h <= 0 || w <= 0 || h > 1 << 15 || w > 1 << 15) {
      throw f.fail("input_size must be positive, got " + Json.write(raw));
    }
    return new int[] {(int) h, (int) w};
  }

  private static float[] norm(Fields f, String key) {
    Object v = f.get(key);
    if (IN_GRAPH.equals(v)) {
      return null;
    }
    String problem = key + " must be 3 numbers or '" + IN_GRAPH + "', got " + Json.write(v);
    if (!(v instanceof List) || ((List<?>) v).size() != 3) {
      throw f.fail(problem);
    }
    float[] out = new float[3];
    for (int c = 0; c < 3; c++) {
      Object x = ((List<?>) v).get(c);
      if (!Fields.isNumber(x)) {
        throw f.fail(problem);
      }
      out[c] = (float) Fields.number(x); // double → float32, as numpy's astype(float32)
    }
    return out;
  }

  private static Quant quant(Fields f, String key, DType dtype) {
    if (!f.has(key)) {
      return null;
    }
    Fields q = f.object(key);
    Object scale = q.has("scale") ? q.get("scale") : null;
    Object zero = q.has("zero_point") ? q.get("zero_point") : null;
    boolean ok = Fields.isNumber(scale) && Fields.isInt(zero);
    double s = ok ? Fields.number(scale) : 0;
    if (!ok || !(s > 0) || Double.isInfinite(s)) {
      throw f.fail(key + " must be {scale > 0, zero_point integer}, got " + Json.write(f.get(key)));
    }
    long z = (Long) zero;
    long lo = dtype == DType.INT8 ? -128 : dtype == DType.UINT8 ? 0 : Integer.MIN_VALUE;
    long hi = dtype == DType.INT8 ? 127 : dtype == DType.UINT8 ? 255 : Integer.MAX_VALUE;
    if (z < lo || z > hi) {
      throw f.fail(key + ".zero_point " + z + " is outside " + dtype);
    }
    return new Quant(s, (int) z);
  }
}
