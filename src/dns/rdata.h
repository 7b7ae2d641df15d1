// The record data a DNS answer carries (RFC 1035 wire format, names uncompressed as
// the resolver hands them over): MX (RFC 1035 section 3.3.9), PTR (section 3.3.12), A,
// AAAA, TLSA (RFC 6698 section 2.1) and TXT. Pure and fuzzed: the bytes come from the network.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rampart::dns {

// A domain name in wire format at `data[0..]`, as lowercase text without the final
// dot ("" for the root); nullopt when malformed (a label past the data, a compression
// pointer, more than 255 bytes). `used` is set to its wire length.
std::optional<std::string> parse_name(std::string_view data, std::size_t& used);

struct Mx {
  std::uint16_t preference = 0;
  std::string host;  // "" for the root: a null MX (RFC 7505)
};
std::optional<Mx> parse_mx(std::string_view rdata);

// The name a PTR record points to, as parse_name gives it; nullopt when malformed or
// followed by other bytes.
std::optional<std::string> parse_ptr(std::string_view rdata);

// "127.0.0.1" or "::1"; nullopt unless exactly 4 or 16 bytes.
std::optional<std::string> parse_a(std::string_view rdata);
std::optional<std::string> parse_aaaa(std::string_view rdata);

struct Tlsa {
  std::uint8_t usage = 0, selector = 0, matching = 0;
  std::string data;  // the certificate association data, raw bytes
};
std::optional<Tlsa> parse_tlsa(std::string_view rdata);

// The character-strings of a TXT record, concatenated (RFC 7208 section 3.3).
std::optional<std::string> parse_txt(std::string_view rdata);

}  // namespace rampart::dns
