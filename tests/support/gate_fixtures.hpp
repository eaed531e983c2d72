// The shipped tables and policy, parsed once, and a FHIR-date helper, for policy and engine
// tests.
#pragma once

#include "covgate/mapping/tables.hpp"
#include "covgate/model/facts.hpp"
#include "covgate/policy/policy.hpp"

namespace covgate::test {

inline const mapping::tables& shipped_tables() {
  static const auto t = mapping::tables::parse(mapping::embedded_sources());
  return t;
}

inline const policy::policy_file& shipped_ncd223() {
  static const auto p = policy::policy_file::parse(policy::embedded_ncd223());
  return p;
}

inline model::moment at(const char* text) { return *model::parse_fhir_datetime(text); }

}  // namespace covgate::test
