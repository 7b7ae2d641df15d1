// SMTP command lines and DATA bodies: any bytes give commands, errors or NeedMore,
// and the parser always makes progress.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "smtp/command_parser.h"
#include "smtp/data_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  rampart::smtp::CommandParser parser({.max_line = 512});
  std::string_view input = bytes;
  while (!input.empty()) {
    const std::size_t before = input.size();
    parser.feed(input);
    if (input.size() >= before) __builtin_trap();  // no progress: would hang a session
  }
  rampart::smtp::DataReader reader(4096);
  input = bytes;
  while (!input.empty() && reader.feed(input) == rampart::smtp::DataReader::Status::Done) {
    if (reader.take().size() > 4096) __builtin_trap();
    reader = rampart::smtp::DataReader(4096);
  }
  return 0;
}
