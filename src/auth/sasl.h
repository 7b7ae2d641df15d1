// SASL response decoding for the password mechanisms every protocol offers: PLAIN
// (RFC 4616) and the de-facto LOGIN. Pure and bounded: bytes in, credentials or an
// error out; the sessions own the challenges on the wire, the "*" cancel and the
// "=" empty initial response (RFC 4954 §4, RFC 4959), whose spelling is theirs.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace rampart::auth {

enum class Mechanism { Plain, Login };

// The mechanism a client named, in any case; nullopt for one Rampart does not offer.
std::optional<Mechanism> parse_mechanism(std::string_view name);

struct Limits {
  // The longest response, in base64, taken: above the lines the sessions accept (IMAP
  // 64 KiB, SMTP 16 KiB plus one read), so those are never refused here.
  std::size_t max_response = 128 * 1024;
};

struct Credentials {
  std::string user;      // the authentication identity (RFC 4616 authcid)
  std::string password;  // as sent, any bytes
};

// LOGIN's challenges, base64 of "Username:" and "Password:".
inline constexpr std::string_view kLoginUserChallenge = "VXNlcm5hbWU6";
inline constexpr std::string_view kLoginPasswordChallenge = "UGFzc3dvcmQ6";

// PLAIN's one response, base64 of [authzid] NUL authcid NUL passwd.
// BadInput: not strict base64, or fewer than two NULs. NoPermission: an authzid other
// than the authcid (one user may not act as another). TooBig: over the limit.
Result<Credentials> decode_plain(std::string_view response, const Limits& limits = {});

// LOGIN's two responses, each the base64 of the user name and the password.
// BadInput: either is not strict base64. TooBig: either is over the limit.
Result<Credentials> decode_login(std::string_view user_response, std::string_view password_response,
                                 const Limits& limits = {});

}  // namespace rampart::auth
