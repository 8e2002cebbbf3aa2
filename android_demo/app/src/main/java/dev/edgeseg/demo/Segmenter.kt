package dev.edgeseg.demo

import android.os.SystemClock
import dev.edgeseg.core.Mask
import dev.edgeseg.core.ModelContract
import dev.edgeseg.core.RgbImage
import dev.edgeseg.core.RuntimeVersions
import dev.edgeseg.core.Tensor
import dev.edgeseg.demo.runtime.RuntimeOptions
import dev.edgeseg.demo.runtime.Runtimes
import dev.edgeseg.demo.runtime.SegRuntime

/**
 * A model ready to segment: its contract (from the sidecar) checked against the runtime's real
 * tensors, so a sidecar that disagrees with its model is a clear message, not a crash or junk.
 */
class Segmenter private constructor(
    val file: String,
    val contract: ModelContract,
    private val runtime: SegRuntime,
    val loadMs: Double,
) : AutoCloseable {
    /** One frame's mask and where the time went. */
    class Result(val mask: Mask, val preMs: Double, val inferMs: Double, val postMs: Double)

    private var outputChecked = false
    val description get() = runtime.description

    fun segment(image: RgbImage): Result {
        val t0 = SystemClock.elapsedRealtimeNanos()
        val input = contract.preprocess(image)
        val t1 = SystemClock.elapsedRealtimeNanos()
        val output = infer(input)
        val t2 = SystemClock.elapsedRealtimeNanos()
        val mask = contract.postprocess(output)
        val t3 = SystemClock.elapsedRealtimeNanos()
        return Result(mask, ms(t1 - t0), ms(t2 - t1), ms(t3 - t2))
    }

    /** One forward pass; the first output is checked against the sidecar. */
    fun infer(input: Tensor): Tensor {
        val output = runtime.run(input)
        if (!outputChecked) {
            contract.checkOutput(output.shape(), output.dtype)
            outputChecked = true
        }
        return output
    }

    override fun close() = runtime.close()

    companion object {
        /**
         * Contract first (extension, sidecar), then whether this app's runtime is new enough for
         * the file (the sidecar's runtime_version), then the runtime, then the I/O checks.
         */
        fun open(repo: ModelRepository, file: String, options: RuntimeOptions): Segmenter {
            val contract = repo.contract(file)
            val kind = Runtimes.forFile(file)
            RuntimeVersions.check(java.io.File(file).name, contract.meta, kind.name, kind.version)
            val local = repo.localFile(file)
            val start = SystemClock.elapsedRealtimeNanos()
            val runtime = Runtimes.open(local, options)
            val loadMs = ms(SystemClock.elapsedRealtimeNanos() - start)
            try {
                val inShape = runtime.inputShape
                val inType = runtime.inputType
                if (inShape != null && inType != null) contract.checkInput(inShape, inType)
                val outShape = runtime.outputShape
                val outType = runtime.outputType
                if (outShape != null && outType != null) contract.checkOutput(outShape, outType)
            } catch (e: RuntimeException) {
                runtime.close()
                throw e
            }
            return Segmenter(file, contract, runtime, loadMs)
        }

        fun ms(nanos: Long) = nanos / 1e6
    }
}
