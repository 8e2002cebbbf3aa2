package dev.edgeseg.core;

/**
 * Per-pixel argmax over the class axis, with numpy's rules: the first maximum wins and a NaN
 * counts as the maximum. Quantised logits are compared raw (a positive scale keeps the order).
 */
final class Argmax {
  private Argmax() {}

  static byte[] of(Tensor logits, int classes, boolean nchw) {
    int hw = (int) (logits.numel() / classes);
    int pixelStride = nchw ? 1 : classes;
    int classStride = nchw ? hw : 1;
    byte[] out = new byte[hw];
    if (logits.dtype == DType.FLOAT32) {
      float[] v = logits.floats();
      for (int p = 0; p < hw; p++) {
        out[p] = (byte) floatArgmax(v, p * pixelStride, classStride, classes);
      }
      return out;
    }
    byte[] raw = logits.data;
    boolean signed = logits.dtype == DType.INT8;
    for (int p = 0; p < hw; p++) {
      int base = p * pixelStride;
      int best = 0;
      int bestValue = signed ? raw[base] : raw[base] & 0xFF;
      for (int c = 1; c < classes; c++) {
        int v = signed ? raw[base + c * classStride] : raw[base + c * classStride] & 0xFF;
        if (v > bestValue) {
          bestValue = v;
          best = c;
        }
      }
      out[p] = (byte) best;
    }
    return out;
  }

  private static int floatArgmax(float[] v, int base, int stride, int classes) {
    float bestValue = v[base];
    if (Float.isNaN(bestValue)) {
      return 0;
    }
    int best = 0;
    for (int c = 1; c < classes; c++) {
      float x = v[base + c * stride];
      if (Float.isNaN(x)) {
        return c;
      }
      if (x > bestValue) {
        bestValue = x;
        best = c;
      }
    }
    return best;
  }
}
