// Alerts by mail: each alert as a short plain-text message to the administrator's
// address (config `audit.alert_mail`), delivered like any other mail.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "audit/trail.h"

namespace rampart::audit {

// The RFC 5322 message for `alert`, from MAILER-DAEMON@`server` to `to`, dated
// `unix_seconds`.
std::string alert_message(const Alert& alert, std::string_view to, std::string_view server,
                          std::int64_t unix_seconds);

}  // namespace rampart::audit
