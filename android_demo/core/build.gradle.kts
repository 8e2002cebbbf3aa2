// The model contract in plain Java 17, no Android imports: the app compiles it in, and
// edgeseg's pytest suite compiles and runs it with javac/java against golden vectors.
plugins {
    `java-library`
}

// Java 17 bytecode and API from whatever JDK 17+ runs Gradle (Android Studio bundles JDK 21):
// `--release 17`, as the pytest suite compiles it, and no toolchain to provision.
java {
    sourceCompatibility = JavaVersion.VERSION_17
    targetCompatibility = JavaVersion.VERSION_17
}
tasks.withType<JavaCompile>().configureEach { options.release.set(17) }

// The core's unit tests use a self-written runner (no test jars needed); `./gradlew :core:check`
// runs them here too. The golden-vector tests need edgeseg's Python side: run them with pytest.
val coreTests by tasks.registering(JavaExec::class) {
    classpath = sourceSets["test"].runtimeClasspath
    mainClass.set("dev.edgeseg.core.TestRunner")
    args("dev.edgeseg.core.CoreTests", "dev.edgeseg.core.RuntimeTests", "dev.edgeseg.core.BenchRequestTests")
}
tasks.named("check") { dependsOn(coreTests) }
