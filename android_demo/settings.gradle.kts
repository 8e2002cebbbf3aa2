// edgeseg Android demo: one app module plus the plain-Java model-contract core it shares with
// the JVM tests that run in edgeseg's CI (see README.md, "What CI proves").
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google() // LiteRT, CameraX, AndroidX
        mavenCentral() // ExecuTorch, ONNX Runtime
    }
}

rootProject.name = "edgeseg-demo"
include(":app", ":core")
