package dev.edgeseg.core;

/**
 * Class colours blended over a picture, in exact integers (same bytes as edgeseg.contract.overlay).
 *
 * <p>{@code alpha = floor(opacity * 255 + 0.5)};
 * {@code out = (pixel * (255 - alpha) + colour * alpha + 127) / 255} where the label has a
 * palette colour, the pixel unchanged elsewhere (255 = ignore). The mask is resized to the
 * picture by nearest neighbour first.
 */
public final class Overlay {
  private Overlay() {}

  public static int alpha(double opacity) {
    if (!(opacity >= 0.0 && opacity <= 1.0)) {
      throw new ContractException("opacity must be in [0, 1], got " + opacity);
    }
    return (int) Math.floor(opacity * 255.0 + 0.5);
  }

  public static RgbImage blend(RgbImage image, Mask mask, int[][] palette, double opacity) {
    int a = alpha(opacity);
    Mask m = mask.resize(image.width, image.height);
    int n = Math.min(palette.length, 256);
    byte[] out = image.rgb.clone();
    for (int i = 0; i < m.labels.length; i++) {
      int label = m.labels[i] & 0xFF;
      if (label >= n) {
        continue;
      }
      for (int c = 0; c < 3; c++) {
        int px = image.rgb[3 * i + c] & 0xFF;
        out[3 * i + c] = (byte) ((px * (255 - a) + palette[label][c] * a + 127) / 255);
      }
    }
    return new RgbImage(image.width, image.height, out);
  }
}
