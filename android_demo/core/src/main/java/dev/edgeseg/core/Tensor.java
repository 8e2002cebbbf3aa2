package dev.edgeseg.core;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A dense tensor as raw little-endian bytes plus dtype and shape.
 *
 * <p>Raw bytes are what every runtime takes (LiteRT ByteBuffers, ONNX Runtime buffers,
 * ExecuTorch blobs) and what numpy's {@code tobytes()} gives on the host, so "same input tensor"
 * is checked byte for byte.
 */
public final class Tensor {
  public final DType dtype;
  private final long[] shape;
  public final byte[] data;

  public Tensor(DType dtype, long[] shape, byte[] data) {
    long n = numel(shape);
    if (n * dtype.bytes != data.length) {
      throw new ContractException("a " + dtype + " tensor of shape " + shapeText(shape) + " needs "
          + n * dtype.bytes + " bytes, got " + data.length);
    }
    this.dtype = dtype;
    this.shape = shape.clone();
    this.data = data;
  }

  public static Tensor ofFloats(float[] values, long[] shape) {
    ByteBuffer buf = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    buf.asFloatBuffer().put(values);
    return new Tensor(DType.FLOAT32, shape, buf.array());
  }

  public static Tensor ofLongs(long[] values, long[] shape) {
    ByteBuffer buf = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    buf.asLongBuffer().put(values);
    return new Tensor(DType.INT64, shape, buf.array());
  }

  public static Tensor ofInts(int[] values, long[] shape) {
    ByteBuffer buf = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    buf.asIntBuffer().put(values);
    return new Tensor(DType.INT32, shape, buf.array());
  }

  /**
   * Copy a runtime's output buffer into a tensor: the one place any runtime's bytes become a
   * core {@link Tensor}, so the byte order is decided once, here, and tested.
   *
   * <p>The bytes between the buffer's position and limit are read as <b>native-order</b>
   * elements, whatever order the buffer declares: runtimes write native memory, and ONNX
   * Runtime's {@code OnnxTensor.getByteBuffer()} has returned a heap copy labelled big-endian
   * (Java's default) that holds little-endian bytes, which trusting the label turns into garbage
   * logits. Heap, direct and read-only buffers are all accepted; the caller's buffer (position,
   * order) is left untouched. A byte count that does not fit {@code shape} is a
   * ContractException naming both.
   */
  public static Tensor fromRuntime(DType dtype, long[] shape, ByteBuffer buffer) {
    return fromRuntime(dtype, shape, buffer, ByteOrder.nativeOrder());
  }

  /** {@link #fromRuntime(DType, long[], ByteBuffer)} on a machine of byte order {@code nat}. */
  static Tensor fromRuntime(DType dtype, long[] shape, ByteBuffer buffer, ByteOrder nat) {
    ByteBuffer src = buffer.duplicate().order(nat); // declared order ignored on purpose
    if (src.remaining() != numel(shape) * dtype.bytes) {
      throw new ContractException("the runtime returned " + src.remaining() + " bytes for a "
          + dtype + " tensor of shape " + shapeText(shape) + " (" + numel(shape) * dtype.bytes
          + " expected); re-export the model or fix the sidecar");
    }
    ByteBuffer out = ByteBuffer.allocate(src.remaining()).order(ByteOrder.LITTLE_ENDIAN);
    if (dtype.bytes == 1 || nat == ByteOrder.LITTLE_ENDIAN) {
      out.put(src); // works for read-only and direct sources too (no array() access)
    } else {
      while (src.hasRemaining()) {
        switch (dtype) {
          case FLOAT32: out.putFloat(src.getFloat()); break;
          case INT32: out.putInt(src.getInt()); break;
          default: out.putLong(src.getLong()); break;
        }
      }
    }
    return new Tensor(dtype, shape, out.array());
  }

  public long[] shape() {
    return shape.clone();
  }

  public long numel() {
    return numel(shape);
  }

  /** The data as a direct, native-order buffer (what LiteRT and ONNX Runtime read from). */
  public ByteBuffer toDirectBuffer() {
    ByteBuffer direct = ByteBuffer.allocateDirect(data.length).order(ByteOrder.nativeOrder());
    ByteBuffer le = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN || dtype.bytes == 1) {
      direct.put(le);
    } else {
      for (long i = 0; i < numel(); i++) {
        switch (dtype) {
          case FLOAT32: direct.putFloat(le.getFloat()); break;
          case INT32: direct.putInt(le.getInt()); break;
          default: direct.putLong(le.getLong()); break;
        }
      }
    }
    direct.rewind();
    return direct;
  }

  public float[] floats() {
    float[] out = new float[(int) numel()];
    ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
    return out;
  }

  /** Element {@code i} as a long, for any integer dtype (int8 sign-extended, uint8 not). */
  public long integerAt(int i) {
    switch (dtype) {
      case UINT8: return data[i] & 0xFF;
      case INT8: return data[i];
      case INT32: return ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).getInt(4 * i);
      case INT64: return ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).getLong(8 * i);
      default: throw new ContractException("integerAt on a " + dtype + " tensor");
    }
  }

  static long numel(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new ContractException("dynamic or negative dimension in shape " + shapeText(shape));
      }
      n *= d;
    }
    return n;
  }

  public static String shapeText(long[] shape) {
    return Arrays.toString(shape);
  }
}
