#include "delivery/sieve_scripts.h"

#include <boost/json.hpp>
#include <mutex>

#include "base/utf8.h"
#include "sieve/parser.h"

namespace rampart::delivery {
namespace {

namespace json = boost::json;

// One lock for every account's writes: a name is checked and written in one step, so
// two sessions cannot both create it. Writes are rare (a user editing a filter).
std::mutex& write_mutex() {
  static std::mutex mutex;
  return mutex;
}

std::string to_json(std::string_view name, std::string_view content) {
  return json::serialize(json::object{{"name", name}, {"content", content}});
}

std::optional<std::pair<std::string, std::string>> from_json(std::string_view data) {
  boost::system::error_code error;
  const json::value value = json::parse(data, error);
  const json::object* object = error ? nullptr : value.if_object();
  if (!object) return std::nullopt;
  const json::value* name = object->if_contains("name");
  const json::value* content = object->if_contains("content");
  if (!name || !name->is_string() || !content || !content->is_string()) return std::nullopt;
  return std::pair{std::string(name->get_string()), std::string(content->get_string())};
}

}  // namespace

bool SieveScripts::valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes || !is_valid_utf8(name)) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c == 0x7F) return false;
    // U+0080..U+009F, U+2028 and U+2029 (RFC 5198 section 2, which RFC 5804 names).
    if (c == 0xC2 && i + 1 < name.size() && static_cast<unsigned char>(name[i + 1]) <= 0x9F) {
      return false;
    }
    if (name.substr(i).starts_with("\xE2\x80\xA8") || name.substr(i).starts_with("\xE2\x80\xA9")) {
      return false;
    }
  }
  return true;
}

Result<std::vector<SieveScripts::Stored>> SieveScripts::load(store::AccountId account) {
  auto records = store_.list_objects(account, kSieveScriptType);
  if (!records) return tl::unexpected(records.error());
  std::vector<Stored> out;
  for (const store::StoredObject& record : *records) {
    auto parsed = from_json(record.data);
    if (!parsed) continue;
    out.push_back({record.id,
                   {.name = std::move(parsed->first),
                    .content = std::move(parsed->second),
                    .active = false,
                    .modseq = record.modseq}});
  }
  return out;
}

Result<std::pair<std::int64_t, std::string>> SieveScripts::load_active(store::AccountId account,
                                                                       store::ModSeq* modseq) {
  auto records = store_.list_objects(account, kSieveActiveType);
  if (!records) return tl::unexpected(records.error());
  if (records->empty()) return std::pair<std::int64_t, std::string>{0, ""};
  if (modseq) *modseq = records->front().modseq;
  return std::pair{records->front().id, records->front().data};
}

Result<std::vector<SieveScript>> SieveScripts::list(store::AccountId account) {
  auto stored = load(account);
  if (!stored) return tl::unexpected(stored.error());
  auto active = load_active(account);
  if (!active) return tl::unexpected(active.error());
  std::vector<SieveScript> out;
  for (Stored& entry : *stored) {
    entry.script.active = entry.script.name == active->second;
    out.push_back(std::move(entry.script));
  }
  return out;
}

Result<SieveScript> SieveScripts::get(store::AccountId account, std::string_view name) {
  auto scripts = list(account);
  if (!scripts) return tl::unexpected(scripts.error());
  for (SieveScript& script : *scripts) {
    if (script.name == name) return std::move(script);
  }
  return fail(Errc::NotFound, "no such script");
}

Result<std::optional<SieveScript>> SieveScripts::active(store::AccountId account) {
  store::ModSeq activated = 0;
  auto active = load_active(account, &activated);
  if (!active) return tl::unexpected(active.error());
  if (active->second.empty()) return std::optional<SieveScript>{};
  auto stored = load(account);
  if (!stored) return tl::unexpected(stored.error());
  for (Stored& entry : *stored) {
    if (entry.script.name != active->second) continue;
    entry.script.active = true;
    entry.script.modseq = std::max(entry.script.modseq, activated);
    return std::optional<SieveScript>(std::move(entry.script));
  }
  return std::optional<SieveScript>{};
}

Result<std::int64_t> SieveScripts::slot(const std::vector<Stored>& stored, std::string_view name,
                                        std::size_t size) {
  if (!valid_name(name)) return fail(Errc::BadInput, "not a valid script name");
  if (size > kMaxScriptBytes) {
    return fail(Errc::TooBig,
                "a script may have at most " + std::to_string(kMaxScriptBytes) + " bytes");
  }
  for (const Stored& entry : stored) {
    if (entry.script.name == name) return entry.id;
  }
  if (stored.size() >= kMaxScripts) {
    return fail(Errc::TooBig,
                "an account may have at most " + std::to_string(kMaxScripts) + " scripts");
  }
  return 0;
}

Result<void> SieveScripts::have_space(store::AccountId account, std::string_view name,
                                      std::size_t size) {
  auto stored = load(account);
  if (!stored) return tl::unexpected(stored.error());
  auto id = slot(*stored, name, size);
  if (!id) return tl::unexpected(id.error());
  return {};
}

Result<void> SieveScripts::put(store::AccountId account, std::string_view name,
                               std::string_view content) {
  sieve::SieveLimits limits;
  limits.max_script_bytes = kMaxScriptBytes;
  if (auto parsed = sieve::parse_script(content, limits); !parsed) {
    return tl::unexpected(parsed.error());
  }
  std::lock_guard lock(write_mutex());
  auto stored = load(account);
  if (!stored) return tl::unexpected(stored.error());
  auto id = slot(*stored, name, content.size());
  if (!id) return tl::unexpected(id.error());
  auto kept = store_.put_object(account, kSieveScriptType, *id, to_json(name, content));
  if (!kept) return tl::unexpected(kept.error());
  return {};
}

Result<void> SieveScripts::activate(store::AccountId account, std::string_view name) {
  std::lock_guard lock(write_mutex());
  auto active = load_active(account);
  if (!active) return tl::unexpected(active.error());
  if (!name.empty()) {
    auto stored = load(account);
    if (!stored) return tl::unexpected(stored.error());
    if (std::none_of(stored->begin(), stored->end(),
                     [&](const Stored& entry) { return entry.script.name == name; })) {
      return fail(Errc::NotFound, "no such script");
    }
  }
  if (active->first == 0 && name.empty()) return {};
  if (active->first != 0 && name.empty()) {
    return store_.destroy_object(account, kSieveActiveType, active->first);
  }
  auto kept = store_.put_object(account, kSieveActiveType, active->first, name);
  if (!kept) return tl::unexpected(kept.error());
  return {};
}

Result<void> SieveScripts::rename(store::AccountId account, std::string_view from,
                                  std::string_view to) {
  if (!valid_name(to)) return fail(Errc::BadInput, "not a valid script name");
  std::lock_guard lock(write_mutex());
  auto stored = load(account);
  if (!stored) return tl::unexpected(stored.error());
  const Stored* source = nullptr;
  for (const Stored& entry : *stored) {
    if (entry.script.name == to) return fail(Errc::Exists, "a script has that name");
    if (entry.script.name == from) source = &entry;
  }
  if (!source) return fail(Errc::NotFound, "no such script");
  auto active = load_active(account);
  if (!active) return tl::unexpected(active.error());
  auto kept =
      store_.put_object(account, kSieveScriptType, source->id, to_json(to, source->script.content));
  if (!kept) return tl::unexpected(kept.error());
  if (active->second == from) {
    auto moved = store_.put_object(account, kSieveActiveType, active->first, to);
    if (!moved) return tl::unexpected(moved.error());
  }
  return {};
}

Result<void> SieveScripts::remove(store::AccountId account, std::string_view name) {
  std::lock_guard lock(write_mutex());
  auto active = load_active(account);
  if (!active) return tl::unexpected(active.error());
  if (active->second == name) return fail(Errc::NoPermission, "the script is active");
  auto stored = load(account);
  if (!stored) return tl::unexpected(stored.error());
  for (const Stored& entry : *stored) {
    if (entry.script.name == name) {
      return store_.destroy_object(account, kSieveScriptType, entry.id);
    }
  }
  return fail(Errc::NotFound, "no such script");
}

}  // namespace rampart::delivery
