// The JSON form of a fact, as `covgate parse` prints it (one object per line).
#pragma once

#include <string>

#include "covgate/model/facts.hpp"

namespace covgate::model {

/// Appends `f` as one JSON object with a "fact" member naming its kind.
void append_json(std::string& out, const fact& f);

}  // namespace covgate::model
