// Sieve scripts from users (ManageSieve, JMAP): the parser and validator take any
// bytes, and a script that parses runs on a small fixed message within tight limits.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sieve/interpreter.h"
#include "sieve/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace sieve = rampart::sieve;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const sieve::SieveLimits limits{.max_script_bytes = 8192,
                                  .max_nesting = 8,
                                  .max_commands = 200,
                                  .max_string_bytes = 1024,
                                  .max_list_items = 32};
  auto script = sieve::parse_script(text, limits);
  if (!script) {
    if (script.error().detail.rfind("line ", 0) != 0) __builtin_trap();
    return 0;
  }
  static const std::string message =
      "Received: from a.example by b.example; Tue, 1 Apr 1997 09:06:31 -0800\r\n"
      "From: Coyote <coyote+x@desert.example.org>\r\n"
      "To: roadrunner@acme.example.com\r\n"
      "Subject: =?utf-8?q?caf=C3=A9?= [list] hello\r\n"
      "Message-ID: <1@desert.example.org>\r\n"
      "Content-Type: multipart/mixed; boundary=B\r\n"
      "\r\n"
      "--B\r\nContent-Type: text/plain\r\n\r\nbirdseed\r\n--B--\r\n";
  const sieve::Input input{.message = message,
                           .envelope_from = "coyote@desert.example.org",
                           .envelope_to = "roadrunner@acme.example.com",
                           .spam_score = 3,
                           .now = 1183204800};
  sieve::Callbacks callbacks;
  // Every include finds the script itself: loops and depth are the interpreter's to stop.
  callbacks.fetch_include = [&](sieve::IncludeLocation, std::string_view) {
    return std::optional<std::string>(text);
  };
  callbacks.mailbox_exists = [](std::string_view name) { return name == "INBOX"; };
  callbacks.duplicate_seen = [](const sieve::DuplicateQuery& query) { return query.id.size() % 2; };
  const sieve::RunLimits run_limits{.max_steps = 500,
                                    .max_header_fields = 100,
                                    .max_body_bytes = 4096,
                                    .max_value_bytes = 1024,
                                    .max_redirects = 2,
                                    .max_actions = 16,
                                    .max_variables = 16,
                                    .max_variable_bytes = 256,
                                    .max_include_depth = 3,
                                    .max_includes = 4,
                                    .max_header_edits = 8,
                                    .parse = limits};
  const sieve::Outcome outcome = sieve::run_script(*script, input, callbacks, run_limits);
  if (outcome.actions.empty() && outcome.error) __builtin_trap();  // an error still keeps
  std::size_t redirects = 0;
  for (const sieve::Action& action : outcome.actions) {
    redirects += action.kind == sieve::Action::Kind::Redirect;
  }
  if (redirects > run_limits.max_redirects) __builtin_trap();
  if (outcome.actions.size() > run_limits.max_actions + 1) __builtin_trap();
  return 0;
}
