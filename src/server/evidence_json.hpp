// JSON for the evidence the worklist and the audit show: one fact (a lab result with its LLN
// and its percentage of it, how a clearance was obtained), the CSII documentation of a record
// (policy::csii_documentation), and a fact read back as the FHIR resource it came from (the
// elements covgate read, for GET /fhir/{type}/{id}). Every string goes through json_writer.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "covgate/model/facts.hpp"
#include "covgate/model/json_writer.hpp"
#include "covgate/policy/policy.hpp"

namespace covgate::server {

/// One fact as an object ("fact" names its kind); a lab result adds percent_of_lln (a
/// C-peptide with a reference range) and "method" (measured, or computed by Cockcroft-Gault).
void fact_json(model::json_writer& w, const model::fact& f);

/// A lab result as fact_json() writes it, or null.
void lab_json(model::json_writer& w, const std::optional<model::lab_result>& lab);

/// What a record documents for an insulin pump (policy::document_csii), as an object.
void csii_json(model::json_writer& w, const policy::csii_documentation& doc);

/// Appends the FHIR R4 resource `type`/`id` as covgate keeps it: the elements its facts hold
/// (a reading, tagged urn:covgate|facts; the sender's own resource is not kept).
void fhir_resource(std::string& out, std::string_view type, std::string_view id,
                   const std::vector<model::fact>& facts);

}  // namespace covgate::server
