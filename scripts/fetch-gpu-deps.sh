#!/usr/bin/env bash
# Fills a folder with maskforge's C++ dependencies other than LibTorch, CUDA and the
# compiler, for a GPU machine that has no Debian packages and no network (scripts/gpu-check.sh
# builds against it). Run it on a Debian 12 machine, where packages and PyPI are reachable:
#
#   scripts/fetch-gpu-deps.sh [DEST]        (default build-gpu-deps; about 55 MiB)
#
# - DEST/usr: Debian's yaml-cpp, CLI11, spdlog + fmt, nlohmann-json, GoogleTest, OpenSSL's
#   libcrypto and gloo's headers, unpacked as Debian lays them out (their CMake package
#   files find their headers and libraries relative to themselves);
# - DEST/include, DEST/lib: OpenCV core/imgproc/imgcodecs, built here as static libraries
#   from the OpenCV sources of the opencv-python-headless sdist (Debian's 4.6), with its own
#   zlib, libpng, libjpeg-turbo and libwebp, since Debian's shared imgcodecs drags in ~180 MB
#   of libraries (GDAL, ...). ~10 minutes on 2 cores;
# - DEST/wheels, DEST/assets: for the GPU benchmark (bench/train_step.sh), Pillow and PyYAML
#   wheels for CPython 3.12 (the eager reference's imports besides torch), the CIFAR-10
#   ResNet-20 and -32 victims (scripts/cifar-victims.sh), the MTCNN cascade (for
#   gpu-check.sh's FACES_SECONDS), 100 CIFAR-10 training images per class and the LFW subset
#   of ../shared/assets.
# Each part is done once: a part already in DEST is left as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
dest="$(realpath -m "${1:-build-gpu-deps}")"
opencv_version=4.6.0.66
say() { printf '\033[1mfetch-gpu-deps:\033[0m %s\n' "$*" >&2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"  # apt-get download runs as _apt
mkdir -p "$dest"

# --- Debian packages, unpacked --------------------------------------------------------------
if [[ ! -f "$dest/.debian" ]]; then
  packages=(
    libyaml-cpp-dev libyaml-cpp0.7 libcli11-dev libspdlog-dev libspdlog1.10 libfmt-dev libfmt9 nlohmann-json3-dev
    libgtest-dev libgmock-dev libssl-dev libssl3 libgloo-dev
  )
  say "downloading ${packages[*]}"
  mkdir "$work/debs"
  chmod 777 "$work/debs"
  (cd "$work/debs" && apt-get download -qq "${packages[@]}")
  rm -rf "${dest:?}/usr"
  for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$dest"; done
  # What maskforge does not use: libssl and static libcrypto (it links the shared libcrypto),
  # gloo's library (headers only), OpenSSL's engines, docs.
  lib="$dest/usr/lib/x86_64-linux-gnu"
  rm -rf "$lib"/libssl.* "$lib"/libcrypto.a "$lib"/libgloo* "$lib"/engines-3 "$lib"/ossl-modules "$dest/usr/share/doc" "$dest/usr/share/lintian" \
    "$dest/usr/share/man"
  touch "$dest/.debian"
fi

# --- OpenCV, static ----------------------------------------------------------------------
if [[ ! -f "$dest/.opencv" ]]; then
  say "building OpenCV $opencv_version (core, imgproc, imgcodecs; static)"
  # pip cannot download an sdist without building its metadata (scikit-build here): find the
  # file in PyPI's simple index (JSON form, as pip reads it) instead.
  python3 - "$opencv_version" "$work" <<'PY' || { say "could not download the opencv-python-headless sdist from PyPI"; exit 1; }
import json, sys, urllib.request
version, work = sys.argv[1], sys.argv[2]
index = urllib.request.Request("https://pypi.org/simple/opencv-python-headless/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
name = f"opencv-python-headless-{version}.tar.gz"
sdist = next(f for f in json.load(urllib.request.urlopen(index))["files"] if f["filename"] == name)
urllib.request.urlretrieve(sdist["url"], f"{work}/{name}")
PY
  tar -xzf "$work"/opencv-python-headless-*.tar.gz -C "$work"
  src="$(echo "$work"/opencv-python-headless-*/opencv)"
  # Nothing may download during the build: every optional component that would is off.
  cmake -S "$src" -B "$work/opencv-build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$dest" -DCMAKE_INSTALL_LIBDIR=lib \
    -DBUILD_SHARED_LIBS=OFF -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DBUILD_LIST=core,imgproc,imgcodecs \
    -DBUILD_ZLIB=ON -DBUILD_PNG=ON -DBUILD_JPEG=ON -DBUILD_WEBP=ON -DWITH_TIFF=OFF -DWITH_OPENEXR=OFF -DWITH_JASPER=OFF \
    -DWITH_OPENJPEG=OFF -DWITH_IMGCODEC_HDR=OFF -DWITH_IMGCODEC_SUNRASTER=OFF -DWITH_IMGCODEC_PXM=OFF -DWITH_IMGCODEC_PFM=OFF \
    -DWITH_IPP=OFF -DWITH_ITT=OFF -DWITH_ADE=OFF -DWITH_OPENCL=OFF -DWITH_CUDA=OFF -DWITH_EIGEN=OFF -DWITH_LAPACK=OFF \
    -DWITH_PROTOBUF=OFF -DWITH_QUIRC=OFF -DWITH_FFMPEG=OFF -DWITH_GSTREAMER=OFF -DWITH_GTK=OFF -DWITH_VA=OFF \
    -DWITH_1394=OFF -DWITH_V4L=OFF -DWITH_GDAL=OFF -DWITH_GDCM=OFF -DWITH_OPENMP=OFF -DWITH_TBB=OFF -DBUILD_TESTS=OFF \
    -DBUILD_PERF_TESTS=OFF -DBUILD_EXAMPLES=OFF -DBUILD_DOCS=OFF -DBUILD_opencv_apps=OFF -DBUILD_opencv_python3=OFF \
    -DBUILD_JAVA=OFF -DOPENCV_GENERATE_PKGCONFIG=OFF >"$work/opencv-configure.log" 2>&1 ||
    { tail -40 "$work/opencv-configure.log" >&2; exit 1; }
  cmake --build "$work/opencv-build" -j "$(nproc)" >"$work/opencv-build.log" 2>&1 || { tail -40 "$work/opencv-build.log" >&2; exit 1; }
  cmake --install "$work/opencv-build" >/dev/null
  find "$dest/lib" -name '*.a' -exec strip --strip-debug {} +
  rm -rf "${dest:?}/share" "${dest:?}/bin"  # licences, Haar cascades, tools
  touch "$dest/.opencv"
fi

# --- what the GPU benchmark reads ---------------------------------------------------------
if [[ ! -f "$dest/.bench" ]]; then
  say "wheels, victims and images for the GPU benchmark"
  python3 -m pip download -q --only-binary :all: --implementation cp --python-version 3.12 --abi cp312 \
    --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 -d "$dest/wheels" pillow pyyaml
  scripts/cifar-victims.sh >/dev/null
  rm -rf "$dest/assets"
  mkdir -p "$dest/assets/victims" "$dest/assets/cifar10/train" "$dest/assets/faces"
  [[ -f runs/victims/mtcnn.pt ]] || "${MASKFORGE_CACHE:-$HOME/.cache/maskforge}/venv/bin/python" tools/export_victim.py mtcnn \
    --weights ../shared/assets/weights --out runs/victims/mtcnn.pt >/dev/null
  cp runs/victims/rn20.pt runs/victims/rn20.json runs/victims/rn32.pt runs/victims/rn32.json runs/victims/mtcnn.pt runs/victims/mtcnn.json "$dest/assets/victims/"
  for class in ../shared/assets/cifar10/train/*/; do
    mkdir -p "$dest/assets/cifar10/train/$(basename "$class")"
    find "$class" -type f | sort | head -100 | xargs cp -t "$dest/assets/cifar10/train/$(basename "$class")"
  done
  cp -r ../shared/assets/faces/lfw_subset "$dest/assets/faces/"
  touch "$dest/.bench"
fi

touch "$dest/.complete"
say "done: $dest ($(du -sh "$dest" | cut -f1)); carry it to the GPU machine and run scripts/gpu-check.sh $(basename "$dest")"
