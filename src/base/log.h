// Process-wide logging to standard error, one line per event:
//   2026-11-23T10:00:00.123Z info  listening on 127.0.0.1:2143 (imap)
// Thread-safe. The minimum level is set once at start-up by the app. Messages often
// carry what clients sent (user names, addresses): control characters, backslashes
// and bytes that are not UTF-8 are written as \xNN, so a client can neither forge a
// line nor corrupt the log.
#pragma once

#include <string>
#include <string_view>

namespace rampart::log {

enum class Level { Debug, Info, Warn, Error };

void set_min_level(Level level);
// Appends `text` to `out` escaped as log lines are.
void append_escaped(std::string& out, std::string_view text);
void write(Level level, std::string_view message);

inline void debug(std::string_view message) { write(Level::Debug, message); }
inline void info(std::string_view message) { write(Level::Info, message); }
inline void warn(std::string_view message) { write(Level::Warn, message); }
inline void error(std::string_view message) { write(Level::Error, message); }

}  // namespace rampart::log
