// The FHIR R4 datatypes of the elements covgate reads, checked before a resource is mapped: a
// birthDate that is not a date, a value that is a list, an id with characters the id datatype
// does not allow. Each violation is an error issue (code "invalid") naming the element's
// FHIRPath, never its value; the resource is then refused like any invalid one. Private to
// src/fhir.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "covgate/fhir/reader.hpp"
#include "element.hpp"

namespace covgate::fhir {

/// Appends an issue to `out` for every element of `resource` (of type `type`, at FHIRPath
/// `path`) that covgate reads and that violates its datatype.
void check_datatypes(const element& resource, std::string_view type, const std::string& path,
                     std::vector<issue>& out);

}  // namespace covgate::fhir
