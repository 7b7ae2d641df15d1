// Process-wide logging to standard error, one line per event:
//   2026-11-23T10:00:00.123Z info  listening on 127.0.0.1:2143 (imap)
// Thread-safe. The minimum level is set once at start-up by the app.
#pragma once

#include <string_view>

namespace rampart::log {

enum class Level { Debug, Info, Warn, Error };

void set_min_level(Level level);
void write(Level level, std::string_view message);

inline void debug(std::string_view message) { write(Level::Debug, message); }
inline void info(std::string_view message) { write(Level::Info, message); }
inline void warn(std::string_view message) { write(Level::Warn, message); }
inline void error(std::string_view message) { write(Level::Error, message); }

}  // namespace rampart::log
