#!/usr/bin/env bash
# Fills a folder with maskforge's C++ dependencies other than LibTorch, CUDA and the
# compiler, for a GPU machine that has no Debian packages and no network (scripts/gpu-check.sh
# builds against it). Run it on a Debian 12 machine, where packages and PyPI are reachable:
#
#   scripts/fetch-gpu-deps.sh [DEST]        (default build-gpu-deps; about 30 MiB)
#
# - yaml-cpp, CLI11, spdlog + fmt, nlohmann-json, GoogleTest, OpenSSL's libcrypto and gloo's
#   headers: Debian's own packages, unpacked (headers, libraries, CMake package files);
# - OpenCV core/imgproc/imgcodecs: built here as static libraries from the OpenCV sources of
#   the opencv-python-headless sdist (Debian's 4.6), with its own zlib, libpng, libjpeg-turbo
#   and libwebp, since Debian's shared imgcodecs drags in ~180 MB of libraries (GDAL, ...).
#   The build takes ~10 minutes on 2 cores, once: a finished DEST is left as it is;
# - for the GPU benchmark (bench/train_step.sh): Pillow and PyYAML wheels for CPython 3.12
#   (the eager reference's imports besides torch), the CIFAR-10 ResNet-20 and -32 victims
#   (scripts/cifar-victims.sh), 100 CIFAR-10 training images per class and the LFW subset
#   of ../shared/assets.
set -euo pipefail
cd "$(dirname "$0")/.."
dest="$(realpath -m "${1:-build-gpu-deps}")"
opencv_version=4.6.0.66
say() { printf '\033[1mfetch-gpu-deps:\033[0m %s\n' "$*" >&2; }

if [[ -f "$dest/.complete" ]]; then
  say "$dest is complete; remove it to fetch again"
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$dest"

# --- Debian packages, unpacked --------------------------------------------------------------
packages=(
  libyaml-cpp-dev libyaml-cpp0.7 libcli11-dev libspdlog-dev libspdlog1.10 libfmt-dev libfmt9 nlohmann-json3-dev
  libgtest-dev libgmock-dev libssl-dev libssl3 libgloo-dev
)
say "downloading ${packages[*]}"
(cd "$work" && apt-get download -qq "${packages[@]}")
for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$work/root"; done
cp -a "$work/root/usr/include" "$dest/"
mkdir -p "$dest/lib"
cp -a "$work/root/usr/lib/x86_64-linux-gnu/." "$dest/lib/"
# Header-only packages keep their CMake files under share/.
[[ -d "$work/root/usr/share/cmake" ]] && mkdir -p "$dest/share" && cp -a "$work/root/usr/share/cmake" "$dest/share/"
[[ -d "$work/root/usr/lib/cmake" ]] && cp -a "$work/root/usr/lib/cmake/." "$dest/lib/cmake/"
# libcrypto only: maskforge does not use libssl, and the .so links (libfoo.so -> .so.N) must survive.
rm -f "$dest"/lib/libssl.* "$dest"/lib/libgloo*

# --- OpenCV, static ----------------------------------------------------------------------
say "building OpenCV $opencv_version (core, imgproc, imgcodecs; static)"
python3 -m pip download -q --no-deps --no-binary :all: --no-build-isolation -d "$work" "opencv-python-headless==$opencv_version" ||
  { say "could not download the opencv-python-headless sdist from PyPI"; exit 1; }
tar -xzf "$work"/opencv-python-headless-*.tar.gz -C "$work"
src="$(echo "$work"/opencv-python-headless-*/opencv)"
# Nothing may download during the build: every optional component that would is off.
cmake -S "$src" -B "$work/opencv-build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$dest" \
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
find "$dest" -name '*.a' -exec strip --strip-debug {} +
rm -rf "${dest:?}/share/licenses" "${dest:?}/bin"

# --- what the GPU benchmark reads ---------------------------------------------------------
say "wheels, victims and images for the GPU benchmark"
python3 -m pip download -q --only-binary :all: --implementation cp --python-version 3.12 --abi cp312 \
  --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 -d "$dest/wheels" pillow pyyaml
scripts/cifar-victims.sh >/dev/null
mkdir -p "$dest/assets/victims" "$dest/assets/cifar10/train" "$dest/assets/faces"
cp runs/victims/rn20.pt runs/victims/rn20.json runs/victims/rn32.pt runs/victims/rn32.json "$dest/assets/victims/"
for class in ../shared/assets/cifar10/train/*/; do
  mkdir -p "$dest/assets/cifar10/train/$(basename "$class")"
  find "$class" -type f | sort | head -100 | xargs cp -t "$dest/assets/cifar10/train/$(basename "$class")"
done
cp -r ../shared/assets/faces/lfw_subset "$dest/assets/faces/"

touch "$dest/.complete"
say "done: $dest ($(du -sh "$dest" | cut -f1)); carry it to the GPU machine and run scripts/gpu-check.sh $(basename "$dest")"
