package dev.edgeseg.demo

import android.os.Build
import android.os.Debug
import java.io.File

/** What the bench JSON says about the phone and the app's memory (plain maps for the core's Json). */
object DeviceInfo {
    fun device(): Map<String, Any> {
        val info = linkedMapOf<String, Any>(
            "manufacturer" to Build.MANUFACTURER,
            "model" to Build.MODEL,
            "device" to Build.DEVICE,
            "sdk_int" to Build.VERSION.SDK_INT.toLong(),
            "release" to Build.VERSION.RELEASE,
            "abis" to Build.SUPPORTED_ABIS.toList(),
            "cores" to Runtime.getRuntime().availableProcessors().toLong(),
        )
        if (Build.VERSION.SDK_INT >= 31) info["soc_model"] = Build.SOC_MODEL
        return info
    }

    /** Current PSS and the process's peak resident set (VmHWM, what host runners call peak RSS). */
    fun memory(): Map<String, Any> = linkedMapOf(
        "pss_kb" to Debug.getPss(),
        "peak_rss_kb" to (procStatus("VmHWM") ?: -1L),
        "native_heap_kb" to Debug.getNativeHeapAllocatedSize() / 1024,
        "java_heap_kb" to (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) / 1024,
    )

    private fun procStatus(key: String): Long? = try {
        File("/proc/self/status").readLines()
            .firstOrNull { it.startsWith("$key:") }
            ?.substringAfter(':')?.trim()?.substringBefore(' ')?.toLongOrNull()
    } catch (e: java.io.IOException) {
        null
    }
}
