package dev.edgeseg.demo

import android.graphics.BitmapFactory
import androidx.test.ext.junit.runners.AndroidJUnit4
import androidx.test.platform.app.InstrumentationRegistry
import dev.edgeseg.core.BenchRequest
import dev.edgeseg.core.ContractException
import dev.edgeseg.core.ModelFiles
import dev.edgeseg.demo.runtime.RuntimeOptions
import dev.edgeseg.demo.runtime.Runtimes
import java.io.File
import java.io.FileNotFoundException
import org.junit.Assert.assertEquals
import org.junit.Assert.assertThrows
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith

/**
 * On a phone or emulator (`./gradlew connectedCheck`; edgeseg's CI has neither): every model in
 * the APK's assets is loaded in its real runtime, run on the bundled sample picture, and its mask
 * compared with the golden one `edgeseg android-demo add` wrote on the host
 * (`<model>.sample-mask.png`, the same file run in the host's runtime).
 *
 * Put the models in first: `edgeseg quickstart` then `edgeseg android-demo add
 * runs/quickstart/export` (one .tflite, .pte and .onnx at least).
 */
@RunWith(AndroidJUnit4::class)
class ModelsOnDeviceTest {
    private val context = InstrumentationRegistry.getInstrumentation().targetContext
    private val repo = ModelRepository(context)

    @Test
    fun everyFormatIsBundled() {
        val formats = repo.index().map { ModelFiles.runtimeFor(it.file) }.toSet()
        assertEquals(
            "models in assets/models: run edgeseg android-demo add runs/quickstart/export first",
            setOf("litert", "executorch", "onnxruntime"),
            formats,
        )
    }

    @Test
    fun everyModelSegmentsTheSamplePictureLikeTheHost() {
        val image = context.assets.open(SAMPLE).use { Images.decode(it, SAMPLE) }
        val models = repo.index()
        assertTrue("no models in assets/models", models.isNotEmpty())
        for (entry in models) {
            val golden = golden(entry.file) ?: continue // added where its runtime was absent
            Segmenter.open(repo, entry.file, RuntimeOptions("cpu", 2)).use { seg ->
                val mask = seg.segment(image).mask
                assertEquals("${entry.file}: mask size", golden.size, mask.labels.size)
                val same = golden.indices.count { golden[it] == (mask.labels[it].toInt() and 0xFF) }
                val agreement = same.toDouble() / golden.size
                // different CPUs and kernels flip a few pixels at class boundaries; no more
                assertTrue("${entry.file}: $agreement of pixels agree with the host", agreement >= MIN_AGREEMENT)
            }
        }
    }

    @Test
    fun everyDelegateEitherRunsOrSaysWhy() {
        val image = context.assets.open(SAMPLE).use { Images.decode(it, SAMPLE) }
        for (entry in repo.index()) {
            for (delegate in Runtimes.forFile(entry.file).delegates) {
                try {
                    Segmenter.open(repo, entry.file, RuntimeOptions(delegate, 2)).use { it.segment(image) }
                } catch (e: ContractException) { // a delegate this phone lacks: a message, not a crash
                    assertTrue("${entry.file}/$delegate: empty message", !e.message.isNullOrBlank())
                }
            }
        }
    }

    @Test
    fun benchModeReadsOnlyTheAppsFolders() {
        val request = BenchRequest(
            context.getExternalFilesDir(null)!!.toPath(),
            listOf(context.filesDir.toPath(), File(BenchRequest.ADB_STAGING).toPath()),
        )
        val viaSdcard = "/sdcard/Android/data/${context.packageName}/files/edgeseg/x.tflite"
        val resolved = request.allowed("model", viaSdcard).toString()
        assertTrue("$viaSdcard → $resolved", resolved.endsWith("/files/edgeseg/x.tflite"))
        assertThrows(ContractException::class.java) { request.allowed("model", "/data/data/com.android.settings/x") }
        assertThrows(ContractException::class.java) { request.allowed("images", "../../../../") }
    }

    /** The host's mask of the sample picture: class ids as the gray levels of a PNG. */
    private fun golden(file: String): IntArray? {
        val bitmap = try {
            context.assets.open("${ModelRepository.ASSETS}/$file.sample-mask.png").use { BitmapFactory.decodeStream(it) }
        } catch (e: FileNotFoundException) {
            return null
        }
        val pixels = IntArray(bitmap.width * bitmap.height)
        bitmap.getPixels(pixels, 0, bitmap.width, 0, 0, bitmap.width, bitmap.height)
        return IntArray(pixels.size) { (pixels[it] shr 16) and 0xFF }
    }

    private companion object {
        const val SAMPLE = "samples/sample.png"
        const val MIN_AGREEMENT = 0.98
    }
}
