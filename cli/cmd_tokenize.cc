// keel tokenize / keel detokenize: HF tokenizer.json encode and decode from the
// command line, one JSON value per line in and out (so another program, e.g.
// tests/tokenizer/test_hf_parity.py, can drive it over a whole corpus in one run),
// and an encode throughput benchmark.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/thread_pool.h"
#include "tokenizer/tokenizer.h"

namespace keel::cli {
namespace {

using json = nlohmann::ordered_json;

constexpr const char* kTokenizeUsage =
    "usage: keel tokenize --tokenizer <tokenizer.json | model dir | file.gguf>\n"
    "                     [--no-special] [--no-padding] [--no-truncation] [--pair] [--overflowing]\n"
    "                     [--batch N]\n"
    "       keel tokenize --tokenizer <...> --bench FILE [--threads N]\n"
    "\n"
    "Reads one JSON string per line on stdin (with --pair, a JSON array of two strings)\n"
    "and writes one JSON object per line on stdout:\n"
    "  {\"ids\":[...],\"tokens\":[...],\"offsets\":[[start,end],...],\"attention_mask\":[...],\n"
    "   \"type_ids\":[...],\"special_tokens_mask\":[...],\"word_ids\":[n|null,...]}\n"
    "Offsets count Unicode code points of the input, as HF tokenizers' Python and Node\n"
    "bindings report them. Truncation and padding are those of tokenizer.json.\n"
    "A line that cannot be encoded (not JSON, not a string, invalid UTF-8, a truncation\n"
    "that cannot be done) gives {\"error\":\"line N: ...\"} on its output line; the other\n"
    "lines are still processed and the exit code is 1.\n"
    "\n"
    "  --tokenizer      tokenizer.json, a directory holding it, or a GGUF file (its\n"
    "                   tokenizer.ggml.* vocabulary: llama, gpt2, bert or gemma4 kind)\n"
    "  --no-special     do not add special tokens (the post-processor's template)\n"
    "  --no-padding     ignore tokenizer.json's padding\n"
    "  --no-truncation  ignore tokenizer.json's truncation\n"
    "  --pair           each line is [first, second]\n"
    "  --overflowing    add \"overflowing\":[{...},...], the windows truncation cut off\n"
    "  --batch N        encode N lines at a time with encode_batch (every core; padding to\n"
    "                   the longest of the N, as HF's encode_batch); if one string of the\n"
    "                   batch fails, each of its lines gets the error\n"
    "  --bench FILE     encode every line of FILE (raw text, padding and truncation off)\n"
    "                   in passes for at least --seconds and print 'X.XX MB/s'\n"
    "                   (10^6 bytes of input per second); the load time and details go\n"
    "                   to stderr ('load X.X ms; ...')\n"
    "  --seconds S      with --bench: the minimum time to run (default 1; 0 = one pass)\n"
    "  --threads N      with --bench: 1 (default) encodes line by line on this thread;\n"
    "                   N > 1 uses encode_batch on N threads; 0 means every core\n";

constexpr const char* kDetokenizeUsage =
    "usage: keel detokenize --tokenizer <tokenizer.json | model dir | file.gguf> [--skip-special]\n"
    "\n"
    "Reads one JSON array of token ids per line on stdin and writes the decoded text as\n"
    "one JSON string per line. A bad line gives {\"error\":\"line N: ...\"} on its output\n"
    "line; the other lines are still processed and the exit code is 1.\n"
    "\n"
    "  --tokenizer     tokenizer.json, a directory holding it, or a GGUF file\n"
    "  --skip-special  leave special tokens out of the text\n";

int usage_error(const char* cmd, const std::string& message, const char* usage) {
  std::fprintf(stderr, "keel %s: %s\n\n%s", cmd, message.c_str(), usage);
  return 2;
}

Result<tok::Tokenizer> load_tokenizer(const std::string& path) { return tok::Tokenizer::from_file(path); }

json encoding_json(const tok::Encoding& e, bool with_overflowing) {
  json o = json::object();
  o["ids"] = e.ids;
  o["tokens"] = e.tokens;
  json offsets = json::array();
  for (const auto& [s, t] : e.offsets) offsets.push_back(json::array({s, t}));
  o["offsets"] = std::move(offsets);
  o["attention_mask"] = e.attention_mask;
  o["type_ids"] = e.type_ids;
  o["special_tokens_mask"] = e.special_tokens_mask;
  json words = json::array();
  for (const auto& w : e.word_ids) words.push_back(w ? json(*w) : json(nullptr));
  o["word_ids"] = std::move(words);
  if (with_overflowing) {
    json over = json::array();
    for (const auto& x : e.overflowing) over.push_back(encoding_json(x, true));
    o["overflowing"] = std::move(over);
  }
  return o;
}

void write_text(std::string s, bool flush) {
  s.push_back('\n');
  std::fwrite(s.data(), 1, s.size(), stdout);
  if (flush) std::fflush(stdout);
}

// An error line. Messages may quote the bad input (e.g. the JSON parser's "last
// read: ..."), so invalid UTF-8 in them becomes U+FFFD.
void write_error(size_t line_no, std::string_view message, bool flush) {
  json o = json::object();
  o["error"] = str_cat("line ", line_no, ": ", message);
  write_text(o.dump(-1, ' ', false, json::error_handler_t::replace), flush);
}

// A result line. Tokens or decoded text that are not valid UTF-8 would be a keel
// bug; they give an error line rather than an exception.
void write_result(const json& value, size_t line_no, bool flush) {
  try {
    write_text(value.dump(), flush);
  } catch (const json::exception& e) {
    write_error(line_no, str_cat("keel produced invalid UTF-8 (", e.what(), ")"), flush);
  }
}

// Reads stdin line by line and writes fn(parsed line) or an error object.
// Returns the exit code: 0, or 1 if any line failed.
template <typename Fn>
int for_each_json_line(Fn&& fn) {
  std::ios::sync_with_stdio(false);
  const bool interactive = isatty(STDIN_FILENO);
  std::string line;
  size_t line_no = 0;
  bool failed = false;
  while (std::getline(std::cin, line)) {
    ++line_no;
    json in;
    try {
      in = json::parse(line);
    } catch (const json::exception& e) {
      write_error(line_no, str_cat("not JSON: ", e.what()), interactive);
      failed = true;
      continue;
    }
    Result<json> out = fn(in);
    if (!out.ok()) {
      write_error(line_no, out.error(), interactive);
      failed = true;
      continue;
    }
    write_result(*out, line_no, interactive);
  }
  std::fflush(stdout);
  return failed ? 1 : 0;
}

// --batch N: stdin in chunks of N lines, each chunk through encode_batch (every
// core; padding to the chunk's longest as HF's encode_batch does). If the batch
// fails, every string of the chunk gets the error, as HF fails the whole batch.
int run_batches(const tok::Tokenizer& tokenizer, size_t batch, bool add_special, bool overflowing) {
  std::ios::sync_with_stdio(false);
  bool failed = false;
  size_t line_no = 0;
  bool more = true;
  while (more) {
    // One chunk: a parsed string or the error, for each line.
    std::vector<std::string> texts;
    std::vector<std::optional<std::string>> line_errors;
    std::string line;
    while (texts.size() < batch && (more = static_cast<bool>(std::getline(std::cin, line)))) {
      std::optional<std::string> err;
      std::string text;
      try {
        json in = json::parse(line);
        if (in.is_string()) text = in.get<std::string>();
        else err = "expected a JSON string";
      } catch (const json::exception& e) {
        err = str_cat("not JSON: ", e.what());
      }
      texts.push_back(std::move(text));
      line_errors.push_back(std::move(err));
    }
    std::vector<std::string_view> views;
    for (size_t i = 0; i < texts.size(); ++i)
      if (!line_errors[i]) views.push_back(texts[i]);
    auto encodings = views.empty() ? Result<std::vector<tok::Encoding>>(std::vector<tok::Encoding>())
                                   : tokenizer.encode_batch(views, add_special);
    size_t next = 0;
    for (size_t i = 0; i < texts.size(); ++i) {
      ++line_no;
      if (line_errors[i]) {
        write_error(line_no, *line_errors[i], false);
        failed = true;
      } else if (!encodings.ok()) {
        write_error(line_no, encodings.error(), false);
        failed = true;
      } else {
        write_result(encoding_json((*encodings)[next++], overflowing), line_no, false);
      }
    }
  }
  std::fflush(stdout);
  return failed ? 1 : 0;
}

Result<std::vector<std::string>> read_lines(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Error(path, ": cannot open");
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(f, line)) lines.push_back(std::move(line));
  if (f.bad()) return Error(path, ": read error");
  return lines;
}

int run_bench(const tok::Tokenizer& tokenizer, const std::string& file, int threads, double min_seconds,
              double load_ms) {
  auto lines = read_lines(file);
  if (!lines.ok()) {
    std::fprintf(stderr, "keel tokenize: %s\n", lines.error().c_str());
    return 1;
  }
  std::vector<std::string_view> views(lines->begin(), lines->end());
  size_t bytes = 0;
  for (auto v : views) bytes += v.size();
  std::optional<ThreadPool> pool;
  if (threads != 1) pool.emplace(threads);

  // One pass over the file; returns the number of tokens or an error.
  auto pass = [&]() -> Result<size_t> {
    size_t tokens = 0;
    if (!pool) {
      for (size_t i = 0; i < views.size(); ++i) {
        auto e = tokenizer.encode(views[i]);
        if (!e.ok()) return Error(file, " line ", i + 1, ": ", e.error());
        tokens += e->size();
      }
    } else {
      auto batch = tokenizer.encode_batch(views, true, &*pool);
      if (!batch.ok()) return Error(file, ": ", batch.error());
      for (const auto& e : *batch) tokens += e.size();
    }
    return tokens;
  };

  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  size_t passes = 0, tokens = 0;
  double seconds = 0;
  do {
    auto n = pass();
    if (!n.ok()) {
      std::fprintf(stderr, "keel tokenize: %s\n", n.error().c_str());
      return 1;
    }
    tokens += *n;
    ++passes;
    seconds = std::chrono::duration<double>(clock::now() - start).count();
  } while (seconds < min_seconds);
  const double mb = static_cast<double>(bytes) * static_cast<double>(passes) / 1e6;
  std::printf("%.2f MB/s\n", seconds > 0 ? mb / seconds : 0.0);
  std::fprintf(stderr, "load %.1f ms; %zu lines, %.2f MB, %zu passes, %zu tokens/pass, %.3f s, %d thread(s)\n",
               load_ms, views.size(), static_cast<double>(bytes) / 1e6, passes, tokens / passes, seconds,
               pool ? pool->num_threads() : 1);
  return 0;
}

}  // namespace

int cmd_tokenize(int argc, char** argv) {
  auto args = Args::parse(argc, argv,
                          {{"tokenizer"}, {"no-special", false}, {"no-padding", false}, {"no-truncation", false},
                           {"pair", false}, {"overflowing", false}, {"batch"}, {"bench"}, {"threads"}, {"seconds"},
                           {"help", false}});
  if (!args.ok()) return usage_error("tokenize", args.error(), kTokenizeUsage);
  if (args->has("help")) {
    std::fputs(kTokenizeUsage, stdout);
    return 0;
  }
  if (!args->positional().empty())
    return usage_error("tokenize", "unexpected argument '" + args->positional().front() + "'", kTokenizeUsage);
  if (!args->value("tokenizer")) return usage_error("tokenize", "--tokenizer is required", kTokenizeUsage);
  auto threads = args->int_value("threads", 0, 4096);
  if (!threads.ok()) return usage_error("tokenize", threads.error(), kTokenizeUsage);
  auto batch = args->int_value("batch", 1, 1 << 20);
  if (!batch.ok()) return usage_error("tokenize", batch.error(), kTokenizeUsage);
  auto seconds = args->int_value("seconds", 0, 3600);
  if (!seconds.ok()) return usage_error("tokenize", seconds.error(), kTokenizeUsage);
  if ((threads->has_value() || seconds->has_value()) && !args->has("bench"))
    return usage_error("tokenize", "--threads and --seconds go with --bench", kTokenizeUsage);

  const auto load_start = std::chrono::steady_clock::now();
  auto tokenizer = load_tokenizer(*args->value("tokenizer"));
  const double load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - load_start).count();
  if (!tokenizer.ok()) {
    std::fprintf(stderr, "keel tokenize: %s\n", tokenizer.error().c_str());
    return 1;
  }
  if (const std::string* bench = args->value("bench")) {
    tokenizer->set_padding(std::nullopt);
    tokenizer->set_truncation(std::nullopt);
    return run_bench(*tokenizer, *bench, static_cast<int>(threads->value_or(1)),
                     static_cast<double>(seconds->value_or(1)), load_ms);
  }
  if (args->has("no-padding")) tokenizer->set_padding(std::nullopt);
  if (args->has("no-truncation")) tokenizer->set_truncation(std::nullopt);
  const bool add_special = !args->has("no-special");
  const bool pair = args->has("pair");
  const bool overflowing = args->has("overflowing");
  if (batch->has_value()) {
    if (pair) return usage_error("tokenize", "--batch takes single strings, not --pair", kTokenizeUsage);
    return run_batches(*tokenizer, static_cast<size_t>(**batch), add_special, overflowing);
  }

  return for_each_json_line([&](const json& in) -> Result<json> {
    Result<tok::Encoding> enc = Error("unreachable");
    if (pair) {
      if (!in.is_array() || in.size() != 2 || !in[0].is_string() || !in[1].is_string())
        return Error("expected a JSON array of two strings");
      enc = tokenizer->encode_pair(in[0].get_ref<const std::string&>(), in[1].get_ref<const std::string&>(),
                                   add_special);
    } else {
      if (!in.is_string()) return Error("expected a JSON string");
      enc = tokenizer->encode(in.get_ref<const std::string&>(), add_special);
    }
    if (!enc.ok()) return enc.status();
    return encoding_json(*enc, overflowing);
  });
}

int cmd_detokenize(int argc, char** argv) {
  auto args = Args::parse(argc, argv, {{"tokenizer"}, {"skip-special", false}, {"help", false}});
  if (!args.ok()) return usage_error("detokenize", args.error(), kDetokenizeUsage);
  if (args->has("help")) {
    std::fputs(kDetokenizeUsage, stdout);
    return 0;
  }
  if (!args->positional().empty())
    return usage_error("detokenize", "unexpected argument '" + args->positional().front() + "'", kDetokenizeUsage);
  if (!args->value("tokenizer")) return usage_error("detokenize", "--tokenizer is required", kDetokenizeUsage);
  auto tokenizer = load_tokenizer(*args->value("tokenizer"));
  if (!tokenizer.ok()) {
    std::fprintf(stderr, "keel detokenize: %s\n", tokenizer.error().c_str());
    return 1;
  }
  const bool skip_special = args->has("skip-special");
  std::vector<uint32_t> ids;
  return for_each_json_line([&](const json& in) -> Result<json> {
    if (!in.is_array()) return Error("expected a JSON array of token ids");
    ids.clear();
    for (size_t i = 0; i < in.size(); ++i) {
      const json& v = in[i];
      if (!v.is_number_unsigned() || v.get<uint64_t>() > UINT32_MAX)
        return Error("element ", i, " is not a token id (an integer in 0..4294967295)");
      ids.push_back(static_cast<uint32_t>(v.get<uint64_t>()));
    }
    auto text = tokenizer->decode(ids, skip_special);
    if (!text.ok()) return text.status();
    return json(std::move(*text));
  });
}

}  // namespace keel::cli
