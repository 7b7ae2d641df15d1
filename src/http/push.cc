// JMAP push: EventSource (RFC 8620 §7.3) and JMAP over WebSocket (RFC 8887). Both
// follow the account's changes on the store's change bus; every type's state is the
// account's MODSEQ, so each change names every type asked for with the new state.
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <deque>

#include "base/ascii.h"
#include "base/base64.h"
#include "http/server_internal.h"
#include "http/websocket.h"
#include "net/change_watch.h"
#include "net/offload.h"

namespace rampart::http {
namespace {

// The types a StateChange names: every one shares the account's MODSEQ as its state.
constexpr std::string_view kPushTypes[] = {"Mailbox",  "Email",           "Thread",
                                           "Identity", "EmailSubmission", "VacationResponse"};

// Follows an account's state: each committed change raises `latest` and wakes the
// connection, on its executor (net/change_watch.h).
struct StateWatch : net::ChangeWatch {
  using net::ChangeWatch::ChangeWatch;
  store::ModSeq latest = 0;
};

std::unique_ptr<store::ChangeBus::Subscription> follow_state(
    store::Store& store, store::AccountId account, const std::shared_ptr<StateWatch>& watch) {
  return store.change_bus().subscribe(account, [watch](const store::ChangeEvent& event) {
    net::raise(watch, [modseq = event.modseq](StateWatch& watch) {
      watch.latest = std::max(watch.latest, modseq);
      return true;
    });
  });
}

}  // namespace

// GET /jmap/eventsource?types=&closeafter=&ping= (RFC 8620 §7.3): a StateChange
// event whenever the account's state moves. Every type's state is the account's
// MODSEQ, so each change names all the types asked for with the new state.
boost::asio::awaitable<void> jmap_event_source(net::Stream& stream, const Request&,
                                               const Target& target, const Caller& caller,
                                               Services& services, const SessionOptions& options) {
  namespace asio = boost::asio;
  std::vector<std::string_view> types;
  const auto types_value = query_value(target.query, "types");
  const std::string requested = types_value ? *types_value : "*";
  for (std::string_view type : kPushTypes) {
    if (requested == "*" ||
        ("," + requested + ",").find("," + std::string(type) + ",") != std::string::npos) {
      types.push_back(type);
    }
  }
  const auto closeafter = query_value(target.query, "closeafter");
  const bool close_after_state = closeafter && *closeafter == "state";
  int ping = 0;
  if (auto value = query_value(target.query, "ping")) {
    ping = std::atoi(value->c_str());
    if (ping < 0 || ping > 3600 || value->empty() || value->size() > 4) {
      co_await stream.write(error_response(400, "ping is 0 to 3600 seconds"), options.timeout);
      co_return;
    }
  }
  auto signal = std::make_shared<StateWatch>(co_await asio::this_coro::executor);
  auto subscription = follow_state(services.store, caller.account->id, signal);
  auto current = co_await net::offload(
      services.blocking, [&] { return services.store.get_account(caller.account->id); });
  if (!current) {
    co_await stream.write(error_response(503, "try again later"), options.timeout);
    co_return;
  }
  const std::string account_id = jmap_account_id(*caller.account);
  auto state_event = [&](store::ModSeq modseq) {
    boost::json::object states;
    for (std::string_view type : types) states[type] = std::to_string(modseq);
    boost::json::object change{{"@type", "StateChange"},
                               {"changed", boost::json::object{{account_id, std::move(states)}}}};
    return "event: state\ndata: " + boost::json::serialize(change) + "\n\n";
  };
  // No length: the stream ends when the connection does.
  std::string out =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
      "X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n";
  store::ModSeq sent = current->modseq;
  // A long-lived stream starts with the state now, so a client knows where it stands;
  // closeafter=state waits for the next change.
  if (!close_after_state) out += state_event(sent);
  if (!co_await stream.write(out, options.timeout)) co_return;
  // Without pings a comment every minute finds dead connections.
  const auto interval = std::chrono::seconds(ping > 0 ? ping : 60);
  for (;;) {
    const bool woken = co_await signal->wait_for(interval);
    if (revoked(caller, services)) co_return;
    if (signal->latest > sent) {
      sent = signal->latest;
      if (!co_await stream.write(state_event(sent), options.timeout)) co_return;
      if (close_after_state) co_return;
    } else if (!woken) {
      const std::string keepalive =
          ping > 0 ? "event: ping\ndata: {\"interval\":" + std::to_string(ping) + "}\n\n"
                   : ": keep-alive\n\n";
      if (!co_await stream.write(keepalive, options.timeout)) co_return;
    }
  }
}

namespace {

namespace asio = boost::asio;

// What the server may hold for a WebSocket client that does not read: past it, the
// client's frames are not read until the outbox drains (one JMAP response may pass it).
constexpr std::size_t kMaxOutboxBytes = 1 << 20;
constexpr std::size_t kReadChunk = 16 * 1024;

// What one WebSocket message asks for, answered on the blocking pool.
struct Answer {
  std::string reply;  // a JSON text to send, or empty
  enum class Push { Same, Enable, Disable } push = Push::Same;
  std::vector<std::string> types;  // for Enable: the data types ("*": all)
  std::optional<store::ModSeq> push_state;
  store::ModSeq now = 0;  // the account's state when it was answered
};

std::string request_error(const std::optional<std::string>& id, const jmap::RequestError& error) {
  boost::json::object problem = error.problem().as_object();
  problem["@type"] = "RequestError";
  if (id) problem["requestId"] = *id;
  return boost::json::serialize(problem);
}

Answer answer_message(const std::string& text, const Caller& caller, Services& services) {
  Answer answer;
  if (auto account = services.store.get_account(caller.account->id)) answer.now = account->modseq;
  boost::system::error_code error;
  boost::json::value value = boost::json::parse(text, error);
  const boost::json::object* object = error ? nullptr : value.if_object();
  const boost::json::value* type = object ? object->if_contains("@type") : nullptr;
  std::optional<std::string> id;
  if (const boost::json::value* given = object ? object->if_contains("id") : nullptr;
      given && given->is_string()) {
    id = std::string(given->get_string());
  }
  auto refuse = [&](const char* kind, std::string detail) {
    answer.reply = request_error(
        id, jmap::RequestError{.type = std::string("urn:ietf:params:jmap:error:") + kind,
                               .status = 400,
                               .detail = std::move(detail),
                               .limit = {}});
    return answer;
  };
  if (!object) return refuse("notJSON", "a message is a JSON object");
  if (!type || !type->is_string()) return refuse("notRequest", "a message has an @type");
  const std::string_view kind = type->get_string();
  if (kind == "Request") {
    auto result = run_jmap(text, caller, services);
    if (auto* failed = std::get_if<jmap::RequestError>(&result)) {
      answer.reply = request_error(id, *failed);
    } else {
      boost::json::object& response = std::get<boost::json::object>(result);
      response["@type"] = "Response";
      if (id) response["requestId"] = *id;
      answer.reply = boost::json::serialize(response);
    }
  } else if (kind == "WebSocketPushEnable") {
    answer.push = Answer::Push::Enable;
    const boost::json::value* types = object->if_contains("dataTypes");
    if (!types || types->is_null()) {
      answer.types = {"*"};
    } else if (types->is_array()) {
      for (const auto& item : types->get_array()) {
        if (item.is_string()) answer.types.emplace_back(item.get_string());
      }
    } else {
      return refuse("notRequest", "dataTypes is a list or null");
    }
    if (const boost::json::value* state = object->if_contains("pushState");
        state && state->is_string()) {
      store::ModSeq parsed = 0;
      const std::string_view digits = state->get_string();
      if (std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
          !digits.empty() && digits.size() < 20) {
        parsed = std::stoull(std::string(digits));
        answer.push_state = parsed;
      }
    }
  } else if (kind == "WebSocketPushDisable") {
    answer.push = Answer::Push::Disable;
  } else {
    return refuse("notRequest", "unknown @type " + std::string(kind));
  }
  return answer;
}

std::string header_of(const Request& request, bhttp::field field) {
  const auto value = request[field];
  return std::string(value.data(), value.size());
}

}  // namespace

boost::asio::awaitable<void> jmap_websocket(net::Stream& stream, const Request& request,
                                            const Target&, const Caller& caller, Services& services,
                                            const SessionOptions& options) {
  using namespace asio::experimental::awaitable_operators;
  namespace ws = websocket;
  // The opening handshake (RFC 6455 §4.2) with the "jmap" subprotocol (RFC 8887 §3).
  const std::string key = header_of(request, bhttp::field::sec_websocket_key);
  const auto decoded_key = base64_decode(key);
  bool jmap = false;
  {
    const std::string offered = header_of(request, bhttp::field::sec_websocket_protocol);
    std::size_t at = 0;
    while (at <= offered.size()) {
      const auto comma = std::min(offered.find(',', at), offered.size());
      std::string_view name = std::string_view(offered).substr(at, comma - at);
      while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
      while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
      jmap |= name == "jmap";
      at = comma + 1;
    }
  }
  if (!iequals(header_of(request, bhttp::field::upgrade), "websocket") ||
      lowercase(header_of(request, bhttp::field::connection)).find("upgrade") ==
          std::string::npos ||
      header_of(request, bhttp::field::sec_websocket_version) != "13" || !decoded_key ||
      decoded_key->size() != 16 || !jmap) {
    co_await stream.write(
        error_response(400, "a WebSocket upgrade (version 13) with the jmap subprotocol"),
        options.timeout);
    co_return;
  }
  const std::string handshake =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: " +
      ws::accept_key(key) + "\r\nSec-WebSocket-Protocol: jmap\r\n\r\n";
  if (!co_await stream.write(handshake, options.timeout)) co_return;

  // One reader and one writer share this state on the connection's strand.
  struct Shared : StateWatch {  // wake() also tells the writer the outbox has frames
    explicit Shared(asio::any_io_executor executor) : StateWatch(executor), room(executor) {}
    std::deque<std::string> outbox;
    std::size_t outbox_bytes = 0;
    asio::steady_timer room;  // cancelled when the writer has taken frames from the outbox
    bool closing = false;
    bool push = false;
    std::vector<std::string> types;
    store::ModSeq pushed = 0;

    void send(std::string frame) {
      outbox_bytes += frame.size();
      outbox.push_back(std::move(frame));
      wake();
    }
  };
  auto shared = std::make_shared<Shared>(co_await asio::this_coro::executor);
  auto subscription = follow_state(services.store, caller.account->id, shared);
  const std::size_t max_message = services.jmap.limits().max_size_request;
  const std::string account_id = jmap_account_id(*caller.account);

  auto reader = [&]() -> asio::awaitable<void> {
    std::string buffer, message;
    bool in_message = false;
    auto fail = [&](std::uint16_t code) {
      shared->send(ws::close_frame(code));
      shared->closing = true;
    };
    for (;;) {
      // Backpressure: a client that sends (pings, requests) but does not read what it
      // is sent is not read from either while the outbox is full.
      while (shared->outbox_bytes > kMaxOutboxBytes && !shared->closing) {
        shared->room.expires_after(options.timeout);
        boost::system::error_code error;
        co_await shared->room.async_wait(asio::redirect_error(asio::use_awaitable, error));
      }
      if (shared->closing) break;
      ws::Frame frame;
      std::uint16_t code = 0;
      const auto decoded = ws::decode_frame(buffer, max_message, frame, code);
      if (decoded == ws::Decoded::NeedMore) {
        // A quiet client is fine for a long while: push needs no traffic from it.
        if (!co_await stream.read_some(buffer, kReadChunk, std::chrono::seconds(1800))) break;
        continue;
      }
      if (decoded == ws::Decoded::Error) {
        fail(code);
        break;
      }
      if (frame.opcode == ws::kPing) {
        shared->send(ws::encode_frame(ws::kPong, frame.payload));
        continue;
      }
      if (frame.opcode == ws::kPong) continue;
      if (frame.opcode == ws::kClose) {
        shared->send(ws::close_frame(1000));
        shared->closing = true;
        break;
      }
      if (frame.opcode == ws::kBinary) {
        fail(1003);  // JMAP messages are text
        break;
      }
      if ((frame.opcode == ws::kContinuation) != in_message) {
        fail(1002);
        break;
      }
      message = in_message ? message + frame.payload : std::move(frame.payload);
      if (message.size() > max_message) {
        fail(1009);
        break;
      }
      in_message = !frame.fin;
      if (in_message) continue;
      if (revoked(caller, services)) {
        fail(1008);  // policy violation: log in again
        break;
      }
      Answer answer = co_await net::offload(
          services.blocking, [&] { return answer_message(message, caller, services); });
      message.clear();
      if (!answer.reply.empty()) shared->send(ws::encode_frame(ws::kText, answer.reply));
      if (answer.push == Answer::Push::Enable) {
        shared->push = true;
        shared->types = std::move(answer.types);
        shared->latest = std::max(shared->latest, answer.now);
        // With a pushState the client is told at once if it is behind; without, from now.
        shared->pushed = answer.push_state.value_or(answer.now);
      } else if (answer.push == Answer::Push::Disable) {
        shared->push = false;
      }
      shared->wake();
    }
    shared->closing = true;
    shared->wake();
  };

  auto writer = [&]() -> asio::awaitable<void> {
    for (;;) {
      while (!shared->outbox.empty()) {
        const std::string frame = std::move(shared->outbox.front());
        shared->outbox.pop_front();
        shared->outbox_bytes -= frame.size();
        shared->room.cancel();
        if (!co_await stream.write(frame, options.timeout)) shared->closing = true;
        if (shared->closing && shared->outbox.empty()) break;
      }
      if (shared->closing) break;
      if (shared->push && shared->latest != shared->pushed) {
        shared->pushed = shared->latest;
        boost::json::object states;
        for (std::string_view type : kPushTypes) {
          if (std::find(shared->types.begin(), shared->types.end(), "*") != shared->types.end() ||
              std::find(shared->types.begin(), shared->types.end(), type) != shared->types.end()) {
            states[type] = std::to_string(shared->latest);
          }
        }
        boost::json::object change{
            {"@type", "StateChange"},
            {"changed", boost::json::object{{account_id, std::move(states)}}},
            {"pushState", std::to_string(shared->latest)}};
        shared->send(ws::encode_frame(ws::kText, boost::json::serialize(change)));
        continue;
      }
      // A ping now and then finds peers that went away without a word.
      const bool woken = co_await shared->wait_for(std::chrono::seconds(300));
      if (revoked(caller, services)) {
        shared->send(ws::close_frame(1008));
        shared->closing = true;
        continue;
      }
      if (!woken) shared->send(ws::encode_frame(ws::kPing, {}));
    }
    shared->room.cancel();
    stream.close();  // ends the reader's read
  };

  co_await (reader() && writer());
}

}  // namespace rampart::http
