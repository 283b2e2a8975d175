# LibTorch: from the pinned torch wheel (scripts/setup.sh finds its CMake prefix) or from a
# LIBTORCH folder. Provides the target mf::torch.
set(MF_TORCH_PREFIX "" CACHE PATH "CMake prefix of LibTorch (torch wheel's share/cmake or a libtorch folder)")
list(APPEND CMAKE_PREFIX_PATH "${MF_TORCH_PREFIX}")

# Only used for nvcc flags of CUDA sources; naming the archs skips GPU detection, which
# needs a GPU and fails with the C++20 dialect.
if(NOT TORCH_CUDA_ARCH_LIST)
  set(TORCH_CUDA_ARCH_LIST "8.0;9.0" CACHE STRING "CUDA architectures for nvcc")
endif()
find_package(Torch REQUIRED)

# TORCH_LIBRARIES links the machine's CUDA runtime directly, which would shadow the CUDA
# libraries the wheel's libtorch_cuda was built against (found through its RPATH). Link
# the torch libraries only and let them find their own CUDA, cuDNN and NCCL.
get_filename_component(MF_TORCH_LIB_DIR "${TORCH_LIBRARY}" DIRECTORY)
set(MF_TORCH_CUDA OFF)
if(EXISTS "${MF_TORCH_LIB_DIR}/libtorch_cuda.so")
  set(MF_TORCH_CUDA ON)
endif()

add_library(mf_torch INTERFACE)
add_library(mf::torch ALIAS mf_torch)
target_include_directories(mf_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})
separate_arguments(_torch_flags UNIX_COMMAND "${TORCH_CXX_FLAGS}")
target_compile_options(mf_torch INTERFACE ${_torch_flags})
set(_torch_libs "${MF_TORCH_LIB_DIR}/libtorch.so" "${MF_TORCH_LIB_DIR}/libc10.so")
# The CPU and CUDA kernels register themselves at load time: keep them linked.
set(_torch_keep "${MF_TORCH_LIB_DIR}/libtorch_cpu.so")
if(MF_TORCH_CUDA)
  find_package(CUDAToolkit REQUIRED)
  target_include_directories(mf_torch SYSTEM INTERFACE ${CUDAToolkit_INCLUDE_DIRS})
  target_compile_definitions(mf_torch INTERFACE MF_WITH_CUDA=1)
  list(APPEND _torch_libs "${MF_TORCH_LIB_DIR}/libc10_cuda.so")
  list(APPEND _torch_keep "${MF_TORCH_LIB_DIR}/libtorch_cuda.so")
endif()
list(JOIN _torch_keep "," _torch_keep_csv)
target_link_libraries(mf_torch INTERFACE ${_torch_libs} "-Wl,--no-as-needed,${_torch_keep_csv},--as-needed")
target_link_options(mf_torch INTERFACE "-Wl,-rpath,${MF_TORCH_LIB_DIR}")
message(STATUS "maskforge: LibTorch ${Torch_VERSION} from ${MF_TORCH_LIB_DIR} (CUDA build: ${MF_TORCH_CUDA})")
