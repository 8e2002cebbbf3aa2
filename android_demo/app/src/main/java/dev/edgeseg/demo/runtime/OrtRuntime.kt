package dev.edgeseg.demo.runtime

import ai.onnxruntime.OnnxJavaType
import ai.onnxruntime.OnnxTensor
import ai.onnxruntime.OrtEnvironment
import ai.onnxruntime.OrtException
import ai.onnxruntime.OrtSession
import ai.onnxruntime.TensorInfo
import dev.edgeseg.core.ContractException
import dev.edgeseg.core.DType
import dev.edgeseg.core.Tensor
import java.io.File

/**
 * `.onnx` through ONNX Runtime. "cpu" is ORT's own CPU provider; "xnnpack" and "nnapi" add
 * those execution providers (nodes they cannot take stay on the CPU provider).
 */
class OrtRuntime(file: File, private val options: RuntimeOptions) : SegRuntime {
    private val env = OrtEnvironment.getEnvironment()
    private val session: OrtSession
    private val inputName: String

    init {
        val opts = OrtSession.SessionOptions()
        opts.setIntraOpNumThreads(options.threads)
        PROVIDERS.getValue(options.delegate)(opts, options.threads)
        session = try {
            env.createSession(file.absolutePath, opts)
        } catch (e: OrtException) {
            throw ContractException("${file.name}: ONNX Runtime cannot load it (${e.message})", e)
        }
        inputName = session.inputNames.first()
    }

    private fun info(first: Map<String, ai.onnxruntime.NodeInfo>) = first.values.first().info as TensorInfo

    override val inputShape get() = info(session.inputInfo).shape
    override val inputType get() = TYPES[info(session.inputInfo).type]
    override val outputShape get() = info(session.outputInfo).shape
    override val outputType get() = TYPES[info(session.outputInfo).type]
    override val description get() = "onnxruntime/${options.delegate} ×${options.threads}"

    override fun run(input: Tensor): Tensor {
        val type = TYPES.entries.first { it.value == input.dtype }.key
        OnnxTensor.createTensor(env, input.toDirectBuffer(), input.shape(), type).use { x ->
            session.run(mapOf(inputName to x)).use { result ->
                val out = result[0] as OnnxTensor
                val dtype = TYPES[out.info.type]
                    ?: throw ContractException("output type ${out.info.type} is not one a sidecar can describe")
                return Tensor.of(dtype, out.info.shape, out.byteBuffer)
            }
        }
    }

    override fun close() = session.close()

    private companion object {
        val TYPES = mapOf(
            OnnxJavaType.FLOAT to DType.FLOAT32,
            OnnxJavaType.UINT8 to DType.UINT8,
            OnnxJavaType.INT8 to DType.INT8,
            OnnxJavaType.INT32 to DType.INT32,
            OnnxJavaType.INT64 to DType.INT64,
        )
        val PROVIDERS: Map<String, (OrtSession.SessionOptions, Int) -> Unit> = mapOf(
            "cpu" to { _, _ -> },
            "xnnpack" to { o, n -> o.addXnnpack(mapOf("intra_op_num_threads" to n.toString())) },
            "nnapi" to { o, _ -> o.addNnapi() },
        )
    }
}
