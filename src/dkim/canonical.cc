#include "dkim/canonical.h"

#include "base/ascii.h"

namespace rampart::dkim {

namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

// Appends `text` with every run of spaces and tabs as one space.
void append_collapsed(std::string& out, std::string_view text) {
  bool space = false;
  for (char c : text) {
    if (is_wsp(c)) {
      space = true;
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  if (space) out += ' ';
}

}  // namespace

SplitMessage split_message(std::string_view message, std::size_t max_fields) {
  SplitMessage out;
  std::size_t pos = 0;
  while (pos < message.size()) {
    std::size_t end = message.find("\r\n", pos);
    if (end == pos) {  // the empty line
      out.body = message.substr(pos + 2);
      return out;
    }
    if (out.fields.size() == max_fields) {
      out.over_limit = true;
      return out;
    }
    if (end == std::string_view::npos) {  // a header without its end: all header
      out.fields.push_back(message.substr(pos));
      return out;
    }
    // Continuation lines begin with a space or a tab.
    while (end + 2 < message.size() && is_wsp(message[end + 2])) {
      const std::size_t next = message.find("\r\n", end + 2);
      if (next == std::string_view::npos) {
        end = message.size();
        break;
      }
      end = next;
    }
    out.fields.push_back(message.substr(pos, end - pos));
    pos = end + 2;
  }
  return out;
}

std::string_view field_name(std::string_view field) {
  const std::size_t colon = field.find(':');
  return colon == std::string_view::npos ? field : field.substr(0, colon);
}

std::string simple_header(std::string_view field) { return std::string(field); }

std::string simple_body(std::string_view body) {
  while (body.ends_with("\r\n")) body.remove_suffix(2);
  std::string out;
  out.reserve(body.size() + 2);
  out.append(body);
  out += "\r\n";
  return out;
}

std::string relaxed_header(std::string_view field) {
  std::string unfolded;
  unfolded.reserve(field.size());
  for (char c : field) {
    if (c != '\r' && c != '\n') unfolded += c;
  }
  const std::size_t colon = unfolded.find(':');
  std::string_view name = std::string_view(unfolded).substr(0, colon);
  const std::string_view value = colon == std::string::npos
                                     ? std::string_view()
                                     : std::string_view(unfolded).substr(colon + 1);
  while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);
  std::string out;
  out.reserve(unfolded.size());
  for (char c : name) out += ascii_lower(c);
  out += ':';
  std::string collapsed;
  append_collapsed(collapsed, value);
  const std::size_t begin = collapsed.starts_with(' ') ? 1 : 0;
  std::size_t end = collapsed.size();
  if (end > begin && collapsed[end - 1] == ' ') --end;
  out.append(collapsed, begin, end - begin);
  return out;
}

std::string relaxed_body(std::string_view body) {
  std::string out;
  out.reserve(body.size());
  std::size_t pending_empty = 0;  // empty lines held back: they may be the trailing ones
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t end = body.find("\r\n", pos);
    const bool last = end == std::string_view::npos;
    if (last) end = body.size();
    std::string line;
    append_collapsed(line, body.substr(pos, end - pos));
    if (!line.empty() && line.back() == ' ') line.pop_back();
    if (line.empty()) {
      ++pending_empty;
    } else {
      for (; pending_empty > 0; --pending_empty) out += "\r\n";
      out += line;
      out += "\r\n";
    }
    pos = last ? body.size() : end + 2;
  }
  return out;
}

}  // namespace rampart::dkim
