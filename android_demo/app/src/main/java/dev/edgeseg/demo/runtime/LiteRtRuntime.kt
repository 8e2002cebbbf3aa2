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
 * "nnapi" add that delegate (ops it cannot take fall back to the CPU, as LiteRT does).
 */
class LiteRtRuntime(file: File, private val options: RuntimeOptions) : SegRuntime {
    private val delegate: Delegate? = DELEGATES.getValue(options.delegate)()
    private val interpreter: Interpreter

    init {
        val opts = Interpreter.Options().setNumThreads(options.threads)
        delegate?.let { opts.addDelegate(it) }
        interpreter = try {
            Interpreter(map(file), opts)
        } catch (e: IllegalArgumentException) {
            delegate?.close()
            throw ContractException("${file.name}: LiteRT cannot load it (${e.message})", e)
        }
    }

    override val inputShape get() = interpreter.getInputTensor(0).shape().toLongs()
    override val inputType get() = dtype(interpreter.getInputTensor(0).dataType())
    override val outputShape get() = interpreter.getOutputTensor(0).shape().toLongs()
    override val outputType get() = dtype(interpreter.getOutputTensor(0).dataType())
    override val description get() = "litert/${options.delegate} ×${options.threads}"

    override fun run(input: Tensor): Tensor {
        val out = interpreter.getOutputTensor(0)
        val buffer = ByteBuffer.allocateDirect(out.numBytes()).order(ByteOrder.nativeOrder())
        interpreter.run(input.toDirectBuffer(), buffer)
        buffer.rewind()
        return Tensor.of(dtype(out.dataType()), out.shape().toLongs(), buffer)
    }

    override fun close() {
        interpreter.close()
        delegate?.close()
    }

    private companion object {
        val DELEGATES: Map<String, () -> Delegate?> = mapOf(
            "cpu" to { null },
            "gpu" to ::gpuDelegate,
            "nnapi" to { NnApiDelegate() },
        )

        fun gpuDelegate(): Delegate {
            val compatibility = CompatibilityList()
            if (!compatibility.isDelegateSupportedOnThisDevice) {
                throw ContractException("LiteRT's GPU delegate does not support this phone: use cpu or nnapi")
            }
            return GpuDelegate(compatibility.bestOptionsForThisDevice)
        }

        fun map(file: File): ByteBuffer = FileInputStream(file).use { stream ->
            stream.channel.map(FileChannel.MapMode.READ_ONLY, 0, stream.channel.size())
        }

        fun dtype(type: DataType): DType = DType.of(type.name.lowercase())

        fun IntArray.toLongs() = LongArray(size) { this[it].toLong() }
    }
}
