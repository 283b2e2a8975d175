// Everything a component needs to declare its config section: field checks, the kinds
// registry and the three visitors (reader, writer, reference).
#pragma once

#include "core/config/check.h"
#include "core/config/options.h"
#include "core/config/reader.h"
#include "core/config/schema.h"
#include "core/config/writer.h"
#include "core/registry.h"
