plugins {
    alias(libs.plugins.android.application)
    alias(libs.plugins.kotlin.android)
}

android {
    namespace = "dev.edgeseg.demo"
    compileSdk = 36

    defaultConfig {
        applicationId = "dev.edgeseg.demo" // edgeseg.android_demo.PACKAGE
        minSdk = 26 // java.nio.file (the core's ModelSource) needs API 26
        targetSdk = 36
        versionCode = 1
        // names the runtimes it was built with: `edgeseg devices --check` reads them from
        // `dumpsys package` to compare with the exporter's versions
        versionName = "0.1.0 (litert ${libs.versions.litert.get()}; executorch " +
            "${libs.versions.executorch.get()}; onnxruntime ${libs.versions.onnxruntime.get()})"
        ndk { abiFilters += listOf("arm64-v8a", "x86_64") } // phones + the emulator
    }

    buildTypes {
        release {
            isMinifyEnabled = false
            proguardFiles(getDefaultProguardFile("proguard-android-optimize.txt"), "proguard-rules.pro")
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    buildFeatures { viewBinding = true }

    // Models are copied in by `edgeseg android-demo add`; keep them uncompressed so LiteRT and
    // ExecuTorch can map them straight from the APK's assets.
    androidResources { noCompress += listOf("tflite", "pte", "onnx") }

    packaging { jniLibs { useLegacyPackaging = false } }
}

kotlin {
    jvmToolchain(17)
}

dependencies {
    implementation(project(":core"))

    implementation(libs.litert)
    implementation(libs.litert.gpu)
    implementation(libs.litert.gpu.api)
    implementation(libs.executorch.android)
    implementation(libs.onnxruntime.android)

    implementation(libs.camera.core)
    implementation(libs.camera.camera2)
    implementation(libs.camera.lifecycle)
    implementation(libs.camera.view)

    implementation(libs.androidx.core.ktx)
    implementation(libs.androidx.appcompat)
    implementation(libs.androidx.activity.ktx)
    implementation(libs.androidx.lifecycle.runtime.ktx)
    implementation(libs.material)
    implementation(libs.kotlinx.coroutines.android)
}
