package dev.edgeseg.demo

import android.graphics.Bitmap
import android.graphics.BitmapFactory
import android.graphics.Matrix
import dev.edgeseg.core.RgbImage
import java.io.File
import java.io.InputStream

/** Bitmap ↔ the core's RgbImage (8-bit RGB; alpha dropped, as PIL's convert("RGB") does). */
object Images {
    fun toRgb(bitmap: Bitmap): RgbImage {
        val argb = if (bitmap.config == Bitmap.Config.ARGB_8888) bitmap else bitmap.copy(Bitmap.Config.ARGB_8888, false)
        val pixels = IntArray(argb.width * argb.height)
        argb.getPixels(pixels, 0, argb.width, 0, 0, argb.width, argb.height)
        return RgbImage.fromArgb(pixels, argb.width, argb.height)
    }

    fun toBitmap(image: RgbImage): Bitmap =
        Bitmap.createBitmap(image.toArgb(), image.width, image.height, Bitmap.Config.ARGB_8888)

    /** Decode a picture file at full size, unscaled, 8 bits per channel. */
    fun decode(file: File): RgbImage {
        val opts = BitmapFactory.Options().apply {
            inPreferredConfig = Bitmap.Config.ARGB_8888
            inScaled = false
        }
        val bitmap = BitmapFactory.decodeFile(file.path, opts)
            ?: throw IllegalArgumentException("${file.name}: not a picture Android can decode")
        return toRgb(bitmap)
    }

    /** Decode a picture stream (an asset) the same way; [name] is for the message. */
    fun decode(stream: InputStream, name: String): RgbImage {
        val opts = BitmapFactory.Options().apply {
            inPreferredConfig = Bitmap.Config.ARGB_8888
            inScaled = false
        }
        val bitmap = BitmapFactory.decodeStream(stream, null, opts)
            ?: throw IllegalArgumentException("$name: not a picture Android can decode")
        return toRgb(bitmap)
    }

    /** Camera frames arrive in sensor orientation: turn them upright before segmenting. */
    fun upright(bitmap: Bitmap, rotationDegrees: Int): Bitmap {
        if (rotationDegrees == 0) return bitmap
        val m = Matrix().apply { postRotate(rotationDegrees.toFloat()) }
        return Bitmap.createBitmap(bitmap, 0, 0, bitmap.width, bitmap.height, m, true)
    }
}
