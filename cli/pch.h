// Precompiled for the CLI: CLI11 is header-only and costs about 10 s per translation unit.
#pragma once

#include "core/pch_light.h"

#include <CLI/CLI.hpp>
