// Result<T>: a value or an Error. Fallible work returns it; exceptions are for bugs.
// GCC 12 in C++20 mode lacks std::expected, so this is tl::expected behind one alias:
// use only the API both share (has_value, value, error, operator*, operator->, and_then).
#pragma once

#include <string>
#include <tl/expected.hpp>
#include <utility>

namespace rampart {

enum class Errc { BadInput, TooBig, NotFound, Exists, NoPermission, OverQuota, TryLater, Internal };

// `detail` goes to the log, never to a client.
struct Error {
  Errc code;
  std::string detail;
};

template <class T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> fail(Errc code, std::string detail = {}) {
  return tl::unexpected<Error>(Error{code, std::move(detail)});
}

// For logs and the command line; protocols map Errc to their own words.
const char* errc_name(Errc code);

}  // namespace rampart
