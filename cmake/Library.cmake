# mf_library(NAME SOURCES ... DEPS ... [PCH flavour]): one static library per folder, with
# includes written from the repository root.
#
# Header parsing dominates compile time (LibTorch's torch::nn/jit headers ~30 s per
# translation unit, ATen ~13 s, fmt header-only ~5 s, CLI11 ~10 s), so every target
# reuses one of a few precompiled headers (loading one costs 2-9 s):
#   light: ATen tensors and fmt            (core/pch_light.h)
#   heavy: + torch::nn, optim, serialize, jit (core/pch.h), the default
#   cli:   light + CLI11                    (cli/pch.h)
function(mf_pch flavour header)
  add_library(mf_pch_${flavour} STATIC "${PROJECT_SOURCE_DIR}/core/pch.cpp")
  target_link_libraries(mf_pch_${flavour} PUBLIC mf::torch ${ARGN})
  target_include_directories(mf_pch_${flavour} PRIVATE "${PROJECT_SOURCE_DIR}")
  target_precompile_headers(mf_pch_${flavour} PRIVATE "${PROJECT_SOURCE_DIR}/${header}")
endfunction()
mf_pch(light core/pch_light.h)
mf_pch(heavy core/pch.h)
mf_pch(cli cli/pch.h CLI11::CLI11)

function(mf_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers)
endfunction()

function(mf_use_pch target flavour)
  target_precompile_headers(${target} REUSE_FROM mf_pch_${flavour})
endfunction()

function(mf_library name)
  cmake_parse_arguments(ARG "" "PCH" "SOURCES;DEPS" ${ARGN})
  if(NOT ARG_PCH)
    set(ARG_PCH heavy)
  endif()
  add_library(mf_${name} STATIC ${ARG_SOURCES})
  add_library(mf::${name} ALIAS mf_${name})
  target_include_directories(mf_${name} PUBLIC "${PROJECT_SOURCE_DIR}")
  target_link_libraries(mf_${name} PUBLIC mf::torch ${ARG_DEPS})
  mf_use_pch(mf_${name} ${ARG_PCH})
  mf_warnings(mf_${name})
endfunction()
