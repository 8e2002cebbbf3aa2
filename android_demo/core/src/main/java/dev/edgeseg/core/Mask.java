package dev.edgeseg.core;

/** A class-id map, row-major, one unsigned byte per pixel (255 = ignore / no class). */
public final class Mask {
  public final int width;
  public final int height;
  public final byte[] labels;

  public Mask(int width, int height, byte[] labels) {
    if (labels.length != width * height) {
      throw new ContractException("a " + width + "x" + height + " mask needs " + width * height
          + " bytes, got " + labels.length);
    }
    this.width = width;
    this.height = height;
    this.labels = labels;
  }

  /** Nearest-neighbour resize (exact integers, see {@link Resample#nearest}). */
  public Mask resize(int outW, int outH) {
    if (outW == width && outH == height) {
      return this;
    }
    return new Mask(outW, outH, Resample.nearest(labels, width, height, outW, outH));
  }

  /** Pixels per class id (index 0..255), e.g. for the legend's "present classes". */
  public int[] histogram() {
    int[] counts = new int[256];
    for (byte b : labels) {
      counts[b & 0xFF]++;
    }
    return counts;
  }
}
