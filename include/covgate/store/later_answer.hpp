// A later answer as an outbox row carries it when its reader needs more than the 277: the
// event's name and its decision line before the 277 ("<event>\n<decision line>\n<277>").
// Rows for the C ABI's host are kept so (the host's covgate_poll hands out all three), and so
// are a cluster worker's rows for CG_OUT (the publisher sends the two as headers beside the
// 277, for a host reading CG_OUT through a front's code). Neither an event's name nor a JSON
// line holds a raw newline, and a 277 starts with "ISA", so a row in either form is told
// apart from a bare 277 by its first line.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace covgate::store {

struct later_answer {
  std::string_view event;     ///< "release", "hold", "reopened", "void", "cancel"
  std::string_view decision;  ///< one decision JSON object, without its newline
  std::string_view body;      ///< the 277
};

[[nodiscard]] std::string pack_later(std::string_view event, std::string_view decision,
                                     std::string_view body);

/// Views into `row`; nullopt when the row is not in this form (a bare 277).
[[nodiscard]] std::optional<later_answer> unpack_later(std::string_view row) noexcept;

}  // namespace covgate::store
