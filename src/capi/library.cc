// Library-wide queries of the C ABI: version and CPU features.
#include <string>

#include "capi/capi_internal.h"
#include "core/cpu_features.h"

#ifndef KEEL_VERSION_STRING
#error "KEEL_VERSION_STRING (the CMake project version) must be defined"
#endif

extern "C" {

const char* keel_version(void) { return KEEL_VERSION_STRING; }

int keel_version_number(void) {
  return KEEL_VERSION_MAJOR * 10000 + KEEL_VERSION_MINOR * 100 + KEEL_VERSION_PATCH;
}

const char* keel_cpu_features(void) {
  try {
    static const std::string features = keel::cpu_features().to_string();
    return features.c_str();
  } catch (...) {
    return "";  // only if the string could not be allocated
  }
}

const char* keel_cpu_isa(void) { return keel::isa_name(keel::active_isa()); }

}  // extern "C"
