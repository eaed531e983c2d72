// A decision as one JSON line of `covgate replay --decisions` (docs/architecture.md):
// {"event","claim_id","billing_npi","patient","dos","policy","outcome","reasons":[{"code",
// "line","stc","message"}],"source"}.
#pragma once

#include <string>
#include <string_view>

#include "covgate/model/decision.hpp"

namespace covgate::model {

/// Appends the JSON object (no newline). `billing_npi` is the claim's billing provider's
/// (with claim_id it names the claim: two providers may send one CLM01), "" when it has none.
/// `event` is the event kind (hold, release, reopened, void, cancel) or "current"/"closed"
/// for a claim's present state; `source` names where the claim or the fact that changed it
/// came from ("file:offset", "mllp:17:0", "review:<who>").
void append_json(std::string& out, const decision& d, std::string_view billing_npi,
                 std::string_view event, std::string_view source);

}  // namespace covgate::model
