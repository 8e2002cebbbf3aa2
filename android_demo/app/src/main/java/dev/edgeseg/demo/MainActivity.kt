package dev.edgeseg.demo

import android.Manifest
import android.content.pm.PackageManager
import android.graphics.Bitmap
import android.graphics.Color
import android.net.Uri
import android.os.Bundle
import android.os.SystemClock
import android.view.View
import android.widget.AdapterView
import android.widget.ArrayAdapter
import android.widget.LinearLayout
import android.widget.SeekBar
import android.widget.TextView
import androidx.activity.result.contract.ActivityResultContracts
import androidx.appcompat.app.AppCompatActivity
import androidx.camera.core.CameraSelector
import androidx.camera.core.ImageAnalysis
import androidx.camera.core.ImageProxy
import androidx.camera.core.Preview
import androidx.camera.lifecycle.ProcessCameraProvider
import androidx.core.content.ContextCompat
import dev.edgeseg.core.Mask
import dev.edgeseg.core.Overlay
import dev.edgeseg.core.RgbImage
import dev.edgeseg.demo.databinding.ActivityMainBinding
import dev.edgeseg.demo.runtime.RuntimeOptions
import dev.edgeseg.demo.runtime.Runtimes
import java.util.concurrent.Executors

/**
 * Live segmentation: camera preview or a gallery picture, the overlay (drawn by the core's
 * [Overlay], the same bytes edgeseg's Python side draws), per-frame ms and FPS, and switches for
 * model, delegate, threads and opacity. Any model problem is shown as one message, never a crash.
 */
class MainActivity : AppCompatActivity() {
    private lateinit var ui: ActivityMainBinding
    private lateinit var repo: ModelRepository
    private val worker = Executors.newSingleThreadExecutor() // loads and inference, in order
    @Volatile private var segmenter: Segmenter? = null
    @Volatile private var opacity = 0.6
    private var fpsEma = 0.0
    private var lastFrameNs = 0L
    private var galleryImage: RgbImage? = null
    private var models = emptyList<dev.edgeseg.core.ModelFiles.Entry>()
    /** What is loaded or loading (file, delegate, threads): spinner callbacks that fire at start
     *  and after every adapter change ask again for the same model, which is not reloaded. */
    private var requested: Triple<String, String, Int>? = null

    private val pickImage = registerForActivityResult(ActivityResultContracts.GetContent()) { uri ->
        uri?.let { showGallery(it) }
    }
    private val askCamera = registerForActivityResult(ActivityResultContracts.RequestPermission()) { ok ->
        if (ok) startCamera() else { showMessage(getString(R.string.camera_denied)); showSample() }
    }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        ui = ActivityMainBinding.inflate(layoutInflater)
        setContentView(ui.root)
        repo = ModelRepository(this)
        models = try {
            repo.index()
        } catch (e: RuntimeException) {
            showMessage(e.message ?: e.toString())
            emptyList()
        }
        if (models.isEmpty()) showMessage(getString(R.string.no_models))
        setUpSwitches()
        ui.source.setOnClickListener {
            if (galleryImage == null) pickImage.launch("image/*") else { galleryImage = null; ui.source.setText(R.string.gallery); startCamera() }
        }
        ui.sample.setOnClickListener { showSample() }
        if (checkSelfPermission(Manifest.permission.CAMERA) == PackageManager.PERMISSION_GRANTED) startCamera()
        else askCamera.launch(Manifest.permission.CAMERA)
    }

    /** The picture shipped in assets/samples/: a model can be tried without the camera. */
    private fun showSample() {
        stopCamera()
        ui.source.setText(R.string.camera)
        worker.execute {
            try {
                val image = assets.open(SAMPLE).use { Images.decode(it, SAMPLE) }
                galleryImage = image
                segmentAndShow(image)
            } catch (e: Exception) {
                runOnUiThread { showMessage(e.message ?: e.toString()) }
            }
        }
    }

    private fun stopCamera() {
        ProcessCameraProvider.getInstance(this).addListener(
            { ProcessCameraProvider.getInstance(this).get().unbindAll() },
            ContextCompat.getMainExecutor(this),
        )
    }

    private fun setUpSwitches() {
        ui.model.adapter = ArrayAdapter(this, android.R.layout.simple_spinner_dropdown_item, models.map { it.label })
        ui.threads.adapter = ArrayAdapter(this, android.R.layout.simple_spinner_dropdown_item, listOf(1, 2, 4, 8))
        ui.threads.setSelection(2)
        val reload = onSelected { reloadModel() }
        ui.model.onItemSelectedListener = onSelected { updateDelegates(); reloadModel() }
        ui.delegate.onItemSelectedListener = reload
        ui.threads.onItemSelectedListener = reload
        ui.opacity.setOnSeekBarChangeListener(object : SeekBar.OnSeekBarChangeListener {
            override fun onProgressChanged(bar: SeekBar, value: Int, fromUser: Boolean) {
                opacity = value / 100.0
                galleryImage?.let { img -> worker.execute { segmentAndShow(img) } }
            }
            override fun onStartTrackingTouch(bar: SeekBar) {}
            override fun onStopTrackingTouch(bar: SeekBar) {}
        })
        opacity = ui.opacity.progress / 100.0
    }

    private fun updateDelegates() {
        val entry = models.getOrNull(ui.model.selectedItemPosition) ?: return
        val delegates = try { Runtimes.forFile(entry.file).delegates } catch (e: RuntimeException) { listOf("cpu") }
        ui.delegate.adapter = ArrayAdapter(this, android.R.layout.simple_spinner_dropdown_item, delegates)
    }

    private fun reloadModel() {
        val entry = models.getOrNull(ui.model.selectedItemPosition) ?: return
        val options = RuntimeOptions(
            (ui.delegate.selectedItem as? String) ?: "cpu",
            (ui.threads.selectedItem as? Int) ?: 4,
        )
        val key = Triple(entry.file, options.delegate, options.threads)
        if (key == requested) return // the same model again (a spinner callback): keep it
        requested = key
        worker.execute {
            segmenter?.close()
            segmenter = null
            try {
                val loaded = Segmenter.open(repo, entry.file, options)
                segmenter = loaded
                runOnUiThread { hideMessage(); showLegend(loaded, null) }
                galleryImage?.let { segmentAndShow(it) }
            } catch (e: Exception) { // a bad model is a message on screen, never a crash
                runOnUiThread { showMessage(e.message ?: e.toString()) }
            } catch (e: OutOfMemoryError) {
                runOnUiThread { showMessage("${entry.file}: not enough memory to load it") }
            }
        }
    }

    private fun startCamera() {
        val future = ProcessCameraProvider.getInstance(this)
        future.addListener({
            val provider = future.get()
            val preview = Preview.Builder().build().also { it.setSurfaceProvider(ui.preview.surfaceProvider) }
            val analysis = ImageAnalysis.Builder()
                .setBackpressureStrategy(ImageAnalysis.STRATEGY_KEEP_ONLY_LATEST)
                .setOutputImageFormat(ImageAnalysis.OUTPUT_IMAGE_FORMAT_RGBA_8888)
                .build()
            analysis.setAnalyzer(worker) { frame -> analyze(frame) }
            provider.unbindAll()
            provider.bindToLifecycle(this, CameraSelector.DEFAULT_BACK_CAMERA, preview, analysis)
        }, ContextCompat.getMainExecutor(this))
    }

    private fun analyze(frame: ImageProxy) {
        frame.use {
            if (galleryImage != null || segmenter == null) return
            val upright = Images.upright(frame.toBitmap(), frame.imageInfo.rotationDegrees)
            segmentAndShow(Images.toRgb(upright))
        }
    }

    private fun showGallery(uri: Uri) {
        stopCamera()
        ui.source.setText(R.string.camera)
        worker.execute {
            val bitmap = contentResolver.openInputStream(uri).use { android.graphics.BitmapFactory.decodeStream(it) }
            if (bitmap == null) {
                runOnUiThread { showMessage("$uri: not a picture Android can decode") }
                return@execute
            }
            val image = Images.toRgb(bitmap)
            galleryImage = image
            segmentAndShow(image)
        }
    }

    /** Runs on [worker]: segment, blend, then hand the bitmap and numbers to the UI thread. */
    private fun segmentAndShow(image: RgbImage) {
        val model = segmenter ?: run { // no model (yet): show the picture itself
            val plain = Images.toBitmap(image)
            runOnUiThread { ui.overlay.setImageBitmap(plain) }
            return
        }
        try {
            val result = model.segment(image)
            val shown: Bitmap = Images.toBitmap(Overlay.blend(image, result.mask, model.contract.meta.palette, opacity))
            val now = SystemClock.elapsedRealtimeNanos()
            if (lastFrameNs != 0L) {
                val fps = 1e9 / (now - lastFrameNs)
                fpsEma = if (fpsEma == 0.0) fps else 0.9 * fpsEma + 0.1 * fps
            }
            lastFrameNs = now
            val stats = "%.1f ms infer · pre %.1f · post %.1f\n%.1f FPS · %s · load %.0f ms".format(
                result.inferMs, result.preMs, result.postMs, fpsEma, model.description, model.loadMs,
            )
            runOnUiThread {
                ui.overlay.setImageBitmap(shown)
                ui.stats.text = stats
                showLegend(model, result.mask)
            }
        } catch (e: Exception) { // runtimes' own exceptions arrive translated; anything else too
            runOnUiThread { showMessage(e.message ?: e.toString()) }
        } catch (e: OutOfMemoryError) {
            runOnUiThread { showMessage("${model.file}: out of memory on this frame") }
        }
    }

    /** One swatch per class; classes present in the current mask are drawn bright. */
    private fun showLegend(model: Segmenter, mask: Mask?) {
        val meta = model.contract.meta
        val present = mask?.histogram()
        ui.legend.removeAllViews()
        meta.classes.forEachIndexed { i, name ->
            val (r, g, b) = meta.palette[i].let { Triple(it[0], it[1], it[2]) }
            val label = TextView(this).apply {
                text = "■ $name"
                setTextColor(Color.rgb(r, g, b))
                alpha = if (present == null || present[i] > 0) 1f else 0.35f
                setPadding(8, 4, 16, 4)
            }
            ui.legend.addView(label, LinearLayout.LayoutParams(LinearLayout.LayoutParams.WRAP_CONTENT, LinearLayout.LayoutParams.WRAP_CONTENT))
        }
    }

    private fun showMessage(text: String) {
        ui.message.text = text
        ui.message.visibility = View.VISIBLE
    }

    private fun hideMessage() {
        ui.message.visibility = View.GONE
    }

    override fun onDestroy() {
        super.onDestroy()
        worker.execute { segmenter?.close() }
        worker.shutdown()
    }

    private companion object {
        const val SAMPLE = "samples/sample.png"
    }

    private fun onSelected(action: () -> Unit) = object : AdapterView.OnItemSelectedListener {
        override fun onItemSelected(parent: AdapterView<*>?, view: View?, position: Int, id: Long) = action()
        override fun onNothingSelected(parent: AdapterView<*>?) {}
    }
}
