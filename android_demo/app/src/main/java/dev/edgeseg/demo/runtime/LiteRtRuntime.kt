package dev.edgeseg.demo.runtime

import dev.edgeseg.core.ContractException
import dev.edgeseg.core.DType
import dev.edgeseg.core.Tensor
import java.io.File
import java.io.FileInputStream
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.nio.channels.FileChannel
import org.tensorflow.lite.DataType
import org.tensorflow.lite.Delegate
import org.tensorflow.lite.Interpreter
import org.tensorflow.lite.gpu.CompatibilityList
import org.tensorflow.lite.gpu.GpuDelegate
import org.tensorflow.lite.nnapi.NnApiDelegate

/**
 * `.tflite` through LiteRT's Interpreter. "cpu" is LiteRT's default XNNPACK path; "gpu" and
 * "nnapi" add that delegate (ops it cannot take fall back to the CPU, as LiteRT does). The
 * thread count is the Interpreter's one pool (XNNPACK uses it), so nothing is oversubscribed.
 * Every LiteRT call goes through [translated]: an op version this LiteRT lacks, a delegate that
 * fails, a native library that does not load all become the app's message.
 */
class LiteRtRuntime(private val file: File, private val options: RuntimeOptions) : SegRuntime {
    private val delegate: Delegate? = translated(KIND, file, "load") { DELEGATES.getValue(options.delegate)() }
    private val interpreter: Interpreter = try {
        translated(KIND, file, "load") {
            val opts = Interpreter.Options().setNumThreads(options.threads)
            delegate?.let { opts.addDelegate(it) }
            Interpreter(map(file), opts)
        }
    } catch (e: ContractException) {
        delegate?.close()
        throw e
    }

    override val inputShape get() = interpreter.getInputTensor(0).shape().toLongs()
    override val inputType get() = dtype(interpreter.getInputTensor(0).dataType())
    override val outputShape get() = interpreter.getOutputTensor(0).shape().toLongs()
    override val outputType get() = dtype(interpreter.getOutputTensor(0).dataType())
    override val description get() = "litert/${options.delegate} ×${options.threads}"

    override fun run(input: Tensor): Tensor = translated(KIND, file, "run") {
        val out = interpreter.getOutputTensor(0)
        val buffer = ByteBuffer.allocateDirect(out.numBytes()).order(ByteOrder.nativeOrder())
        interpreter.run(input.toDirectBuffer(), buffer)
        buffer.rewind()
        Tensor.fromRuntime(dtype(out.dataType()), out.shape().toLongs(), buffer)
    }

    override fun close() {
        interpreter.close()
        delegate?.close()
    }

    private companion object {
        const val KIND = "litert"
        val DELEGATES: Map<String, () -> Delegate?> = mapOf(
            "cpu" to { null },
            "gpu" to ::gpuDelegate,
            "nnapi" to { NnApiDelegate() },
        )

        /** The GPU delegate with this phone's best options; the compatibility list is closed. */
        fun gpuDelegate(): Delegate = CompatibilityList().use { compatibility ->
            if (!compatibility.isDelegateSupportedOnThisDevice) {
                throw ContractException("LiteRT's GPU delegate does not support this phone: use cpu or nnapi")
            }
            GpuDelegate(compatibility.bestOptionsForThisDevice)
        }

        fun map(file: File): ByteBuffer = FileInputStream(file).use { stream ->
            stream.channel.map(FileChannel.MapMode.READ_ONLY, 0, stream.channel.size())
        }

        fun dtype(type: DataType): DType = DType.of(type.name.lowercase())

        fun IntArray.toLongs() = LongArray(size) { this[it].toLong() }
    }
}
