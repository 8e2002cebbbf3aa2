package dev.edgeseg.demo

import android.content.Context
import dev.edgeseg.core.ModelContract
import dev.edgeseg.core.ModelFiles
import dev.edgeseg.core.ModelSource
import java.io.File
import java.io.FileNotFoundException
import java.io.IOException

/**
 * Where models come from: `assets/models/` (listed by the index.json that
 * `edgeseg android-demo add` writes) and the app's external `files/models/` folder, where
 * `adb push` can put models for bench mode without rebuilding the app.
 */
class ModelRepository(private val context: Context) {
    /** Folder adb can write: /sdcard/Android/data/<package>/files/models. */
    val pushedDir: File = File(context.getExternalFilesDir(null), "models")

    /** The switcher's entries, in index order; no index yet → empty. */
    fun index(): List<ModelFiles.Entry> {
        val text = try {
            context.assets.open("$ASSETS/${ModelFiles.INDEX}").use { it.readBytes() }.toString(Charsets.UTF_8)
        } catch (e: FileNotFoundException) {
            return emptyList()
        }
        return ModelFiles.parseIndex(text, "assets/$ASSETS/${ModelFiles.INDEX}")
    }

    /** Contract of `file` (a name in pushedDir or assets/models, or an absolute path). */
    fun contract(file: String): ModelContract = sourceFor(file).contract(File(file).name)

    /** A real file the runtimes can open (assets are copied to the cache once per version). */
    fun localFile(file: String): File {
        val direct = resolveDirect(file)
        if (direct != null) return direct
        val cached = File(context.cacheDir, "$ASSETS/$file")
        val size = context.assets.openFd("$ASSETS/$file").use { it.length }
        if (!cached.isFile || cached.length() != size) {
            cached.parentFile?.mkdirs()
            val tmp = File(cached.path + ".tmp")
            context.assets.open("$ASSETS/$file").use { input -> tmp.outputStream().use { input.copyTo(it) } }
            if (!tmp.renameTo(cached)) throw IOException("cannot write $cached")
        }
        return cached
    }

    private fun resolveDirect(file: String): File? {
        val asGiven = File(file)
        if (asGiven.isAbsolute) return asGiven.takeIf { it.isFile } ?: throw FileNotFoundException("$file: no such model file")
        return File(pushedDir, file).takeIf { it.isFile }
    }

    private fun sourceFor(file: String): ModelSource {
        val direct = resolveDirect(file)
        if (direct != null) return ModelSource.folder(direct.parentFile!!.toPath())
        return assetSource()
    }

    private fun assetSource() = object : ModelSource {
        override fun exists(name: String) = try {
            context.assets.open("$ASSETS/$name").close()
            true
        } catch (e: IOException) {
            false
        }

        override fun read(name: String): ByteArray = context.assets.open("$ASSETS/$name").use { it.readBytes() }
    }

    companion object {
        const val ASSETS = "models"
    }
}
