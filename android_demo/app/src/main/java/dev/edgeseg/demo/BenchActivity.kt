package dev.edgeseg.demo

import android.app.Activity
import android.os.Bundle
import android.os.SystemClock
import android.util.Log
import dev.edgeseg.core.BenchReport
import dev.edgeseg.core.BenchRequest
import dev.edgeseg.core.ContractException
import dev.edgeseg.core.LatencyStats
import dev.edgeseg.core.RgbImage
import dev.edgeseg.demo.runtime.RuntimeOptions
import java.io.File
import java.time.Instant
import kotlin.concurrent.thread

/**
 * Bench mode for `edgeseg bench --runner app` (schema and paths: BENCH_MODE.md):
 *
 *     adb shell am start -n dev.edgeseg.demo/.BenchActivity --es model M.tflite \
 *         --ei warmup 3 --ei runs 20 [--es images DIR] [--es delegate gpu] [--ei threads 4]
 *         [--es run_id ID]
 *
 * Loads the model, times warm-up + runs forward passes on the first image's input tensor, then
 * writes one mask per image so the host can compute on-device mIoU. status.json says running /
 * ok / failed (with the reason) — the host polls it — and the activity finishes itself.
 *
 * The activity is exported (adb needs that), so any app could start it: paths are accepted only
 * under this app's folders or /data/local/tmp/edgeseg/ and run ids only as plain names
 * ([BenchRequest], tested in the core); anything else is a "failed" status, nothing is read.
 */
class BenchActivity : Activity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val args = intent.extras ?: Bundle()
        val runId = try {
            BenchRequest.runId(args.getString("run_id"))
        } catch (e: ContractException) {
            Log.e(TAG, "status=failed reason=${e.message}")
            REJECTED // the failure is written where a host can still find it
        }
        val dir = File(getExternalFilesDir(null), "bench/$runId")
        thread(name = "edgeseg-bench") {
            val report = BenchReport(dir.toPath())
            val partial = linkedMapOf<String, Any>("device" to DeviceInfo.device(), "started" to Instant.now().toString())
            try {
                if (runId == REJECTED) BenchRequest.runId(args.getString("run_id")) // the reason
                run(args, partial, report)
                Log.i(TAG, "status=ok dir=$dir")
            } catch (e: Throwable) { // every failure becomes a "failed" status with its reason
                partial["finished"] = Instant.now().toString()
                report.fail(partial, e.message ?: e.toString())
                Log.e(TAG, "status=failed dir=$dir reason=${e.message}", e)
            }
            runOnUiThread { finish() }
        }
    }

    /** What bench mode may read: this app's folders and adb's staging folder, nothing else. */
    private fun request() = BenchRequest(
        getExternalFilesDir(null)!!.toPath(),
        listOf(filesDir.toPath(), File(BenchRequest.ADB_STAGING).toPath()),
    )

    /** A plain name (pushed models folder or assets) stays a name; a path must be allowed. */
    private fun modelArg(raw: String?): String {
        val model = raw ?: throw IllegalArgumentException("no model: pass --es model FILE")
        val plain = !model.contains('/') && model != "." && model != ".."
        return if (plain) model else request().allowed("model", model).toString()
    }

    private fun run(args: Bundle, result: MutableMap<String, Any>, report: BenchReport) {
        val model = modelArg(args.getString("model"))
        val warmup = args.getInt("warmup", 3)
        val runs = args.getInt("runs", 20)
        require(warmup >= 0 && runs > 0) { "warmup must be >= 0 and runs > 0" }
        val options = RuntimeOptions(args.getString("delegate") ?: "cpu", args.getInt("threads", 4))
        val repo = ModelRepository(this)
        val images = imageFiles(args.getString("images"))
        result += linkedMapOf("model" to model, "warmup" to warmup.toLong(), "runs" to runs.toLong(),
            "delegate" to options.delegate, "threads" to options.threads.toLong())
        result["memory_before_load"] = DeviceInfo.memory()
        Segmenter.open(repo, model, options).use { seg ->
            result["runtime"] = seg.description
            result["load_ms"] = seg.loadMs
            result["sidecar_quantization"] = seg.contract.meta.quantization
            result["model_bytes"] = repo.localFile(model).length()
            val first = images.firstOrNull()?.let { Images.decode(it) } ?: gray(seg)
            val input = seg.contract.preprocess(first)
            val t0 = SystemClock.elapsedRealtimeNanos()
            seg.infer(input) // also checks the output against the sidecar
            result["first_ms"] = Segmenter.ms(SystemClock.elapsedRealtimeNanos() - t0)
            repeat(warmup) { seg.infer(input) }
            val samples = DoubleArray(runs) {
                val start = SystemClock.elapsedRealtimeNanos()
                seg.infer(input)
                Segmenter.ms(SystemClock.elapsedRealtimeNanos() - start)
            }
            result["latency_ms"] = LatencyStats(samples).toJson()
            result["samples_ms"] = samples.toList()
            result["memory_after_runs"] = DeviceInfo.memory()
            var pre = 0.0
            var post = 0.0
            for (file in images) {
                val out = seg.segment(Images.decode(file))
                pre += out.preMs
                post += out.postMs
                report.addMask(file.name, out.mask)
            }
            if (images.isNotEmpty()) {
                result["preprocess_ms_mean"] = pre / images.size
                result["postprocess_ms_mean"] = post / images.size
            }
        }
        result["finished"] = Instant.now().toString()
        report.finish(result)
    }

    /** PNG/JPEG files of DIR (absolute, or under the app's external files folder), by name. */
    private fun imageFiles(dir: String?): List<File> {
        if (dir == null) return emptyList()
        val folder = request().allowed("images", dir).toFile()
        val files = folder.listFiles { f -> f.extension.lowercase() in setOf("png", "jpg", "jpeg") }
            ?: throw IllegalArgumentException("$folder: no such folder (adb push the images there first)")
        require(files.isNotEmpty()) { "$folder holds no .png/.jpg images" }
        return files.sortedBy { it.name }
    }

    private fun gray(seg: Segmenter): RgbImage {
        val meta = seg.contract.meta
        return RgbImage(meta.width, meta.height, ByteArray(3 * meta.width * meta.height) { 128.toByte() })
    }

    private companion object {
        const val TAG = "EdgesegBench"
        const val REJECTED = "rejected"
    }
}
