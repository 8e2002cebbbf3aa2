package dev.edgeseg.core;

/** Affine quantisation of one tensor: {@code real = (q - zeroPoint) * scale}. */
public final class Quant {
  public final double scale;
  public final int zeroPoint;

  public Quant(double scale, int zeroPoint) {
    this.scale = scale;
    this.zeroPoint = zeroPoint;
  }

  /** float32 → int8/uint8 exactly as edgeseg.contract.quantize: clip(rint(x / scale) + zp). */
  public int quantize(float x, DType dtype) {
    float q = (float) Math.rint(x / (float) scale) + (float) zeroPoint;
    float lo = dtype == DType.INT8 ? -128f : 0f;
    float hi = dtype == DType.INT8 ? 127f : 255f;
    return (int) Math.max(lo, Math.min(hi, q));
  }

  /** int8/uint8 value (already sign- or zero-extended) → float32: (q - zp) * scale. */
  public float dequantize(int q) {
    return (float) (q - zeroPoint) * (float) scale;
  }
}
