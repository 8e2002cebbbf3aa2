package dev.edgeseg.core;

/** Tensor element types that appear in sidecars and runtime tensors, by their numpy names. */
public enum DType {
  FLOAT32("float32", 4),
  UINT8("uint8", 1),
  INT8("int8", 1),
  INT32("int32", 4),
  INT64("int64", 8);

  public final String label;
  public final int bytes;

  DType(String label, int bytes) {
    this.label = label;
    this.bytes = bytes;
  }

  /** The numpy name ("float32", …) → DType; unknown names are a ContractException. */
  public static DType of(String label) {
    for (DType t : values()) {
      if (t.label.equals(label)) {
        return t;
      }
    }
    throw new ContractException("unknown tensor type '" + label + "'");
  }

  @Override
  public String toString() {
    return label;
  }
}
