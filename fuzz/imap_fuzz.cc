// IMAP commands, literals and raw continuation lines: any bytes give commands, literals,
// errors or NeedMore; every call makes progress, and the steps are the same however the
// bytes are split. The first byte picks LITERAL+ or LITERAL- and the split point.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "imap/body_section.h"
#include "imap/command_parser.h"
#include "imap/fetch_format.h"
#include "imap/mailbox_name.h"
#include "imap/notify_request.h"
#include "imap/search_program.h"
#include "imap/sort_thread.h"

namespace {

using rampart::imap::BadCommand;
using rampart::imap::Command;
using rampart::imap::CommandParser;
using rampart::imap::Limits;
using rampart::imap::LineStep;
using rampart::imap::NeedLiteral;
using rampart::imap::NeedMore;
using rampart::imap::Step;
using rampart::imap::Token;

using Event = std::variant<Step, LineStep>;

void check(bool condition) {
  if (!condition) __builtin_trap();
}

// Returns the number of tokens under `tokens`; checks depth and literal sizes.
std::size_t check_tokens(const std::vector<Token>& tokens, const Limits& limits, int depth) {
  check(depth <= limits.max_nesting);
  std::size_t count = tokens.size();
  for (const Token& token : tokens) {
    check(token.kind == Token::Kind::List || token.children.empty());
    check(!token.literal || token.text.size() <= limits.max_literal);
    check(token.binary || token.text.find('\0') == std::string::npos);
    if (token.kind == Token::Kind::List) {
      count += check_tokens(token.children, limits, depth + 1);
    }
  }
  return count;
}

// Drives one parser over the chunks as a session would, reading a raw line after IDLE
// and AUTHENTICATE.
std::vector<Event> run(const Limits& limits, const std::vector<std::string_view>& chunks) {
  CommandParser parser(limits);
  std::vector<Event> events;
  bool want_line = false;
  bool closed = false;
  for (std::string_view input : chunks) {
    while (!input.empty()) {
      const std::size_t before = input.size();
      if (want_line) {
        LineStep step = parser.take_line(input);
        if (std::holds_alternative<NeedMore>(step)) {
          check(input.empty());
        } else {
          if (const auto* line = std::get_if<std::string>(&step)) {
            check(line->size() <= limits.max_line);
          }
          want_line = false;
          events.emplace_back(std::move(step));
        }
      } else {
        Step step = parser.feed(input);
        if (std::holds_alternative<NeedMore>(step)) {
          check(input.empty());
        } else {
          check(!closed);  // nothing after a fatal error
          if (const auto* command = std::get_if<Command>(&step)) {
            check(!command->tag.empty() && !command->name.empty());
            check(check_tokens(command->arguments, limits, 0) <= limits.max_arguments);
            want_line = command->name == "IDLE" || command->name == "AUTHENTICATE";
            // Any command's arguments go through the SEARCH program parser too.
            rampart::imap::SearchError search_error;
            if (!rampart::imap::parse_search(command->arguments, search_error)) {
              check(!search_error.text.empty());
            }
            if (!command->arguments.empty()) {
              rampart::imap::parse_sort_criteria(command->arguments.front());
            }
            // And through NOTIFY's: a request, or an error with its words.
            const auto notify = rampart::imap::parse_notify(command->arguments);
            if (const auto* error = std::get_if<rampart::imap::NotifyError>(&notify)) {
              check(!error->text.empty());
            }
          } else if (const auto* literal = std::get_if<NeedLiteral>(&step)) {
            check(literal->size <= limits.max_literal);
          } else if (const auto* bad = std::get_if<BadCommand>(&step)) {
            check(!bad->tag.empty() && !bad->text.empty());
            closed = bad->fatal;
          }
          events.emplace_back(std::move(step));
        }
      }
      check(input.size() < before);  // no progress: would hang a session
    }
    std::string_view empty;
    check(std::holds_alternative<NeedMore>(parser.feed(empty)));
  }
  return events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Limits limits{.max_line = 256,
                      .max_literal = 1024,
                      .max_nesting = 8,
                      .max_command = 4096,
                      .max_arguments = 64,
                      .literal_plus = (data[0] & 1) == 0};
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::size_t cut = (data[0] * 131u + data[size - 1]) % (bytes.size() + 1);
  const std::vector<Event> whole = run(limits, {bytes});
  check(run(limits, {bytes.substr(0, cut), bytes.substr(cut)}) == whole);
  if (bytes.size() <= 1024) {
    std::vector<std::string_view> bytewise;
    for (std::size_t i = 0; i < bytes.size(); ++i) bytewise.push_back(bytes.substr(i, 1));
    check(run(limits, bytewise) == whole);
  }
  // FETCH items: whatever parses can be cut out of a message, and any message's
  // structure can be formatted.
  if (const auto request = rampart::imap::parse_body_request(bytes)) {
    static const std::string kMessage =
        "Subject: s\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\none\r\n"
        "--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\ntwo\r\n--b--\r\n";
    rampart::imap::extract_section(kMessage, rampart::mime::parse(kMessage), *request);
    check(!request->response_name().empty());
  }
  const rampart::mime::Message message =
      rampart::mime::parse(bytes, {.max_depth = 8, .max_parts = 64});
  rampart::imap::format_body_structure(message.root, true, {});
  rampart::imap::format_envelope(message.envelope, {.utf8 = true});
  // SORT and THREAD over the message's envelope, three times with different numbers,
  // and the base subject of any bytes (it only ever shrinks the text).
  const std::vector<rampart::imap::SortItem> items = {
      {1, 0, 0, &message.envelope}, {2, 0, 0, &message.envelope}, {3, 0, 0, &message.envelope}};
  check(rampart::imap::sort_items(items, {{rampart::imap::SortKey::Subject}}).size() == 3);
  for (auto algorithm : {rampart::imap::ThreadAlgorithm::OrderedSubject,
                         rampart::imap::ThreadAlgorithm::References}) {
    check(!rampart::imap::thread_items(items, algorithm).empty());
  }
  check(rampart::imap::base_subject(bytes).size() <= bytes.size());
  // Mailbox names: whatever decodes is in canonical form, so it encodes back the same.
  if (const auto decoded = rampart::imap::decode_mutf7(bytes)) {
    check(rampart::imap::encode_mutf7(*decoded) == bytes);
  }
  return 0;
}
