package dev.edgeseg.core;

/**
 * One model's contract: picture → input tensor, output tensor → class mask, and the checks that
 * the runtime's real tensors are what the sidecar says.
 *
 * <p>Each step is defined in {@code edgeseg/contract.py} (the reference) and implemented here
 * with the same arithmetic in the same order, so both produce identical bytes; CI proves it with
 * golden vectors for every export option.
 */
public final class ModelContract {
  public final ModelMetadata meta;

  public ModelContract(ModelMetadata meta) {
    this.meta = meta;
  }

  /** Contract for a model file name and its sidecar text (unsupported extension → error). */
  public static ModelContract forModel(String modelFile, String sidecarJson) {
    ModelFiles.runtimeFor(modelFile);
    return new ModelContract(ModelMetadata.parse(sidecarJson, ModelFiles.sidecarName(modelFile)));
  }

  public long[] inputShape() {
    return meta.layout == ModelMetadata.Layout.NCHW
        ? new long[] {1, 3, meta.height, meta.width}
        : new long[] {1, meta.height, meta.width, 3};
  }

  public long[] outputShape() {
    long c = meta.numClasses();
    if (meta.outputIsMask) {
      return new long[] {1, meta.height, meta.width};
    }
    return meta.layout == ModelMetadata.Layout.NCHW
        ? new long[] {1, c, meta.height, meta.width}
        : new long[] {1, meta.height, meta.width, c};
  }

  /** Throw unless the model's real input tensor is what the sidecar describes. */
  public void checkInput(long[] shape, DType dtype) {
    if (!java.util.Arrays.equals(shape, inputShape()) || dtype != meta.inputDType) {
      throw new ContractException(meta.source + ": the model's input is "
          + Tensor.shapeText(shape) + " " + dtype + " but the sidecar describes "
          + Tensor.shapeText(inputShape()) + " " + meta.inputDType
          + " (input_size, layout, input_dtype); re-export the model or fix the sidecar");
    }
  }

  /** Throw unless the model's real output tensor is what the sidecar describes. */
  public void checkOutput(long[] shape, DType dtype) {
    if (dtype != meta.outputDType || !outputFits(shape)) {
      throw new ContractException(meta.source + ": the model's output is "
          + Tensor.shapeText(shape) + " " + dtype + " but the sidecar describes "
          + Tensor.shapeText(outputShape()) + " " + meta.outputDType + " ("
          + (meta.outputIsMask ? "mask" : "logits")
          + ", classes, input_size, layout); re-export the model or fix the sidecar");
    }
  }

  private boolean outputFits(long[] shape) {
    if (!meta.outputIsMask) {
      return java.util.Arrays.equals(shape, outputShape());
    }
    // a mask's size-1 axes carry nothing: [1, H, W], [H, W] and [1, H, W, 1] all fit
    return java.util.Arrays.equals(nonUnit(shape), nonUnit(new long[] {meta.height, meta.width}));
  }

  private static long[] nonUnit(long[] shape) {
    return java.util.Arrays.stream(shape).filter(d -> d != 1).toArray();
  }

  /** RGB picture → the exact input tensor (resize, normalise or pack, quantise, layout). */
  public Tensor preprocess(RgbImage image) {
    int h = meta.height;
    int w = meta.width;
    byte[] rgb = Resample.bilinear(image, w, h).rgb;
    boolean nchw = meta.layout == ModelMetadata.Layout.NCHW;
    int hw = h * w;
    if (meta.mean == null) { // the graph normalises: raw pixels, only the layout changes
      byte[] out = new byte[3 * hw];
      for (int p = 0; p < hw; p++) {
        for (int c = 0; c < 3; c++) {
          out[nchw ? c * hw + p : 3 * p + c] = rgb[3 * p + c];
        }
      }
      return new Tensor(DType.UINT8, inputShape(), out);
    }
    boolean isFloat = meta.inputDType == DType.FLOAT32;
    float[] floats = isFloat ? new float[3 * hw] : null;
    byte[] bytes = isFloat ? null : new byte[3 * hw];
    for (int p = 0; p < hw; p++) {
      for (int c = 0; c < 3; c++) {
        float x = ((float) (rgb[3 * p + c] & 0xFF) / 255f - meta.mean[c]) / meta.std[c];
        int i = nchw ? c * hw + p : 3 * p + c;
        if (isFloat) {
          floats[i] = x;
        } else {
          bytes[i] = (byte) meta.inputQuant.quantize(x, meta.inputDType);
        }
      }
    }
    return isFloat ? Tensor.ofFloats(floats, inputShape()) : new Tensor(meta.inputDType,
        inputShape(), bytes);
  }

  /** The model's output → class mask at input_size (argmax over logits, or the graph's mask). */
  public Mask postprocess(Tensor out) {
    long[] shape = out.shape();
    if (meta.outputIsMask) {
      boolean maskType = out.dtype == DType.UINT8 || out.dtype == DType.INT32
          || out.dtype == DType.INT64;
      if (!maskType || !outputFits(shape)) {
        checkOutput(shape, out.dtype);
      }
      byte[] labels = new byte[meta.height * meta.width];
      for (int i = 0; i < labels.length; i++) {
        labels[i] = (byte) out.integerAt(i); // modulo 256, as numpy's astype(uint8)
      }
      return new Mask(meta.width, meta.height, labels);
    }
    if ((out.dtype != meta.outputDType && out.dtype != DType.FLOAT32) || !outputFits(shape)) {
      checkOutput(shape, out.dtype);
    }
    return new Mask(meta.width, meta.height, Argmax.of(out, meta.numClasses(),
        meta.layout == ModelMetadata.Layout.NCHW));
  }
}
