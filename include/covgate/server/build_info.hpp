// What this binary is: its version and the source revision it was built from, stamped at
// build time (cmake/write_build_info.cmake). Shown by `covgate --version`, the FHIR
// CapabilityStatement's software element, the covgate_build_info metric and serve's start-up
// log line.
#pragma once

#include <string_view>

namespace covgate::server {

/// The project's version (CMakeLists.txt's project VERSION), e.g. "0.1.0".
[[nodiscard]] std::string_view version() noexcept;
/// The git commit the build came from (12 hex digits, "-dirty" when tracked files had
/// changes), the COVGATE_REVISION given to CMake, or "unknown".
[[nodiscard]] std::string_view revision() noexcept;

}  // namespace covgate::server
