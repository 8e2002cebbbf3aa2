import org.jetbrains.kotlin.gradle.dsl.JvmTarget

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
        testInstrumentationRunner = "androidx.test.runner.AndroidJUnitRunner"
        // the runtime releases this APK links, for the core's RuntimeVersions check of each
        // model's sidecar (runtime_version) and for the messages that name them
        buildConfigField("String", "LITERT_VERSION", "\"${libs.versions.litert.get()}\"")
        buildConfigField("String", "EXECUTORCH_VERSION", "\"${libs.versions.executorch.get()}\"")
        buildConfigField("String", "ONNXRUNTIME_VERSION", "\"${libs.versions.onnxruntime.get()}\"")
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

    buildFeatures {
        viewBinding = true
        buildConfig = true
    }

    // Models are copied in by `edgeseg android-demo add`; keep them uncompressed so LiteRT and
    // ExecuTorch can map them straight from the APK's assets.
    androidResources { noCompress += listOf("tflite", "pte", "onnx") }

    packaging { jniLibs { useLegacyPackaging = false } }
}

// No toolchain request: Gradle runs on whatever JDK 17+ it is given (Android Studio's bundled
// JDK 21, or JAVA_HOME) and compiles for Java 17 bytecode, so no toolchain download is needed.
kotlin {
    compilerOptions { jvmTarget.set(JvmTarget.JVM_17) }
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

    // on a phone or emulator only: ./gradlew connectedCheck (CI here has neither)
    androidTestImplementation(libs.junit)
    androidTestImplementation(libs.androidx.test.ext.junit)
    androidTestImplementation(libs.androidx.test.runner)
}
