# OpenCV core/imgproc/imgcodecs from Debian's per-module -dev packages. Debian ships
# OpenCVConfig.cmake only in libopencv-dev, which pulls every module; find the three here.
find_path(MF_OPENCV_INCLUDE opencv2/core.hpp PATH_SUFFIXES opencv4 REQUIRED)
add_library(mf_opencv INTERFACE)
add_library(mf::opencv ALIAS mf_opencv)
target_include_directories(mf_opencv SYSTEM INTERFACE "${MF_OPENCV_INCLUDE}")
foreach(module core imgproc imgcodecs)
  find_library(MF_OPENCV_${module} opencv_${module} REQUIRED)
  target_link_libraries(mf_opencv INTERFACE "${MF_OPENCV_${module}}")
endforeach()
