// MIME parse throughput over a delivery-like mix, and the cost of the stored form.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "mime/message.h"

namespace {

std::string crlf(std::string_view lf_text) {
  std::string out;
  for (char c : lf_text) {
    if (c == '\n') out.push_back('\r');
    out.push_back(c);
  }
  return out;
}

const std::string kHead =
    "Return-Path: <alice@a.example>\nReceived: from mx.a.example (mx.a.example [192.0.2.1])\n"
    "\tby mail.b.example with ESMTPS id 4F2; Mon, 2 Jan 2006 15:04:05 -0700\n"
    "DKIM-Signature: v=1; a=rsa-sha256; d=a.example; s=s1; h=from:to:subject:date;\n"
    " bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=dzdVyOfAKCdLXdJOc9G2q8LoXSlEniSb\n"
    "From: =?utf-8?q?Alice_Exampl=C3=A9?= <alice@a.example>\n"
    "To: Bob <bob@b.example>, \"Carol, C.\" <carol@c.example>\nCc: team: d@b.example, "
    "e@b.example;\n"
    "Subject: =?utf-8?b?UXVhcnRlcmx5IHJlcG9ydCDigJQgZHJhZnQ=?=\n"
    "Date: Mon, 2 Jan 2006 15:04:05 -0700\nMessage-ID: <20060102150405.123@a.example>\n"
    "MIME-Version: 1.0\n";

std::string small_text() {
  std::string body;
  for (int i = 0; i < 15; ++i) body += "A line of an ordinary short message, nothing more.\n";
  return crlf(kHead + "Content-Type: text/plain; charset=utf-8\n\n" + body);
}

std::string alternative() {
  std::string text, html;
  for (int i = 0; i < 60; ++i) {
    text += "Paragraph " + std::to_string(i) + " of the report, in plain text form.\n";
    html += "<p style=\"margin:0\">Paragraph " + std::to_string(i) + " of the <b>report</b>.</p>\n";
  }
  return crlf(kHead +
              "Content-Type: multipart/alternative; boundary=\"=_alt_123\"\n\n"
              "--=_alt_123\nContent-Type: text/plain; charset=utf-8\n"
              "Content-Transfer-Encoding: quoted-printable\n\n" +
              text +
              "--=_alt_123\nContent-Type: text/html; charset=utf-8\n"
              "Content-Transfer-Encoding: quoted-printable\n\n<html><body>\n" +
              html + "</body></html>\n--=_alt_123--\n");
}

std::string attachment() {
  std::string base64;
  for (int line = 0; line < 100 * 1024 / 57; ++line) {
    base64 += "JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoKPDwvTGVuZ3RoIDMgMCBSL0ZpbHRlci9GbGF0\n";
  }
  return crlf(kHead +
              "Content-Type: multipart/mixed; boundary=mix\n\n--mix\n"
              "Content-Type: text/plain; charset=utf-8\n\nPlease find the file attached.\n"
              "--mix\nContent-Type: application/pdf; name=\"report.pdf\"\n"
              "Content-Disposition: attachment;\n filename*0*=utf-8''r%C3%A9port;\n"
              " filename*1=.pdf\nContent-Transfer-Encoding: base64\n\n" +
              base64 + "--mix--\n");
}

std::string nested() {
  return crlf(kHead +
              "Content-Type: multipart/mixed; boundary=outer\n\n--outer\n"
              "Content-Type: text/plain\n\nForwarded message below.\n--outer\n"
              "Content-Type: message/rfc822\n\n") +
         alternative() + crlf("\n--outer--\n");
}

const std::vector<std::string>& mix() {
  static const std::vector<std::string> messages = {small_text(), alternative(), attachment(),
                                                    nested()};
  return messages;
}

void parse_one(benchmark::State& state, const std::string& raw) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(rampart::mime::parse(raw));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * raw.size()));
  state.SetItemsProcessed(state.iterations());
}

void BM_ParseSmallText(benchmark::State& state) { parse_one(state, mix()[0]); }
void BM_ParseAlternativeHtml(benchmark::State& state) { parse_one(state, mix()[1]); }
void BM_ParseAttachment100K(benchmark::State& state) { parse_one(state, mix()[2]); }
void BM_ParseNestedRfc822(benchmark::State& state) { parse_one(state, mix()[3]); }

void BM_ParseMix(benchmark::State& state) {
  std::int64_t bytes = 0;
  for (auto _ : state) {
    for (const std::string& raw : mix()) {
      benchmark::DoNotOptimize(rampart::mime::parse(raw));
      bytes += static_cast<std::int64_t>(raw.size());
    }
  }
  state.SetBytesProcessed(bytes);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(mix().size()));
}

void BM_EncodeStructure(benchmark::State& state) {
  const rampart::mime::Message message = rampart::mime::parse(mix()[3]);
  for (auto _ : state) benchmark::DoNotOptimize(rampart::mime::encode_structure(message));
  state.counters["bytes"] = static_cast<double>(rampart::mime::encode_structure(message).size());
}

void BM_DecodeStructure(benchmark::State& state) {
  const std::string stored = rampart::mime::encode_structure(rampart::mime::parse(mix()[3]));
  for (auto _ : state) benchmark::DoNotOptimize(rampart::mime::decode_structure(stored));
}

BENCHMARK(BM_ParseSmallText);
BENCHMARK(BM_ParseAlternativeHtml);
BENCHMARK(BM_ParseAttachment100K);
BENCHMARK(BM_ParseNestedRfc822);
BENCHMARK(BM_ParseMix);
BENCHMARK(BM_EncodeStructure);
BENCHMARK(BM_DecodeStructure);

}  // namespace

BENCHMARK_MAIN();
