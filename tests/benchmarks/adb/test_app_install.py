"""``edgeseg android-demo install --device``: resolved like ``bench --device``, installed with the
real adb client onto the fake phone (``adb install`` streams the APK to its package manager).

No Android SDK can run here, so the app folder's ``gradlew`` is a stand-in that writes a small
zip where Gradle writes the debug APK; everything after the build is the real code path.
"""

from __future__ import annotations

import os
import shutil
import stat

import pytest

from edgeseg.apps import android_demo
from edgeseg.apps.android_demo import AndroidDemoError
from edgeseg.benchmarks.adb import AdbError
from edgeseg.cli import main
from tests.benchmarks.adb.conftest import PIXEL_7

GRADLEW = """#!/bin/sh
mkdir -p app/build/outputs/apk/debug
exec "{python}" -c "import sys, zipfile; \\
zipfile.ZipFile(sys.argv[1], 'w').writestr('AndroidManifest.xml', '')" \\
    app/build/outputs/apk/debug/app-debug.apk
"""


@pytest.fixture
def buildable_app(tmp_path, monkeypatch):
    """An app folder that passes missing_build_tools(), with a Gradle stand-in."""
    import sys

    root = tmp_path / "android_demo"
    (root / "app").mkdir(parents=True)
    shutil.copy(android_demo.default_app() / "app" / "build.gradle.kts", root / "app")
    (root / android_demo.WRAPPER_JAR).parent.mkdir(parents=True)
    (root / android_demo.WRAPPER_JAR).write_bytes(b"PK stand-in")
    gradlew = root / "gradlew"
    gradlew.write_text(GRADLEW.format(python=sys.executable))
    gradlew.chmod(gradlew.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "sdk").mkdir()
    monkeypatch.setenv("ANDROID_HOME", str(tmp_path / "sdk"))
    if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
        monkeypatch.setenv("JAVA_HOME", str(tmp_path / "sdk"))
    return root


def test_install_by_alias_with_the_adb_client(make_device, buildable_app, capsys) -> None:
    phone = make_device(PIXEL_7)
    phone.behaviour.app_installed = False
    result = android_demo.install("panther", buildable_app)
    assert result.serials == [phone.serial] and result.apk.is_file()
    assert phone.behaviour.app_installed  # the package manager took the streamed APK
    assert (
        main(["android-demo", "install", "--device", phone.serial, "--app", str(buildable_app)])
        == 0
    )
    assert f"on {phone.serial}" in " ".join(capsys.readouterr().out.split())  # rich wraps


def test_install_refuses_an_ambiguous_alias_before_building(make_device, buildable_app):
    make_device(PIXEL_7)
    make_device(PIXEL_7)
    with pytest.raises(AdbError, match="--device 'panther' is ambiguous, it matches 2 devices"):
        android_demo.install("panther", buildable_app)
    assert not (buildable_app / android_demo.APK).exists()  # no build was started


def test_install_reports_the_package_managers_refusal(make_device, buildable_app) -> None:
    phone = make_device(PIXEL_7)
    (buildable_app / "gradlew").write_text(
        "#!/bin/sh\nmkdir -p app/build/outputs/apk/debug\n"
        "echo 'not a zip' > app/build/outputs/apk/debug/app-debug.apk\n"
    )
    with pytest.raises(AdbError, match="INSTALL_PARSE_FAILED_NOT_APK"):
        android_demo.install(phone.serial, buildable_app)
    with pytest.raises(AndroidDemoError, match="gradle build failed"):
        (buildable_app / "gradlew").write_text("#!/bin/sh\nexit 3\n")
        android_demo.install(phone.serial, buildable_app)
