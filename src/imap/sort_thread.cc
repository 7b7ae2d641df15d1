#include "imap/sort_thread.h"

#include <algorithm>
#include <functional>
#include <unordered_map>

#include "base/ascii.h"
#include "mime/header.h"

namespace rampart::imap {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// RFC 5256 subj-blob at `at`: "[" *BLOBCHAR "]" *WSP; its length, or 0.
std::size_t blob_length(std::string_view text, std::size_t at) {
  if (at >= text.size() || text[at] != '[') return 0;
  std::size_t i = at + 1;
  while (i < text.size() && text[i] != '[' && text[i] != ']') ++i;
  if (i >= text.size() || text[i] != ']') return 0;
  ++i;
  while (i < text.size() && is_space(text[i])) ++i;
  return i - at;
}

// RFC 5256 subj-leader: *subj-blob subj-refwd, where subj-refwd is
// ("re" / ("fw" ["d"])) *WSP [subj-blob] ":". Its length, or 0.
std::size_t refwd_leader_length(std::string_view text) {
  std::size_t i = 0;
  while (std::size_t blob = blob_length(text, i)) i += blob;
  auto starts = [&](std::string_view word) {
    return text.size() - i >= word.size() && iequals(text.substr(i, word.size()), word);
  };
  if (starts("fwd")) {
    i += 3;
  } else if (starts("fw") || starts("re")) {
    i += 2;
  } else {
    return 0;
  }
  while (i < text.size() && is_space(text[i])) ++i;
  i += blob_length(text, i);
  if (i >= text.size() || text[i] != ':') return 0;
  return i + 1;
}

std::string ascii_casemap(std::string_view text) { return uppercase(text); }

std::int64_t sent_date(const SortItem& item) {
  return item.envelope->date_unix ? *item.envelope->date_unix : item.internal_date;
}

// RFC 5256 §3: the addr-mailbox of the first address as ENVELOPE shows it: the local
// part, or a group's name when the list opens with a group.
std::string mailbox_key(const std::vector<mime::Address>& addresses) {
  if (addresses.empty()) return {};
  const mime::Address& first = addresses.front();
  return ascii_casemap(first.kind == mime::Address::Kind::GroupStart ? first.name_raw
                                                                     : first.local);
}

// RFC 5957: the display name, else the address; a group by its name.
std::string display_key(const std::vector<mime::Address>& addresses) {
  if (addresses.empty()) return {};
  const mime::Address* first = &addresses.front();
  if (first->kind == mime::Address::Kind::GroupStart) {
    return ascii_casemap(first->name.empty() ? first->name_raw : first->name);
  }
  if (!first->name.empty()) return ascii_casemap(first->name);
  return ascii_casemap(first->domain.empty() ? first->local : first->local + "@" + first->domain);
}

// One key's value for one item: a number or a casemapped string.
struct KeyValue {
  std::int64_t number = 0;
  std::string text;
  auto operator<=>(const KeyValue&) const = default;
};

KeyValue key_of(const SortItem& item, SortKey key) {
  const mime::Envelope& envelope = *item.envelope;
  switch (key) {
    case SortKey::Arrival:
      return {item.internal_date, {}};
    case SortKey::Date:
      return {sent_date(item), {}};
    case SortKey::Size:
      return {static_cast<std::int64_t>(item.size), {}};
    case SortKey::Cc:
      return {0, mailbox_key(envelope.cc)};
    case SortKey::From:
      return {0, mailbox_key(envelope.from)};
    case SortKey::To:
      return {0, mailbox_key(envelope.to)};
    case SortKey::Subject:
      return {0, ascii_casemap(base_subject(envelope.subject))};
    case SortKey::DisplayFrom:
      return {0, display_key(envelope.from)};
    case SortKey::DisplayTo:
      return {0, display_key(envelope.to)};
  }
  return {};
}

// ---- threads ----

struct Container {
  int item = -1;  // index into the items; -1 for a dummy (a message only referenced)
  int parent = -1;
  std::vector<int> children;
};

class Threader {
 public:
  explicit Threader(const std::vector<SortItem>& items) : items_(items) {}

  std::string ordered_subject();
  std::string references();

 private:
  int find_or_create(const std::string& id);
  bool is_ancestor(int ancestor, int of) const;
  void unlink(int child);
  void link(int parent, int child);
  std::vector<int> prune(const std::vector<int>& level, bool root);
  void sort_siblings(std::vector<int>& level, bool deep);
  std::int64_t date_of(int container) const;
  std::uint32_t number_of(int container) const;
  const Container& first_message(int container) const;
  std::string format(int container) const;
  std::string format_roots(const std::vector<int>& roots) const;

  const std::vector<SortItem>& items_;
  std::vector<Container> containers_;
  std::unordered_map<std::string, int> by_id_;
};

int Threader::find_or_create(const std::string& id) {
  auto [it, added] = by_id_.try_emplace(id, static_cast<int>(containers_.size()));
  if (added) containers_.emplace_back();
  return it->second;
}

bool Threader::is_ancestor(int ancestor, int of) const {
  for (int at = of; at != -1; at = containers_[at].parent) {
    if (at == ancestor) return true;
  }
  return false;
}

void Threader::unlink(int child) {
  const int parent = containers_[child].parent;
  if (parent == -1) return;
  auto& siblings = containers_[parent].children;
  siblings.erase(std::find(siblings.begin(), siblings.end(), child));
  containers_[child].parent = -1;
}

void Threader::link(int parent, int child) {
  unlink(child);
  containers_[child].parent = parent;
  containers_[parent].children.push_back(child);
}

// RFC 5256 §4 (3): empty containers go; their children move up a level (at the root
// only when there is just one of them).
std::vector<int> Threader::prune(const std::vector<int>& level, bool root) {
  std::vector<int> out;
  for (int container : level) {
    Container& node = containers_[container];
    node.children = prune(node.children, false);
    for (int child : node.children) containers_[child].parent = container;
    if (node.item != -1) {
      out.push_back(container);
    } else if (!node.children.empty() && (!root || node.children.size() == 1)) {
      for (int child : node.children) {
        containers_[child].parent = -1;
        out.push_back(child);
      }
      node.children.clear();
    } else if (!node.children.empty()) {
      out.push_back(container);
    }
  }
  return out;
}

const Container& Threader::first_message(int container) const {
  const Container* node = &containers_[container];
  while (node->item == -1 && !node->children.empty()) node = &containers_[node->children.front()];
  return *node;
}

std::int64_t Threader::date_of(int container) const {
  const Container& node = first_message(container);
  return node.item == -1 ? 0 : sent_date(items_[node.item]);
}

std::uint32_t Threader::number_of(int container) const {
  const Container& node = first_message(container);
  return node.item == -1 ? 0 : items_[node.item].number;
}

// By sent date, ties by number; a dummy counts as its first child (children first).
void Threader::sort_siblings(std::vector<int>& level, bool deep) {
  if (deep) {
    for (int container : level) sort_siblings(containers_[container].children, true);
  }
  std::stable_sort(level.begin(), level.end(), [&](int a, int b) {
    return std::pair(date_of(a), number_of(a)) < std::pair(date_of(b), number_of(b));
  });
}

// RFC 5256 §4: a single child continues the line; several are each parenthesised.
std::string Threader::format(int container) const {
  const Container& node = containers_[container];
  std::string out;
  if (node.item != -1) out = std::to_string(items_[node.item].number);
  if (node.children.size() == 1 && node.item != -1) {
    out += " " + format(node.children.front());
  } else if (!node.children.empty()) {
    if (!out.empty()) out += ' ';
    for (int child : node.children) out += "(" + format(child) + ")";
  }
  return out;
}

std::string Threader::format_roots(const std::vector<int>& roots) const {
  std::string out;
  for (int root : roots) out += "(" + format(root) + ")";
  return out;
}

std::string Threader::ordered_subject() {
  // RFC 5256 §3 ORDEREDSUBJECT: group by base subject; in a group, by sent date, the
  // first message is the parent of the others; groups by their first message's date.
  std::vector<std::pair<std::string, int>> keyed;
  for (std::size_t i = 0; i < items_.size(); ++i) {
    keyed.emplace_back(ascii_casemap(base_subject(items_[i].envelope->subject)), i);
  }
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
    return std::tuple(a.first, sent_date(items_[a.second]), items_[a.second].number) <
           std::tuple(b.first, sent_date(items_[b.second]), items_[b.second].number);
  });
  std::vector<int> roots;
  for (std::size_t i = 0; i < keyed.size(); ++i) {
    const int container = static_cast<int>(containers_.size());
    containers_.push_back({.item = keyed[i].second, .parent = -1, .children = {}});
    if (i > 0 && keyed[i].first == keyed[i - 1].first) {
      link(roots.back(), container);
    } else {
      roots.push_back(container);
    }
  }
  sort_siblings(roots, false);
  return format_roots(roots);
}

std::string Threader::references() {
  // (1) Link messages by References (or the first In-Reply-To id) and Message-ID.
  for (std::size_t i = 0; i < items_.size(); ++i) {
    const mime::Envelope& envelope = *items_[i].envelope;
    const auto ids = mime::parse_message_ids(envelope.message_id);
    int self = -1;
    if (!ids.empty()) {
      self = find_or_create(ids.front());
      // A second message with the same Message-ID is threaded as if it had none.
      if (containers_[self].item != -1) self = -1;
    }
    if (self == -1) {
      self = static_cast<int>(containers_.size());
      containers_.emplace_back();
    }
    containers_[self].item = static_cast<int>(i);
    auto references = mime::parse_message_ids(envelope.references);
    if (references.empty()) {
      auto replied = mime::parse_message_ids(envelope.in_reply_to);
      if (!replied.empty()) references.push_back(replied.front());
    }
    int previous = -1;
    for (const std::string& reference : references) {
      const int container = find_or_create(reference);
      // Existing links stay; a link that would make a loop is not made.
      if (previous != -1 && container != previous && containers_[container].parent == -1 &&
          !is_ancestor(container, previous)) {
        link(previous, container);
      }
      previous = container;
    }
    // The last reference is this message's parent: a parent it had is a guess from a
    // truncated References field and goes first; no link is made that makes a loop.
    unlink(self);
    if (previous != -1 && previous != self && !is_ancestor(self, previous)) link(previous, self);
  }
  // (2) The root set, (3) pruned, (4) sorted.
  std::vector<int> roots;
  for (std::size_t i = 0; i < containers_.size(); ++i) {
    if (containers_[i].parent == -1) roots.push_back(static_cast<int>(i));
  }
  roots = prune(roots, true);
  sort_siblings(roots, false);

  // (5) Roots with the same base subject go together.
  auto subject_of = [&](int container, bool* reply) {
    const Container& message = first_message(container);
    if (message.item == -1) return std::string();
    return ascii_casemap(base_subject(items_[message.item].envelope->subject, reply));
  };
  auto is_dummy = [&](int container) { return containers_[container].item == -1; };
  std::unordered_map<std::string, int> table;
  for (int root : roots) {
    bool reply = false;
    const std::string subject = subject_of(root, &reply);
    if (subject.empty()) continue;
    auto [it, added] = table.try_emplace(subject, root);
    if (added) continue;
    bool existing_reply = false;
    subject_of(it->second, &existing_reply);
    if ((is_dummy(root) && !is_dummy(it->second)) ||
        (!is_dummy(it->second) && !is_dummy(root) && existing_reply && !reply)) {
      it->second = root;
    }
  }
  std::unordered_map<int, std::size_t> slot;  // container -> its place in the root set
  for (std::size_t i = 0; i < roots.size(); ++i) slot[roots[i]] = i;
  std::vector<bool> merged(roots.size(), false);
  for (std::size_t i = 0; i < roots.size(); ++i) {
    const int root = roots[i];
    bool reply = false;
    const std::string subject = subject_of(root, &reply);
    if (subject.empty()) continue;
    int& chosen = table[subject];
    if (chosen == root) continue;
    const int existing = chosen;
    bool existing_reply = false;
    subject_of(existing, &existing_reply);
    merged[i] = true;
    // `replace` puts a container in the chosen one's place in the root set.
    auto replace = [&](int container) {
      const std::size_t place = slot[existing];
      roots[place] = container;
      slot[container] = place;
      chosen = container;
    };
    if (is_dummy(existing) && is_dummy(root)) {
      for (int child : std::vector<int>(containers_[root].children)) link(existing, child);
    } else if (is_dummy(existing)) {
      link(existing, root);
    } else if (is_dummy(root)) {
      link(root, existing);
      replace(root);
    } else if (reply && !existing_reply) {
      link(existing, root);
    } else {
      const int dummy = static_cast<int>(containers_.size());
      containers_.emplace_back();
      link(dummy, existing);
      link(dummy, root);
      replace(dummy);
    }
  }
  std::vector<int> grouped;
  for (std::size_t i = 0; i < roots.size(); ++i) {
    if (!merged[i]) grouped.push_back(roots[i]);
  }
  // (6) Every set of siblings by sent date.
  sort_siblings(grouped, true);
  return format_roots(grouped);
}

}  // namespace

std::optional<std::vector<SortCriterion>> parse_sort_criteria(const Token& list) {
  if (list.kind != Token::Kind::List || list.children.empty()) return std::nullopt;
  static const std::pair<std::string_view, SortKey> kKeys[] = {
      {"ARRIVAL", SortKey::Arrival},
      {"CC", SortKey::Cc},
      {"DATE", SortKey::Date},
      {"FROM", SortKey::From},
      {"SIZE", SortKey::Size},
      {"SUBJECT", SortKey::Subject},
      {"TO", SortKey::To},
      {"DISPLAYFROM", SortKey::DisplayFrom},
      {"DISPLAYTO", SortKey::DisplayTo}};
  std::vector<SortCriterion> criteria;
  bool reverse = false;
  for (const Token& token : list.children) {
    if (token.is("REVERSE")) {
      if (reverse) return std::nullopt;
      reverse = true;
      continue;
    }
    const auto* key = std::find_if(std::begin(kKeys), std::end(kKeys),
                                   [&](const auto& entry) { return token.is(entry.first); });
    if (key == std::end(kKeys)) return std::nullopt;
    criteria.push_back({key->second, reverse});
    reverse = false;
  }
  if (reverse) return std::nullopt;
  return criteria;
}

std::string base_subject(std::string_view subject, bool* is_reply) {
  // (1) Whitespace runs become one space (encoded words are already decoded).
  std::string text;
  bool space = false;
  for (char c : subject) {
    if (is_space(c)) {
      space = true;
      continue;
    }
    if (space && !text.empty()) text += ' ';
    space = false;
    text += c;
  }
  bool reply = false;
  for (;;) {
    // (2) Trailing "(fwd)" and whitespace.
    for (;;) {
      while (!text.empty() && text.back() == ' ') text.pop_back();
      if (text.size() < 5 || !iequals(std::string_view(text).substr(text.size() - 5), "(fwd)")) {
        break;
      }
      text.resize(text.size() - 5);
      reply = true;
    }
    // (3)-(5) Leaders ("Re:", "[list] Fwd:", whitespace) and a leading [blob] that
    // does not leave the subject empty, until neither is left.
    for (bool changed = true; changed;) {
      changed = false;
      std::size_t spaces = 0;
      while (spaces < text.size() && text[spaces] == ' ') ++spaces;
      if (spaces > 0) {
        text.erase(0, spaces);
        changed = true;
      }
      if (const std::size_t leader = refwd_leader_length(text)) {
        text.erase(0, leader);
        reply = changed = true;
        continue;
      }
      const std::size_t blob = blob_length(text, 0);
      if (blob > 0 && blob < text.size()) {
        text.erase(0, blob);
        changed = true;
      }
    }
    // (6) "[fwd: ...]" around the whole subject.
    if (text.size() >= 6 && iequals(std::string_view(text).substr(0, 5), "[fwd:") &&
        text.back() == ']') {
      text = text.substr(5, text.size() - 6);
      reply = true;
      continue;
    }
    break;
  }
  if (is_reply != nullptr) *is_reply = reply;
  return text;
}

std::vector<std::uint32_t> sort_items(std::vector<SortItem> items,
                                      const std::vector<SortCriterion>& criteria) {
  std::sort(items.begin(), items.end(),
            [](const SortItem& a, const SortItem& b) { return a.number < b.number; });
  std::vector<std::vector<KeyValue>> keys(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    for (const SortCriterion& criterion : criteria)
      keys[i].push_back(key_of(items[i], criterion.key));
  }
  std::vector<std::size_t> order(items.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    for (std::size_t k = 0; k < criteria.size(); ++k) {
      const auto comparison = keys[a][k] <=> keys[b][k];
      if (comparison != 0) return criteria[k].reverse ? comparison > 0 : comparison < 0;
    }
    return false;
  });
  std::vector<std::uint32_t> numbers;
  for (std::size_t i : order) numbers.push_back(items[i].number);
  return numbers;
}

std::optional<ThreadAlgorithm> parse_thread_algorithm(std::string_view atom) {
  if (iequals(atom, "ORDEREDSUBJECT")) return ThreadAlgorithm::OrderedSubject;
  if (iequals(atom, "REFERENCES")) return ThreadAlgorithm::References;
  return std::nullopt;
}

std::string thread_items(const std::vector<SortItem>& items, ThreadAlgorithm algorithm) {
  std::vector<SortItem> ordered = items;
  std::sort(ordered.begin(), ordered.end(),
            [](const SortItem& a, const SortItem& b) { return a.number < b.number; });
  Threader threader(ordered);
  return algorithm == ThreadAlgorithm::OrderedSubject ? threader.ordered_subject()
                                                      : threader.references();
}

}  // namespace rampart::imap
