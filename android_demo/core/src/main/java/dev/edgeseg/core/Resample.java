package dev.edgeseg.core;

/**
 * The two resizes of the contract, bit-exact with the Python side.
 *
 * <p>{@link #bilinear} is Pillow's {@code Image.resize(size, Image.BILINEAR)} for RGB images
 * (src/libImaging/Resample.c): a triangle filter whose support widens by the scale factor when
 * shrinking (so it antialiases), coefficients computed in double and normalised to 22-bit fixed
 * point, a horizontal pass then a vertical pass, each rounding to uint8. It is the resize edgeseg
 * trains and evaluates with, so the phone feeds models what they were validated on.
 * {@link #nearest} resizes class masks in exact integers.
 */
public final class Resample {
  private static final int PRECISION_BITS = 32 - 8 - 2;

  private Resample() {}

  /** Pillow-exact BILINEAR resize of an RGB image to {@code outW x outH}. */
  public static RgbImage bilinear(RgbImage in, int outW, int outH) {
    if (outW <= 0 || outH <= 0) {
      throw new ContractException("cannot resize to " + outW + "x" + outH);
    }
    if (in.width == outW && in.height == outH) {
      return new RgbImage(outW, outH, in.rgb.clone());
    }
    Coeffs vert = Coeffs.of(in.height, outH);
    int first = vert.bounds[0];
    int last = vert.bounds[2 * outH - 2] + vert.bounds[2 * outH - 1];
    byte[] src = in.rgb;
    int srcW = in.width;
    int rowOffset = 0;
    if (outW != in.width) { // horizontal pass over the rows the vertical pass will read
      Coeffs horiz = Coeffs.of(in.width, outW);
      src = pass(in.rgb, in.width, first, last - first, outW, horiz);
      srcW = outW;
      rowOffset = first;
    }
    if (outH == in.height) {
      return new RgbImage(outW, outH, src);
    }
    byte[] out = new byte[3 * outW * outH];
    for (int yy = 0; yy < outH; yy++) {
      int ymin = vert.bounds[2 * yy] - rowOffset;
      int ymax = vert.bounds[2 * yy + 1];
      int k0 = yy * vert.ksize;
      for (int xx = 0; xx < outW; xx++) {
        for (int c = 0; c < 3; c++) {
          int ss = 1 << (PRECISION_BITS - 1);
          for (int y = 0; y < ymax; y++) {
            ss += (src[3 * ((y + ymin) * srcW + xx) + c] & 0xFF) * vert.k[k0 + y];
          }
          out[3 * (yy * outW + xx) + c] = clip8(ss);
        }
      }
    }
    return new RgbImage(outW, outH, out);
  }

  /** ImagingResampleHorizontal_8bpc over rows {@code first .. first+rows-1}. */
  private static byte[] pass(byte[] src, int srcW, int first, int rows, int outW, Coeffs h) {
    byte[] out = new byte[3 * outW * rows];
    for (int yy = 0; yy < rows; yy++) {
      int row = (yy + first) * srcW;
      for (int xx = 0; xx < outW; xx++) {
        int xmin = h.bounds[2 * xx];
        int xmax = h.bounds[2 * xx + 1];
        int k0 = xx * h.ksize;
        for (int c = 0; c < 3; c++) {
          int ss = 1 << (PRECISION_BITS - 1);
          for (int x = 0; x < xmax; x++) {
            ss += (src[3 * (row + x + xmin) + c] & 0xFF) * h.k[k0 + x];
          }
          out[3 * (yy * outW + xx) + c] = clip8(ss);
        }
      }
    }
    return out;
  }

  private static byte clip8(int ss) {
    int v = ss >> PRECISION_BITS;
    return (byte) (v < 0 ? 0 : v > 255 ? 255 : v);
  }

  /** precompute_coeffs + normalize_coeffs_8bpc for the bilinear filter (support 1). */
  private static final class Coeffs {
    final int ksize;
    final int[] bounds;
    final int[] k;

    private Coeffs(int ksize, int[] bounds, int[] k) {
      this.ksize = ksize;
      this.bounds = bounds;
      this.k = k;
    }

    static Coeffs of(int inSize, int outSize) {
      double scale = (double) inSize / outSize;
      double filterscale = Math.max(scale, 1.0);
      double support = 1.0 * filterscale;
      int ksize = (int) Math.ceil(support) * 2 + 1;
      int[] bounds = new int[2 * outSize];
      int[] k = new int[outSize * ksize];
      double[] w = new double[ksize];
      for (int xx = 0; xx < outSize; xx++) {
        double center = 0.0 + (xx + 0.5) * scale;
        double ww = 0.0;
        double ss = 1.0 / filterscale;
        int xmin = Math.max((int) (center - support + 0.5), 0);
        int xmax = Math.min((int) (center + support + 0.5), inSize) - xmin;
        for (int x = 0; x < xmax; x++) {
          w[x] = triangle((x + xmin - center + 0.5) * ss);
          ww += w[x];
        }
        for (int x = 0; x < xmax; x++) {
          double kx = ww != 0.0 ? w[x] / ww : w[x];
          k[xx * ksize + x] = kx < 0
              ? (int) (-0.5 + kx * (1 << PRECISION_BITS))
              : (int) (0.5 + kx * (1 << PRECISION_BITS));
        }
        bounds[2 * xx] = xmin;
        bounds[2 * xx + 1] = xmax;
      }
      return new Coeffs(ksize, bounds, k);
    }

    private static double triangle(double x) {
      if (x < 0.0) {
        x = -x;
      }
      return x < 1.0 ? 1.0 - x : 0.0;
    }
  }

  /** Nearest neighbour, half-pixel centres: {@code src = (2*dst + 1) * in / (2 * out)}. */
  public static byte[] nearest(byte[] mask, int inW, int inH, int outW, int outH) {
    if (mask.length != inW * inH) {
      throw new ContractException("a " + inW + "x" + inH + " mask needs " + inW * inH + " bytes");
    }
    byte[] out = new byte[outW * outH];
    int[] xs = new int[outW];
    for (int x = 0; x < outW; x++) {
      xs[x] = (int) ((2L * x + 1) * inW / (2L * outW));
    }
    for (int y = 0; y < outH; y++) {
      int sy = (int) ((2L * y + 1) * inH / (2L * outH));
      for (int x = 0; x < outW; x++) {
        out[y * outW + x] = mask[sy * inW + xs[x]];
      }
    }
    return out;
  }
}
