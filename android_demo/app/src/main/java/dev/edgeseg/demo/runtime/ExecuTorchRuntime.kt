package dev.edgeseg.demo.runtime

import dev.edgeseg.core.ContractException
import dev.edgeseg.core.DType
import dev.edgeseg.core.Tensor
import java.io.File
import org.pytorch.executorch.EValue
import org.pytorch.executorch.Module
import org.pytorch.executorch.Tensor as EtTensor

/**
 * `.pte` through ExecuTorch's Module. The backend (XNNPACK for edgeseg's exports) is chosen at
 * export time and baked into the file, so the only option here is the thread count. ExecuTorch
 * does not expose tensor shapes before a run: the app checks the first output instead. ExecuTorch
 * 1.x throws ExecutorchRuntimeException on a failed load or run (0.x returned an empty output);
 * both go through [translated] and become the app's message.
 */
class ExecuTorchRuntime(private val file: File, private val options: RuntimeOptions) : SegRuntime {
    private val module: Module = translated(KIND, file, "load") {
        Module.load(file.absolutePath, Module.LOAD_MODE_MMAP, options.threads)
    }

    override val inputShape: LongArray? = null
    override val inputType: DType? = null
    override val outputShape: LongArray? = null
    override val outputType: DType? = null
    override val description get() = "executorch ×${options.threads}"

    override fun run(input: Tensor): Tensor = translated(KIND, file, "run") {
        val shape = input.shape()
        val tensor = when (input.dtype) {
            DType.FLOAT32 -> EtTensor.fromBlob(input.floats(), shape)
            DType.UINT8 -> EtTensor.fromBlobUnsigned(input.data, shape)
            DType.INT8 -> EtTensor.fromBlob(input.data, shape)
            else -> throw ContractException("ExecuTorch input of type ${input.dtype} is not supported")
        }
        val outputs = module.forward(EValue.from(tensor))
        if (outputs.isEmpty()) { // defensive: what 0.x returned instead of throwing
            throw ContractException(
                "${file.name}: ExecuTorch could not run it on a ${Tensor.shapeText(shape)} ${input.dtype} " +
                    "input (the sidecar's input_size/layout/input_dtype); see logcat tag ExecuTorch"
            )
        }
        fromExecuTorch(outputs[0].toTensor())
    }

    override fun close() = module.destroy()

    /** ExecuTorch's typed Java arrays → the core's little-endian [Tensor] (no byte buffers). */
    private fun fromExecuTorch(t: EtTensor): Tensor {
        val shape = t.shape()
        return when (t.dtype()) {
            org.pytorch.executorch.DType.FLOAT -> Tensor.ofFloats(t.dataAsFloatArray, shape)
            org.pytorch.executorch.DType.UINT8 -> Tensor(DType.UINT8, shape, t.dataAsUnsignedByteArray)
            org.pytorch.executorch.DType.INT8 -> Tensor(DType.INT8, shape, t.dataAsByteArray)
            org.pytorch.executorch.DType.INT32 -> Tensor.ofInts(t.dataAsIntArray, shape)
            org.pytorch.executorch.DType.INT64 -> Tensor.ofLongs(t.dataAsLongArray, shape)
            else -> throw ContractException("${file.name}: output type ${t.dtype()} is not one a sidecar can describe")
        }
    }

    private companion object {
        const val KIND = "executorch"
    }
}
