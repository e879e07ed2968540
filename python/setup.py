"""Builds the `keel` package with keel's own CMake (no network, no build isolation).

    /usr/bin/python3 -m venv --system-site-packages .venv
    .venv/bin/python -m pip install --no-build-isolation ./python

build_ext runs CMake on the repository (python/..) for the keel_python target and
copies the built keel/_keel*.so into the package. KEEL_BUILD_DIR names the CMake
build directory to use (default: <repo>/build; configured if it has no
CMakeCache.txt, reused as it is otherwise, so an existing build is not compiled
twice). KEEL_JOBS sets the build's parallelism (default: every core).
"""
import os
import shutil
import subprocess
import sysconfig
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = Path(os.environ.get("KEEL_BUILD_DIR") or ROOT / "build").resolve()
        jobs = os.environ.get("KEEL_JOBS") or str(os.cpu_count() or 1)
        if not (build_dir / "CMakeCache.txt").exists():
            generator = ["-G", "Ninja"] if shutil.which("ninja") else []
            subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build_dir), *generator,
                            "-DCMAKE_BUILD_TYPE=Release"], check=True)
        subprocess.run(["cmake", "--build", str(build_dir), "--target", "keel_python", "-j", jobs], check=True)
        suffix = sysconfig.get_config_var("EXT_SUFFIX")
        built = build_dir / "python" / "keel" / ("_keel" + suffix)
        if not built.exists():
            found = sorted(p.name for p in (build_dir / "python" / "keel").glob("_keel*"))
            raise RuntimeError(f"keel: {built} was not built (found {found or 'nothing'}); the CMake build "
                               f"targets another Python than this one ({suffix}): set KEEL_PYTHON in CMake")
        dest = Path(self.get_ext_fullpath(ext.name))
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built, dest)


setup(
    ext_modules=[Extension("keel._keel", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
)
