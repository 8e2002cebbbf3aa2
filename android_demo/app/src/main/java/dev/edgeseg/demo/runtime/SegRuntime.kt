package dev.edgeseg.demo.runtime

import dev.edgeseg.core.ContractException
import dev.edgeseg.core.DType
import dev.edgeseg.core.ModelFiles
import dev.edgeseg.core.Tensor
import java.io.File

/** How to run a model: a delegate / execution provider name and the CPU thread count. */
data class RuntimeOptions(val delegate: String = "cpu", val threads: Int = 4)

/**
 * One model loaded in one runtime. The tensors in and out are the core's raw little-endian
 * [Tensor]s, so the contract code (preprocess, postprocess, checks) is the same for every runtime.
 */
interface SegRuntime : AutoCloseable {
    /** The model's real input/output shapes and types, or null where the runtime cannot tell
     *  before a first run (ExecuTorch); the core checks them against the sidecar. */
    val inputShape: LongArray?
    val inputType: DType?
    val outputShape: LongArray?
    val outputType: DType?

    /** What actually runs, e.g. "litert/gpu ×4", for the stats line and the bench JSON. */
    val description: String

    fun run(input: Tensor): Tensor
}

/** A runtime's name, the delegates it offers (the first is the default) and how to open it. */
class RuntimeKind(
    val name: String,
    val delegates: List<String>,
    val open: (File, RuntimeOptions) -> SegRuntime,
)

/**
 * Runtimes by name. The name for a file comes from the core ([ModelFiles.runtimeFor], by
 * extension), so adding a runtime is one [register] call and one ModelFiles.RUNTIMES entry.
 */
object Runtimes {
    private val kinds = LinkedHashMap<String, RuntimeKind>()

    fun register(kind: RuntimeKind) {
        require(kind.name !in kinds) { "runtime ${kind.name} registered twice" }
        kinds[kind.name] = kind
    }

    init {
        register(RuntimeKind("litert", listOf("cpu", "gpu", "nnapi"), ::LiteRtRuntime))
        register(RuntimeKind("executorch", listOf("cpu"), ::ExecuTorchRuntime))
        register(RuntimeKind("onnxruntime", listOf("cpu", "xnnpack", "nnapi"), ::OrtRuntime))
    }

    /** The runtime for a model file name; unsupported extensions fail with the core's message. */
    fun forFile(fileName: String): RuntimeKind {
        val name = ModelFiles.runtimeFor(fileName)
        return kinds[name] ?: throw ContractException("$fileName: no '$name' runtime in this app build")
    }

    fun open(file: File, options: RuntimeOptions): SegRuntime {
        val kind = forFile(file.name)
        if (options.delegate !in kind.delegates) {
            throw ContractException(
                "${kind.name} has no '${options.delegate}' option (it offers ${kind.delegates.joinToString()})"
            )
        }
        return kind.open(file, options)
    }
}
