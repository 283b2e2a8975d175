# OpenCV core/imgproc/imgcodecs. An OpenCV CMake package when there is one (the static build
# of scripts/fetch-gpu-deps.sh, whose codec libraries its targets bring along); otherwise
# Debian's per-module -dev packages: Debian ships OpenCVConfig.cmake only in libopencv-dev,
# which pulls every module, so the three are found here.
add_library(mf_opencv INTERFACE)
add_library(mf::opencv ALIAS mf_opencv)
find_package(OpenCV QUIET CONFIG COMPONENTS core imgproc imgcodecs)
if(OpenCV_FOUND)
  target_include_directories(mf_opencv SYSTEM INTERFACE ${OpenCV_INCLUDE_DIRS})
  target_link_libraries(mf_opencv INTERFACE opencv_core opencv_imgproc opencv_imgcodecs)
  message(STATUS "maskforge: OpenCV ${OpenCV_VERSION} from ${OpenCV_DIR}")
  return()
endif()
find_path(MF_OPENCV_INCLUDE opencv2/core.hpp PATH_SUFFIXES opencv4 REQUIRED)
target_include_directories(mf_opencv SYSTEM INTERFACE "${MF_OPENCV_INCLUDE}")
foreach(module core imgproc imgcodecs)
  find_library(MF_OPENCV_${module} opencv_${module} REQUIRED)
  target_link_libraries(mf_opencv INTERFACE "${MF_OPENCV_${module}}")
endforeach()
