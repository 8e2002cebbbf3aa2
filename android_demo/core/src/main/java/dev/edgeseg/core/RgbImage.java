package dev.edgeseg.core;

/**
 * An 8-bit RGB picture, row-major, channels interleaved ({@code r, g, b, r, g, b, …}).
 *
 * <p>The app converts camera frames and gallery bitmaps to this; the host test feeds the same
 * bytes Python's PIL decoded, so both sides start from identical pixels.
 */
public final class RgbImage {
  public final int width;
  public final int height;
  public final byte[] rgb;

  public RgbImage(int width, int height, byte[] rgb) {
    if (width <= 0 || height <= 0 || rgb.length != 3 * width * height) {
      throw new ContractException(
          "an RGB image of " + width + "x" + height + " needs " + 3L * width * height
              + " bytes, got " + rgb.length);
    }
    this.width = width;
    this.height = height;
    this.rgb = rgb;
  }

  /** From Android-style packed ARGB ints (Bitmap.getPixels); alpha is dropped. */
  public static RgbImage fromArgb(int[] argb, int width, int height) {
    byte[] rgb = new byte[3 * width * height];
    for (int i = 0; i < width * height; i++) {
      int p = argb[i];
      rgb[3 * i] = (byte) (p >> 16);
      rgb[3 * i + 1] = (byte) (p >> 8);
      rgb[3 * i + 2] = (byte) p;
    }
    return new RgbImage(width, height, rgb);
  }

  /** To opaque packed ARGB ints (Bitmap.setPixels / createBitmap). */
  public int[] toArgb() {
    int[] argb = new int[width * height];
    for (int i = 0; i < argb.length; i++) {
      argb[i] = 0xFF000000 | (rgb[3 * i] & 0xFF) << 16 | (rgb[3 * i + 1] & 0xFF) << 8
          | (rgb[3 * i + 2] & 0xFF);
    }
    return argb;
  }
}
