package dev.edgeseg.demo.runtime

import dev.edgeseg.core.ContractException
import dev.edgeseg.core.DType
import dev.edgeseg.core.ModelFiles
import dev.edgeseg.core.RuntimeFailure
import dev.edgeseg.core.Tensor
import dev.edgeseg.demo.BuildConfig
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

/**
 * A runtime's name, the release this APK links ([BuildConfig], from gradle/libs.versions.toml),
 * the delegates it offers (the first is the default) and how to open it.
 */
class RuntimeKind(
    val name: String,
    val version: String,
    val delegates: List<String>,
    val open: (File, RuntimeOptions) -> SegRuntime,
)

/**
 * Runs [body], a call into runtime [kind]'s library on [file]; whatever it throws — ONNX
 * Runtime's checked OrtException, ExecuTorch's ExecutorchRuntimeException, LiteRT's
 * IllegalArgumentException, a native library that failed to load, memory — leaves as the core's
 * one-line ContractException ([RuntimeFailure.translate]). Every adapter calls its library
 * through this, so the UI and bench mode only ever see messages.
 */
inline fun <T> translated(kind: String, file: File, action: String, body: () -> T): T =
    try {
        body()
    } catch (e: Exception) {
        throw RuntimeFailure.translate(kind, Runtimes.version(kind), file.name, action, e)
    } catch (e: OutOfMemoryError) {
        throw RuntimeFailure.translate(kind, Runtimes.version(kind), file.name, action, e)
    } catch (e: LinkageError) {
        throw RuntimeFailure.translate(kind, Runtimes.version(kind), file.name, action, e)
    }

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
        register(RuntimeKind("litert", BuildConfig.LITERT_VERSION, listOf("cpu", "gpu", "nnapi"), ::LiteRtRuntime))
        register(RuntimeKind("executorch", BuildConfig.EXECUTORCH_VERSION, listOf("cpu"), ::ExecuTorchRuntime))
        register(
            RuntimeKind("onnxruntime", BuildConfig.ONNXRUNTIME_VERSION, listOf("cpu", "xnnpack", "nnapi"), ::OrtRuntime),
        )
    }

    /** The release of runtime [name] in this APK ("?" for a name not registered). */
    fun version(name: String): String = kinds[name]?.version ?: "?"

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
