// The admin API's transport: a Unix socket (config `admin_socket`), one JSON request
// per line and one answer per line. Only root and the user the server runs as may
// connect (SO_PEERCRED); anyone else is answered no-permission and disconnected.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "net/socket.h"

namespace boost::asio {
class thread_pool;
}

namespace rampart::admin {

class Api;

// Server side: answers requests on one connection until it closes or idles 5 minutes.
boost::asio::awaitable<void> run_session(net::Socket socket, Api& api,
                                         boost::asio::thread_pool& blocking);

// Client side: sends one request to the server at `socket` and returns its answer;
// nullopt when no server listens there (no socket file, or nobody accepting).
Result<std::optional<std::string>> call_server(const std::filesystem::path& socket,
                                               std::string_view request);

}  // namespace rampart::admin
