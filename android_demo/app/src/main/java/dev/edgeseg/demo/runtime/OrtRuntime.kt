package dev.edgeseg.demo.runtime

import ai.onnxruntime.NodeInfo
import ai.onnxruntime.OnnxJavaType
import ai.onnxruntime.OnnxTensor
import ai.onnxruntime.OrtEnvironment
import ai.onnxruntime.OrtSession
import ai.onnxruntime.TensorInfo
import dev.edgeseg.core.ContractException
import dev.edgeseg.core.DType
import dev.edgeseg.core.Tensor
import java.io.File

/**
 * `.onnx` through ONNX Runtime. "cpu" is ORT's own CPU provider; "xnnpack" and "nnapi" add
 * those execution providers (nodes they cannot take stay on the CPU provider). With XNNPACK the
 * threads are XNNPACK's and ORT's intra-op pool is 1, as ONNX Runtime advises, so N threads mean
 * N, not 2N competing for the cores. Every ORT call goes through [translated]: its checked
 * OrtException becomes a message, never a crash.
 */
class OrtRuntime(private val file: File, private val options: RuntimeOptions) : SegRuntime {
    private val env = OrtEnvironment.getEnvironment()
    private val sessionOptions = OrtSession.SessionOptions() // closed after the session (ORT's rule)
    private val session: OrtSession = openSession()
    private val inputName: String = session.inputNames.first()

    private fun openSession(): OrtSession = try {
        translated(KIND, file, "load") {
            val xnnpack = options.delegate == "xnnpack"
            sessionOptions.setIntraOpNumThreads(if (xnnpack) 1 else options.threads)
            PROVIDERS.getValue(options.delegate)(sessionOptions, options.threads)
            env.createSession(file.absolutePath, sessionOptions)
        }
    } catch (e: ContractException) {
        sessionOptions.close()
        throw e
    }

    private fun info(nodes: Map<String, NodeInfo>) = nodes.values.first().info as TensorInfo

    override val inputShape get() = translated(KIND, file, "inspect") { info(session.inputInfo).shape }
    override val inputType get() = translated(KIND, file, "inspect") { TYPES[info(session.inputInfo).type] }
    override val outputShape get() = translated(KIND, file, "inspect") { info(session.outputInfo).shape }
    override val outputType get() = translated(KIND, file, "inspect") { TYPES[info(session.outputInfo).type] }
    override val description get() = "onnxruntime/${options.delegate} ×${options.threads}"

    override fun run(input: Tensor): Tensor = translated(KIND, file, "run") {
        val type = TYPES.entries.first { it.value == input.dtype }.key
        OnnxTensor.createTensor(env, input.toDirectBuffer(), input.shape(), type).use { x ->
            session.run(mapOf(inputName to x)).use { result ->
                val out = result[0] as OnnxTensor
                val dtype = TYPES[out.info.type]
                    ?: throw ContractException("${file.name}: output type ${out.info.type} is not one a sidecar can describe")
                // getByteBuffer() is a copy whose declared order has been wrong (big-endian label
                // on little-endian bytes): the core reads it in native order, whatever the label
                Tensor.fromRuntime(dtype, out.info.shape, out.byteBuffer)
            }
        }
    }

    override fun close() {
        try {
            session.close()
        } finally {
            sessionOptions.close()
        }
    }

    private companion object {
        const val KIND = "onnxruntime"
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
