#include "smtp/session.h"

#include <openssl/rand.h>

#include <algorithm>
#include <boost/asio/thread_pool.hpp>
#include <charconv>
#include <ctime>
#include <optional>

#include "audit/trail.h"
#include "auth/login.h"
#include "auth/sasl.h"
#include "base/address.h"
#include "base/log.h"
#include "base/memory_budget.h"
#include "base/metrics.h"
#include "delivery/delivery.h"
#include "directory/directory.h"
#include "filter/clamav.h"
#include "mailauth/auth_results.h"
#include "mailauth/inbound.h"
#include "mime/encode.h"
#include "mime/header.h"
#include "net/offload.h"
#include "net/stream.h"
#include "smtp/command_parser.h"
#include "smtp/data_reader.h"
#include "smtp/replies.h"
#include "smtp/spam_internal.h"

namespace rampart::smtp {
namespace {

namespace asio = boost::asio;

constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::chrono::seconds kTlsHandshakeTimeout{30};

// The id of one accepted message, in the logs and the client's "queued as".
Result<std::string> random_id() {
  unsigned char bytes[8];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return fail(Errc::Internal, "RAND_bytes failed");
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string id;
  for (unsigned char b : bytes) {
    id += kHex[b >> 4];
    id += kHex[b & 15];
  }
  return id;
}

// RFC 5321 §6.3: a message that has passed this many relays is looping (Postfix's
// hopcount_limit).
constexpr std::size_t kMaxHops = 50;

// Each message's first MiB comes from no shared budget: small mail flows even while
// big messages in transit have used it all.
constexpr std::size_t kFreeMessageBytes = 1 << 20;

struct Recipient {
  std::string address;           // as the client wrote it
  store::AccountId account = 0;  // 0: a remote recipient, for the outbound queue
  Parameters parameters;         // NOTIFY, ORCPT: kept for DSNs
};

class Session {
 public:
  Session(net::Socket socket, const SessionOptions& options, Services& services)
      : options_(options),
        services_(services),
        stream_(std::move(socket), services.tls ? services.tls->current() : nullptr),
        parser_(Limits{}),
        message_lease_(services.message_budget, kFreeMessageBytes) {}

  asio::awaitable<void> run();

 private:
  // Replies are collected and sent when the client has nothing more pipelined.
  void reply(int code, std::string_view enhanced, std::string_view text) {
    output_ += format_reply(code, enhanced, text);
  }
  asio::awaitable<bool> flush();
  asio::awaitable<bool> read_more(std::chrono::seconds timeout);
  asio::awaitable<std::optional<std::string>> read_line();

  asio::awaitable<bool> execute(Command& command);  // false: end the session
  void hello(const Command& command);
  asio::awaitable<void> auth(const Command& command);
  asio::awaitable<void> mail(const Command& command);
  asio::awaitable<void> rcpt(const Command& command);
  asio::awaitable<bool> data();
  asio::awaitable<bool> bdat(const Command& command);
  asio::awaitable<void> finish_message(std::string message, bool too_big);
  bool count_error();
  // `keep_lease`: the message is still held (finish_message), so is its budget.
  void reset_transaction(bool keep_lease = false);
  // 421 and the end of the connection: the message budget is used up.
  asio::awaitable<bool> refuse_for_memory();
  std::string received_header(std::string_view recipient) const;
  void count_checks(const mailauth::Verdicts& verdicts);
  // A refused message in the audit trail, once per recipient, and counted.
  void record_refusal(const std::vector<Recipient>& recipients, const std::string& id,
                      const std::string& mail_from, const std::string& why);

  bool auth_allowed() const {
    return options_.mode == Mode::Submission && (stream_.is_tls() || stream_.is_loopback());
  }

  const SessionOptions& options_;
  Services& services_;
  net::Stream stream_;
  CommandParser parser_;
  std::string input_;
  std::string output_;
  std::string helo_;
  bool extended_ = false;
  std::optional<store::Account> user_;
  std::optional<std::string> mail_from_;
  mailauth::SpfOutcome spf_;  // the MX's SPF check of this transaction's MAIL FROM
  Parameters mail_parameters_;
  std::vector<Recipient> recipients_;
  std::string chunks_;  // BDAT data so far
  bool chunking_ = false;
  bool chunks_too_big_ = false;
  // What this transaction's message holds of the shared message budget.
  MemoryBudget::Lease message_lease_;
  int errors_ = 0;
  int transactions_ = 0;
  int junk_commands_ = 0;
  bool closing_ = false;
};

asio::awaitable<bool> Session::flush() {
  if (output_.empty()) co_return true;
  const bool ok = co_await stream_.write(output_, options_.command_timeout);
  output_.clear();
  co_return ok;
}

asio::awaitable<bool> Session::read_more(std::chrono::seconds timeout) {
  co_return co_await stream_.read_some(input_, kReadChunk, timeout);
}

// A SASL response line; the parser's limits apply.
asio::awaitable<std::optional<std::string>> Session::read_line() {
  for (;;) {
    const auto end = input_.find('\n');
    if (end != std::string::npos) {
      std::string line = input_.substr(0, end);
      input_.erase(0, end + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      co_return line;
    }
    if (input_.size() > 16 * 1024 || !co_await flush() ||
        !co_await read_more(options_.command_timeout)) {
      co_return std::nullopt;
    }
  }
}

asio::awaitable<void> Session::run() {
  if (options_.implicit_tls && !co_await stream_.start_tls(kTlsHandshakeTimeout)) co_return;
  reply(220, "",
        options_.hostname + (options_.mode == Mode::Lmtp ? " LMTP" : " ESMTP") + " Rampart");
  for (;;) {
    std::string_view pending = input_;
    Step step = parser_.feed(pending);
    input_.erase(0, input_.size() - pending.size());
    if (auto* command = std::get_if<Command>(&step)) {
      if (!co_await execute(*command)) break;
    } else if (auto* bad = std::get_if<BadCommand>(&step)) {
      reply(bad->code, bad->enhanced, bad->text);
      if (count_error()) break;
    } else {
      if (!co_await flush() || !co_await read_more(options_.command_timeout)) co_return;
    }
  }
  co_await flush();
  stream_.close();
}

bool Session::count_error() {
  if (++errors_ < options_.max_errors) return false;
  reply(421, "4.7.0", options_.hostname + " Too many errors, closing connection");
  return true;
}

void Session::reset_transaction(bool keep_lease) {
  mail_from_.reset();
  spf_ = {};
  mail_parameters_.clear();
  recipients_.clear();
  chunks_.clear();
  chunking_ = false;
  chunks_too_big_ = false;
  if (!keep_lease) message_lease_.release();
}

asio::awaitable<bool> Session::refuse_for_memory() {
  log::warn("smtp: messages in transit have used the shared budget; closing " +
            stream_.peer_address());
  reply(421, "4.3.2", "Too much mail in transit, try again later");
  co_await flush();
  co_return false;
}

asio::awaitable<bool> Session::execute(Command& command) {
  const bool lmtp = options_.mode == Mode::Lmtp;
  // Commands that move no mail are capped, so a client cannot hold a session forever.
  if (command.verb == Verb::Noop || command.verb == Verb::Rset || command.verb == Verb::Vrfy ||
      command.verb == Verb::Expn || command.verb == Verb::Help) {
    if (++junk_commands_ > options_.max_junk_commands) {
      reply(421, "4.7.0", options_.hostname + " Too many commands without mail, closing");
      co_return false;
    }
  }
  switch (command.verb) {
    case Verb::Helo:
    case Verb::Ehlo:
    case Verb::Lhlo:
      if (lmtp != (command.verb == Verb::Lhlo)) {
        reply(500, "5.5.1", lmtp ? "LMTP speaks LHLO" : "Command not recognized");
        co_return !count_error();
      }
      hello(command);
      co_return true;
    case Verb::Starttls: {
      if (!stream_.can_start_tls()) {
        if (stream_.is_tls()) {
          reply(503, "5.5.1", "TLS already active");
        } else {
          reply(502, "5.5.1", "STARTTLS not available");
        }
        co_return !count_error();
      }
      reply(220, "2.0.0", "Ready to start TLS");
      if (!co_await flush()) co_return false;
      // docs/architecture.md rule 8: whatever the client pipelined before the handshake is
      // discarded, so nothing sent in plaintext runs inside the TLS session.
      input_.clear();
      parser_.reset();
      if (!co_await stream_.start_tls(kTlsHandshakeTimeout)) co_return false;
      helo_.clear();
      extended_ = false;
      user_.reset();
      reset_transaction();
      co_return true;
    }
    case Verb::Auth:
      co_await auth(command);
      co_return !closing_;
    case Verb::Mail:
      co_await mail(command);
      co_return !closing_;
    case Verb::Rcpt:
      co_await rcpt(command);
      co_return !closing_;
    case Verb::Data:
      co_return co_await data();
    case Verb::Bdat:
      co_return co_await bdat(command);
    case Verb::Rset:
      reset_transaction();
      reply(250, "2.0.0", "Ok");
      co_return true;
    case Verb::Noop:
      reply(250, "2.0.0", "Ok");
      co_return true;
    case Verb::Quit:
      reply(221, "2.0.0", "Bye");
      co_return false;
    case Verb::Vrfy:
      // Never confirms an address: VRFY is an enumeration tool.
      reply(252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery");
      co_return true;
    case Verb::Expn:
      reply(502, "5.5.1", "EXPN not available");
      co_return true;
    case Verb::Help:
      reply(214, "2.0.0", "See RFC 5321");
      co_return true;
  }
  co_return true;
}

void Session::hello(const Command& command) {
  helo_ = command.domain;
  extended_ = command.verb != Verb::Helo;
  reset_transaction();
  if (!extended_) {
    reply(250, "", options_.hostname);
    return;
  }
  std::vector<std::string> lines = {
      options_.hostname, "PIPELINING", "SIZE " + std::to_string(options_.max_message_bytes),
      "8BITMIME",        "SMTPUTF8",   "ENHANCEDSTATUSCODES",
      "CHUNKING",        "DSN"};
  if (stream_.can_start_tls()) lines.push_back("STARTTLS");
  if (auth_allowed() && !user_) lines.push_back("AUTH PLAIN LOGIN");
  output_ += format_multiline_reply(250, lines);
}

asio::awaitable<void> Session::auth(const Command& command) {
  if (options_.mode != Mode::Submission) {
    reply(502, "5.5.1", "AUTH not available on this port");
    closing_ = count_error();
    co_return;
  }
  if (!auth_allowed()) {
    reply(538, "5.7.11", "Encryption required: use STARTTLS first");
    closing_ = count_error();
    co_return;
  }
  if (helo_.empty() || !extended_) {
    reply(503, "5.5.1", "Send EHLO first");
    co_return;
  }
  if (user_) {
    reply(503, "5.5.1", "Already authenticated");
    co_return;
  }
  if (mail_from_) {
    reply(503, "5.5.1", "AUTH not allowed during a transaction");
    co_return;
  }
  // Reads the client's next SASL response, or "*" to cancel (RFC 4954 §4).
  auto next_response =
      [this](std::string_view challenge) -> asio::awaitable<std::optional<std::string>> {
    output_ += "334 " + std::string(challenge) + "\r\n";
    co_return co_await read_line();
  };
  const auto mechanism = auth::parse_mechanism(command.mechanism);
  if (!mechanism) {
    reply(504, "5.5.4", "Unrecognized authentication mechanism");
    closing_ = count_error();
    co_return;
  }
  // PLAIN's one response, LOGIN's user name then password; the first may come with the
  // command, and "*" cancels (RFC 4954 §4).
  const bool plain = *mechanism == auth::Mechanism::Plain;
  std::vector<std::string> responses;
  std::optional<std::string> response = command.initial_response;
  if (response->empty()) {
    response = co_await next_response(plain ? std::string_view() : auth::kLoginUserChallenge);
  }
  while (response && *response != "*") {
    responses.push_back(*response);
    if (responses.size() == (plain ? 1u : 2u)) break;
    response = co_await next_response(auth::kLoginPasswordChallenge);
  }
  if (!response) {
    closing_ = true;
    co_return;
  }
  if (*response == "*") {
    reply(501, "5.0.0", "Authentication cancelled");
    co_return;
  }
  auto credentials =
      plain ? auth::decode_plain(responses[0]) : auth::decode_login(responses[0], responses[1]);
  if (!credentials) {
    if (credentials.error().code == Errc::NoPermission) {
      reply(535, "5.7.8", "Authentication credentials invalid");  // an authzid of another user
    } else {
      reply(501, "5.5.2", plain ? "Malformed PLAIN response" : "Malformed LOGIN response");
    }
    closing_ = count_error();
    co_return;
  }
  auto login =
      co_await auth::network_login(services_.directory, services_.blocking, stream_.peer_address(),
                                   credentials->user, credentials->password, "smtp");
  if (login.refused) {
    reply(454, "4.7.0", "Too many failed logins, try again later");
    closing_ = count_error();
    co_return;
  }
  auto& account = login.account;
  if (!account) {
    if (account.error().code != Errc::NotFound && account.error().code != Errc::NoPermission) {
      reply(454, "4.7.0", "Temporary authentication failure");
    } else {
      reply(535, "5.7.8", "Authentication credentials invalid");
      closing_ = count_error();
    }
    co_return;
  }
  user_ = *account;
  reply(235, "2.7.0", "Authentication successful");
}

asio::awaitable<void> Session::mail(const Command& command) {
  if (helo_.empty()) {
    reply(503, "5.5.1", "Send HELO/EHLO first");
    closing_ = count_error();
    co_return;
  }
  if (mail_from_) {
    reply(503, "5.5.1", "Nested MAIL command");
    closing_ = count_error();
    co_return;
  }
  if (options_.mode == Mode::Submission && !user_) {
    reply(530, "5.7.0", "Authentication required");
    closing_ = count_error();
    co_return;
  }
  if (transactions_ >= options_.max_transactions) {
    reply(421, "4.7.0", options_.hostname + " Too many messages in one connection");
    closing_ = true;
    co_return;
  }
  for (const auto& [key, value] : command.parameters) {
    bool valid = false;
    if (key == "SIZE") {
      std::uint64_t size = 0;
      const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), size);
      valid = error == std::errc() && end == value.data() + value.size();
      if (valid && size > options_.max_message_bytes) {
        reply(552, "5.3.4", "Message size exceeds fixed limit");
        co_return;
      }
    } else if (key == "BODY") {
      valid = value == "7BIT" || value == "8BITMIME";
    } else if (key == "SMTPUTF8") {
      valid = value.empty();
    } else if (key == "RET") {
      valid = value == "FULL" || value == "HDRS";
    } else if (key == "ENVID") {
      valid = !value.empty() && value.size() <= 100;
    } else if (key == "AUTH") {
      valid = true;  // RFC 4954 §5: accepted, not trusted
    }
    if (!valid) {
      reply(555, "5.5.4", "Unsupported parameter " + key);
      closing_ = count_error();
      co_return;
    }
  }
  if (user_) {
    // Submission: the envelope sender must be the user or one of its aliases.
    const std::string from = command.path;
    auto owner = co_await net::offload(services_.blocking,
                                       [&] { return services_.directory.resolve_recipient(from); });
    if (from.empty() || !owner || owner->id != user_->id) {
      reply(553, "5.7.1", "Sender address not owned by user " + user_->address);
      co_return;
    }
  }
  if (options_.mode == Mode::Mx && services_.sender_checks) {
    // SPF at MAIL FROM (RFC 7208 section 2.4): recorded, and judged with DKIM by DMARC
    // at the end of DATA rather than refused here.
    const std::string ip = stream_.peer_address(), from = command.path, helo = helo_;
    spf_ = co_await services_.sender_checks->check_spf(ip, from, helo);
  }
  mail_from_ = command.path;
  mail_parameters_ = command.parameters;
  reply(250, "2.1.0", "Ok");
}

asio::awaitable<void> Session::rcpt(const Command& command) {
  if (!mail_from_) {
    reply(503, "5.5.1", "Need MAIL command first");
    closing_ = count_error();
    co_return;
  }
  for (const auto& [key, value] : command.parameters) {
    if (key != "NOTIFY" && key != "ORCPT") {
      reply(555, "5.5.4", "Unsupported parameter " + key);
      closing_ = count_error();
      co_return;
    }
  }
  if (recipients_.size() >= options_.max_recipients) {
    reply(452, "4.5.3", "Too many recipients");
    co_return;
  }
  std::string address = command.path;
  if (address.find('@') == std::string::npos) address += "@" + options_.hostname;  // <Postmaster>
  const std::string domain(domain_of(address));
  auto local = co_await net::offload(services_.blocking,
                                     [&] { return services_.delivery.is_local_domain(domain); });
  if (!local) {
    reply(451, "4.3.0", "Temporary failure, try again later");
    co_return;
  }
  if (!*local) {
    // Only an authenticated user may send beyond our domains: no open relay.
    if (!user_) {
      reply(554, "5.7.1", "Relay access denied");
      closing_ = count_error();
      co_return;
    }
    recipients_.push_back({command.path, 0, command.parameters});
    reply(250, "2.1.5", "Ok");
    co_return;
  }
  struct Resolved {
    store::Account account;
    bool full = false;
  };
  auto resolved = co_await net::offload(services_.blocking, [&]() -> Result<Resolved> {
    auto account = services_.directory.resolve_recipient(address);
    if (!account) return tl::unexpected(account.error());
    auto full = services_.delivery.is_full(*account);
    if (!full) return tl::unexpected(full.error());
    return Resolved{std::move(*account), *full};
  });
  if (!resolved) {
    if (resolved.error().code == Errc::NotFound || resolved.error().code == Errc::BadInput) {
      reply(550, "5.1.1", "User unknown");
      closing_ = count_error();
    } else {
      reply(451, "4.3.0", "Temporary failure, try again later");
    }
    co_return;
  }
  if (resolved->full) {
    // RFC 3463 5.2.2, as Postfix and Dovecot answer for a full mailbox.
    reply(552, "5.2.2", "Mailbox full");
    co_return;
  }
  const store::Account* account = &resolved->account;
  recipients_.push_back({command.path, account->id, command.parameters});
  reply(250, "2.1.5", "Ok");
}

asio::awaitable<bool> Session::data() {
  if (!mail_from_) {
    reply(503, "5.5.1", "Need MAIL command first");
    co_return !count_error();
  }
  if (recipients_.empty()) {
    reply(554, "5.5.1", "No valid recipients");
    co_return !count_error();
  }
  if (chunking_) {
    reply(503, "5.5.1", "DATA not allowed after BDAT");
    co_return !count_error();
  }
  reply(354, "", "End data with <CR><LF>.<CR><LF>");
  if (!co_await flush()) co_return false;
  DataReader reader(options_.max_message_bytes);
  for (;;) {
    std::string_view pending = input_;
    const auto status = reader.feed(pending);
    input_.erase(0, input_.size() - pending.size());
    if (status == DataReader::Status::Done) break;
    if (!message_lease_.cover(std::min(reader.size(), options_.max_message_bytes))) {
      co_return co_await refuse_for_memory();
    }
    if (!co_await read_more(options_.data_timeout)) co_return false;
  }
  const bool too_big = reader.too_big();
  co_await finish_message(reader.take(), too_big);
  co_return !closing_;
}

asio::awaitable<bool> Session::bdat(const Command& command) {
  // RFC 3030 §2: the chunk's bytes follow whatever the answer, so read them first.
  const bool usable = mail_from_ && !recipients_.empty();
  std::uint64_t left = command.chunk_size;
  while (left > 0) {
    if (input_.empty() && !co_await read_more(options_.data_timeout)) co_return false;
    const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(left, input_.size()));
    if (usable && !chunks_too_big_) {
      if (chunks_.size() + take > options_.max_message_bytes) {
        chunks_too_big_ = true;
        chunks_.clear();
      } else if (!message_lease_.cover(chunks_.size() + take)) {
        co_return co_await refuse_for_memory();
      } else {
        chunks_.append(input_, 0, take);
      }
    }
    input_.erase(0, take);
    left -= take;
  }
  if (!mail_from_) {
    reply(503, "5.5.1", "Need MAIL command first");
    co_return !count_error();
  }
  if (recipients_.empty()) {
    reply(554, "5.5.1", "No valid recipients");
    co_return !count_error();
  }
  chunking_ = true;
  if (!command.last_chunk) {
    reply(250, "2.0.0", std::to_string(command.chunk_size) + " octets received");
    co_return true;
  }
  co_await finish_message(std::move(chunks_), chunks_too_big_);
  co_return !closing_;
}

// /metrics: each method's results on the MX (docs/filtering.md).
void Session::count_checks(const mailauth::Verdicts& verdicts) {
  auto count = [](std::string_view method, std::string_view result) {
    metrics::get("rampart_sender_checks_total", metrics::Type::Counter,
                 "Results of the MX's sender checks, by method.",
                 "method=\"" + std::string(method) + "\",result=\"" + std::string(result) + "\"")
        .add();
  };
  count("spf", verdicts.spf.checked ? spf::verdict_name(verdicts.spf.result.verdict) : "none");
  if (verdicts.dkim.empty()) count("dkim", "none");
  for (const dkim::Verdict& verdict : verdicts.dkim)
    count("dkim", dkim::result_name(verdict.result));
  count("dmarc", mailauth::to_string(verdicts.dmarc.outcome));
  count("arc", dkim::arc_result_name(verdicts.arc.result));
}

void Session::record_refusal(const std::vector<Recipient>& recipients, const std::string& id,
                             const std::string& mail_from, const std::string& why) {
  metrics::get("rampart_smtp_refused_total", metrics::Type::Counter,
               "Messages refused for what they hold, by reason.",
               why.starts_with("virus")  ? R"(reason="virus")"
               : why.starts_with("spam") ? R"(reason="spam")"
                                         : R"(reason="dmarc")")
      .add();
  if (!services_.trail) return;
  for (const Recipient& recipient : recipients) {
    services_.trail->record({.time_ms = 0,
                             .kind = audit::kRefused,
                             .account = recipient.address,
                             .actor = user_ ? user_->address : "",
                             .address = stream_.peer_address(),
                             .protocol = options_.mode == Mode::Lmtp ? "lmtp" : "smtp",
                             .mailbox = {},
                             .count = 1,
                             .detail = id + " from <" + mail_from + ">: " + why});
  }
}

std::string Session::received_header(std::string_view recipient) const {
  const bool tls = stream_.is_tls();
  const std::string with = options_.mode == Mode::Lmtp ? "LMTP"
                                                       : std::string(extended_ ? "ESMTP" : "SMTP") +
                                                             (tls ? "S" : "") + (user_ ? "A" : "");
  const std::string peer =
      stream_.peer_address() == "local" ? "(local socket)" : "([" + stream_.peer_address() + "])";
  std::string header = "Received: from " + helo_ + " " + peer + "\r\n\tby " + options_.hostname +
                       " (Rampart) with " + with;
  if (tls) header += "\r\n\t(" + stream_.tls_description() + ")";
  if (!recipient.empty()) header += "\r\n\tfor <" + std::string(recipient) + ">";
  header += "; " + mime::format_date(std::time(nullptr), 0) + "\r\n";
  return header;
}

asio::awaitable<void> Session::finish_message(std::string message, bool too_big) {
  const std::vector<Recipient> recipients = std::move(recipients_);
  const std::string mail_from = *mail_from_;
  const Parameters mail_parameters = std::move(mail_parameters_);
  const mailauth::SpfOutcome spf = std::move(spf_);
  // The message stays in memory (and is copied) until it is stored: its lease on the
  // message budget ends with this function, not with the transaction's state.
  struct EndLease {
    MemoryBudget::Lease& lease;
    ~EndLease() { lease.release(); }
  } end_lease{message_lease_};
  reset_transaction(/*keep_lease=*/true);
  ++transactions_;
  auto reply_all = [&](int code, std::string_view enhanced, std::string_view text) {
    // LMTP (RFC 2033 §4.2): one reply per accepted recipient.
    const std::size_t count = options_.mode == Mode::Lmtp ? recipients.size() : 1;
    for (std::size_t i = 0; i < count; ++i) reply(code, enhanced, text);
  };
  if (too_big) {
    reply_all(552, "5.3.4", "Message size exceeds fixed limit");
    co_return;
  }
  if (mime::find_header(mime::header_block(message), "Received").size() > kMaxHops) {
    reply_all(554, "5.4.6", "Too many hops: the message is looping");
    co_return;
  }
  if (user_) {
    // Submission: the authors the message names must be the user's too
    // (docs/architecture.md rule 1: no identity taken from what a client merely claims).
    auto authors = co_await net::offload(
        services_.blocking, [&] { return services_.delivery.check_authors(message, user_->id); });
    if (!authors) {
      if (authors.error().code == Errc::NoPermission) {
        reply_all(553, "5.7.1", "From: or Sender: address not owned by user " + user_->address);
      } else {
        reply_all(550, "5.6.0", "Rejected: " + authors.error().detail);
      }
      co_return;
    }
  }
  const auto made_id = random_id();
  if (!made_id) {
    log::error("smtp: no message id: " + made_id.error().detail);
    const Reply failure = reply_for(made_id.error().code);
    reply_all(failure.code, failure.enhanced, failure.text);
    co_return;
  }
  const std::string& id = *made_id;
  delivery::Envelope envelope{.mail_from = mail_from};
  for (const auto& [key, value] : mail_parameters) {
    if (key == "RET") envelope.ret = value;
    if (key == "ENVID") envelope.envid = value;
  }
  for (const auto& recipient : recipients) {
    delivery::Recipient& given = envelope.recipients.emplace_back();
    given.address = recipient.address;
    given.account = recipient.account;
    for (const auto& [key, value] : recipient.parameters) {
      (key == "NOTIFY" ? given.notify : given.orcpt) = value;
    }
  }
  // Storing it makes a copy or two (Received, Return-Path): they count too.
  if (!message_lease_.cover(3 * message.size())) {
    reply_all(452, "4.3.1", "Insufficient system storage, try again later");
    co_return;
  }
  // The MX's sender checks: an Authentication-Results field of ours at the top (those
  // that came claiming our name removed), and DMARC's disposition (RFC 7489 section
  // 6.6.4): reject refused here, quarantine to Junk.
  std::string checks, verdict;
  if (options_.mode == Mode::Mx && services_.sender_checks) {
    message = mailauth::remove_own_results(message, services_.sender_checks->authserv_id());
    const std::string_view checked = message;
    const mailauth::Verdicts verdicts =
        co_await services_.sender_checks->check_message(checked, spf);
    verdict = verdicts.summary();
    count_checks(verdicts);
    log::info("smtp " + id + " from <" + mail_from + "> via " + stream_.peer_address() + ": " +
              verdict);
    if (verdicts.dmarc.outcome == mailauth::DmarcResult::Outcome::Fail &&
        verdicts.dmarc.disposition == mailauth::DmarcRecord::Policy::Reject) {
      record_refusal(recipients, id, mail_from, "DMARC reject: " + verdict);
      reply_all(550, "5.7.1", "Rejected by the DMARC policy of " + verdicts.dmarc.policy_domain);
      co_return;
    }
    if (verdicts.dmarc.outcome == mailauth::DmarcResult::Outcome::Fail &&
        verdicts.dmarc.disposition == mailauth::DmarcRecord::Policy::Quarantine) {
      envelope.mailbox = "Junk";
    }
    checks = verdicts.header;
    envelope.auth_results = verdicts.results;
    envelope.arc_passed = verdicts.arc.result == dkim::ArcVerdict::Result::Pass;
  }
  if (services_.clamav && options_.mode != Mode::Lmtp) {
    const filter::ClamavSettings& clamav = *services_.clamav;
    const std::string socket_path = clamav.socket;
    const std::chrono::seconds timeout = clamav.timeout;
    const std::string_view scanned = message;
    const filter::ClamavVerdict scan =
        co_await filter::scan(stream_.executor(), socket_path, scanned, timeout);
    if (scan.kind == filter::ClamavVerdict::Kind::Infected) {
      log::warn("smtp " + id + " from <" + mail_from + "> via " + stream_.peer_address() +
                ": virus " + scan.virus + ", refused");
      record_refusal(recipients, id, mail_from, "virus " + scan.virus);
      reply_all(554, "5.7.1", "Message refused: it carries a virus (" + scan.virus + ")");
      co_return;
    }
    if (scan.kind == filter::ClamavVerdict::Kind::Error) {
      log::warn("smtp " + id + ": virus scan failed: " + scan.detail +
                (clamav.accept_when_unavailable ? ", accepted unscanned" : ", deferred"));
      if (!clamav.accept_when_unavailable) {
        reply_all(451, "4.7.1", "The message could not be scanned for viruses, try again later");
        co_return;
      }
      verdict += std::string(verdict.empty() ? "" : " ") + "virus=unscanned";
    }
    // RFC 3685 section 4 (Sieve virustest): 1 is "tested, nothing found".
    if (scan.kind == filter::ClamavVerdict::Kind::Clean) {
      envelope.virus_score = 1;
      verdict += std::string(verdict.empty() ? "" : " ") + "virus=clean";
    }
  }
  // rspamd (smtp/spam_internal.h): not for LMTP, whose MTA in front filters.
  std::string spam_fields;
  if (services_.rspamd && options_.mode != Mode::Lmtp) {
    filter::RspamdEnvelope about{
        .ip = stream_.peer_address() == "local" ? "" : stream_.peer_address(),
        .helo = helo_,
        .mail_from = mail_from,
        .recipients = {},
        .queue_id = id,
        .user = user_ ? user_->address : ""};
    for (const Recipient& recipient : recipients) about.recipients.push_back(recipient.address);
    const std::string_view ours = checks;
    const SpamOutcome spam = co_await filter_spam(stream_.executor(), *services_.rspamd,
                                                  options_.mode, about, ours, message, envelope);
    if (!spam.refusal.empty()) record_refusal(recipients, id, mail_from, spam.refusal);
    if (spam.code != 0) {
      reply(spam.code, spam.enhanced, spam.text);
      co_return;
    }
    spam_fields = spam.fields;
    verdict += (verdict.empty() ? "" : " ") + spam.summary;
  }
  // Received names a recipient only when there is just one: one copy serves them all.
  std::string received =
      spam_fields + checks + received_header(recipients.size() == 1 ? recipients[0].address : "");
  const std::size_t message_size = received.size() + message.size();
  auto stored = co_await net::offload(services_.blocking, [&] {
    return services_.delivery.submit(
        envelope, received + message,
        {.protocol = options_.mode == Mode::Lmtp ? "lmtp" : "smtp",
         .actor = user_ ? user_->address : "",
         .address = stream_.peer_address(),
         .detail = id + " from <" + mail_from + ">" + (verdict.empty() ? "" : ", " + verdict)},
        user_ ? user_->id : 0);
  });
  if (!stored) {
    log::error("smtp " + id + " not stored: " + stored.error().detail);
    const Reply failure = reply_for(stored.error().code);
    reply_all(failure.code, failure.enhanced, failure.text);
    co_return;
  }
  log::info("smtp " + id + " from <" + mail_from + "> to " + std::to_string(recipients.size()) +
            " recipient(s), " + std::to_string(message_size) + " bytes, via " +
            stream_.peer_address());
  reply_all(250, "2.0.0", "Ok: queued as " + id);
}

}  // namespace

asio::awaitable<void> run_session(net::Socket socket, const SessionOptions& options,
                                  Services& services) {
  Session session(std::move(socket), options, services);
  co_await session.run();
}

}  // namespace rampart::smtp
