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

// The answer to a WebSocket opening handshake (RFC 6455 §4.2) asking for the "jmap"
// subprotocol (RFC 8887 §3): 101 Switching Protocols, or nullopt when it is not one.
std::optional<std::string> accept_handshake(const Request& request) {
  const std::string key = header_of(request, bhttp::field::sec_websocket_key);
  const auto decoded_key = base64_decode(key);
  bool jmap = false;
  const std::string offered = header_of(request, bhttp::field::sec_websocket_protocol);
  for (std::size_t at = 0; at <= offered.size();) {
    const auto comma = std::min(offered.find(',', at), offered.size());
    std::string_view name = std::string_view(offered).substr(at, comma - at);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    jmap |= name == "jmap";
    at = comma + 1;
  }
  if (!iequals(header_of(request, bhttp::field::upgrade), "websocket") ||
      lowercase(header_of(request, bhttp::field::connection)).find("upgrade") ==
          std::string::npos ||
      header_of(request, bhttp::field::sec_websocket_version) != "13" || !decoded_key ||
      decoded_key->size() != 16 || !jmap) {
    return std::nullopt;
  }
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: " +
         websocket::accept_key(key) + "\r\nSec-WebSocket-Protocol: jmap\r\n\r\n";
}

// JMAP over one WebSocket, once upgraded: a reader that answers the client's messages
// and a writer that sends the answers, pings and StateChange pushes. Both run on the
// connection's thread and share the outbox.
class WebSocketSession {
 public:
  WebSocketSession(net::Stream& stream, const Caller& caller, Services& services,
                   const SessionOptions& options, asio::any_io_executor executor)
      : stream_(stream),
        caller_(caller),
        services_(services),
        options_(options),
        shared_(std::make_shared<Shared>(std::move(executor))),
        max_message_(services.jmap.limits().max_size_request),
        account_id_(jmap_account_id(*caller.account)) {}

  asio::awaitable<void> run() {
    using namespace asio::experimental::awaitable_operators;
    auto subscription = follow_state(services_.store, caller_.account->id, shared_);
    co_await (read_frames() && write_frames());
  }

 private:
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
    void fail(std::uint16_t code) {
      send(websocket::close_frame(code));
      closing = true;
    }
  };

  asio::awaitable<void> read_frames() {
    namespace ws = websocket;
    std::string buffer, message;
    bool in_message = false;
    for (;;) {
      // Backpressure: a client that sends (pings, requests) but does not read what it
      // is sent is not read from either while the outbox is full.
      while (shared_->outbox_bytes > kMaxOutboxBytes && !shared_->closing) {
        shared_->room.expires_after(options_.timeout);
        boost::system::error_code error;
        co_await shared_->room.async_wait(asio::redirect_error(asio::use_awaitable, error));
      }
      if (shared_->closing) break;
      ws::Frame frame;
      std::uint16_t code = 0;
      const auto decoded = ws::decode_frame(buffer, max_message_, frame, code);
      if (decoded == ws::Decoded::NeedMore) {
        // A quiet client is fine for a long while: push needs no traffic from it.
        if (!co_await stream_.read_some(buffer, kReadChunk, std::chrono::seconds(1800))) break;
        continue;
      }
      if (decoded == ws::Decoded::Error) {
        shared_->fail(code);
        break;
      }
      if (frame.opcode == ws::kPing) {
        shared_->send(ws::encode_frame(ws::kPong, frame.payload));
        continue;
      }
      if (frame.opcode == ws::kPong) continue;
      if (frame.opcode == ws::kClose) {
        shared_->fail(1000);
        break;
      }
      if (frame.opcode == ws::kBinary) {
        shared_->fail(1003);  // JMAP messages are text
        break;
      }
      if ((frame.opcode == ws::kContinuation) != in_message) {
        shared_->fail(1002);
        break;
      }
      message = in_message ? message + frame.payload : std::move(frame.payload);
      if (message.size() > max_message_) {
        shared_->fail(1009);
        break;
      }
      in_message = !frame.fin;
      if (in_message) continue;
      if (revoked(caller_, services_)) {
        shared_->fail(1008);  // policy violation: log in again
        break;
      }
      co_await answer(message);
      message.clear();
    }
    shared_->closing = true;
    shared_->wake();
  }

  // One whole JMAP message: a Request answered, or push switched on or off.
  asio::awaitable<void> answer(const std::string& message) {
    Answer answer = co_await net::offload(
        services_.blocking, [&] { return answer_message(message, caller_, services_); });
    if (!answer.reply.empty()) {
      shared_->send(websocket::encode_frame(websocket::kText, answer.reply));
    }
    if (answer.push == Answer::Push::Enable) {
      shared_->push = true;
      shared_->types = std::move(answer.types);
      shared_->latest = std::max(shared_->latest, answer.now);
      // With a pushState the client is told at once if it is behind; without, from now.
      shared_->pushed = answer.push_state.value_or(answer.now);
    } else if (answer.push == Answer::Push::Disable) {
      shared_->push = false;
    }
    shared_->wake();
  }

  asio::awaitable<void> write_frames() {
    for (;;) {
      while (!shared_->outbox.empty()) {
        const std::string frame = std::move(shared_->outbox.front());
        shared_->outbox.pop_front();
        shared_->outbox_bytes -= frame.size();
        shared_->room.cancel();
        if (!co_await stream_.write(frame, options_.timeout)) shared_->closing = true;
        if (shared_->closing && shared_->outbox.empty()) break;
      }
      if (shared_->closing) break;
      if (shared_->push && shared_->latest != shared_->pushed) {
        shared_->pushed = shared_->latest;
        shared_->send(websocket::encode_frame(websocket::kText, state_change()));
        continue;
      }
      // A ping now and then finds peers that went away without a word.
      const bool woken = co_await shared_->wait_for(std::chrono::seconds(300));
      if (revoked(caller_, services_)) {
        shared_->fail(1008);
        continue;
      }
      if (!woken) shared_->send(websocket::encode_frame(websocket::kPing, {}));
    }
    shared_->room.cancel();
    stream_.close();  // ends the reader's read
  }

  // RFC 8887 §4.3.5: the types asked for, each at the account's state.
  std::string state_change() const {
    const auto& types = shared_->types;
    const bool all = std::find(types.begin(), types.end(), "*") != types.end();
    boost::json::object states;
    for (std::string_view type : kPushTypes) {
      if (all || std::find(types.begin(), types.end(), type) != types.end()) {
        states[type] = std::to_string(shared_->latest);
      }
    }
    return boost::json::serialize(
        boost::json::object{{"@type", "StateChange"},
                            {"changed", boost::json::object{{account_id_, std::move(states)}}},
                            {"pushState", std::to_string(shared_->latest)}});
  }

  net::Stream& stream_;
  const Caller& caller_;
  Services& services_;
  const SessionOptions& options_;
  std::shared_ptr<Shared> shared_;
  const std::size_t max_message_;
  const std::string account_id_;
};

}  // namespace

boost::asio::awaitable<void> jmap_websocket(net::Stream& stream, const Request& request,
                                            const Target&, const Caller& caller, Services& services,
                                            const SessionOptions& options) {
  const auto handshake = accept_handshake(request);
  if (!handshake) {
    co_await stream.write(
        error_response(400, "a WebSocket upgrade (version 13) with the jmap subprotocol"),
        options.timeout);
    co_return;
  }
  if (!co_await stream.write(*handshake, options.timeout)) co_return;
  WebSocketSession session(stream, caller, services, options, co_await asio::this_coro::executor);
  co_await session.run();
}

}  // namespace rampart::http
