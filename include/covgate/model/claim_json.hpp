// The JSON form of a claim, as `covgate parse` prints it (one object per line).
#pragma once

#include <string>

#include "covgate/model/claim.hpp"

namespace covgate::model {

/// Appends `claim` as one JSON object (no newline). Money is in cents, dates are ISO 8601,
/// absent fields are omitted.
void append_json(std::string& out, const claim& c);

}  // namespace covgate::model
