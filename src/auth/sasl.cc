#include "auth/sasl.h"

#include "base/ascii.h"
#include "base/base64.h"

namespace rampart::auth {
namespace {

Result<std::string> decode_response(std::string_view response, const Limits& limits) {
  if (response.size() > limits.max_response) return fail(Errc::TooBig, "SASL response too long");
  auto decoded = base64_decode(response);
  if (!decoded) return fail(Errc::BadInput, "SASL response is not base64");
  return std::move(*decoded);
}

}  // namespace

std::optional<Mechanism> parse_mechanism(std::string_view name) {
  if (iequals(name, "PLAIN")) return Mechanism::Plain;
  if (iequals(name, "LOGIN")) return Mechanism::Login;
  return std::nullopt;
}

Result<Credentials> decode_plain(std::string_view response, const Limits& limits) {
  auto decoded = decode_response(response, limits);
  if (!decoded) return tl::unexpected(decoded.error());
  const std::string_view message = *decoded;
  const auto first = message.find('\0');
  const auto second = first == std::string_view::npos ? first : message.find('\0', first + 1);
  if (second == std::string_view::npos) return fail(Errc::BadInput, "PLAIN needs two NULs");
  // The password is the rest, NULs and all: a NUL in it is the directory's to refuse.
  Credentials credentials{std::string(message.substr(first + 1, second - first - 1)),
                          std::string(message.substr(second + 1))};
  const std::string_view authzid = message.substr(0, first);
  if (!authzid.empty() && authzid != credentials.user) {
    return fail(Errc::NoPermission, "PLAIN authzid names another user");
  }
  return credentials;
}

Result<Credentials> decode_login(std::string_view user_response, std::string_view password_response,
                                 const Limits& limits) {
  auto user = decode_response(user_response, limits);
  if (!user) return tl::unexpected(user.error());
  auto password = decode_response(password_response, limits);
  if (!password) return tl::unexpected(password.error());
  return Credentials{std::move(*user), std::move(*password)};
}

}  // namespace rampart::auth
