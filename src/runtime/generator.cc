#include "runtime/generator.h"

#include <algorithm>
#include <chrono>

namespace keel {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Length of the longest prefix of `s` that ends on a whole UTF-8 character
// (the tokenizer decodes a partial byte sequence to U+FFFD, or keeps raw bytes).
size_t complete_utf8_prefix(std::string_view s) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  if (s.size() >= 3 && s.substr(s.size() - 3) == kReplacement) return s.size() - 3;
  size_t i = s.size(), back = 0;
  while (i > 0 && back < 4 && (static_cast<unsigned char>(s[i - 1]) & 0xC0) == 0x80) --i, ++back;
  if (i == 0) return s.size();
  const unsigned char lead = static_cast<unsigned char>(s[i - 1]);
  const size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
  return need > back + 1 ? i - 1 : s.size();
}

}  // namespace

Result<GenerateResult> Generator::generate(std::span<const int32_t> prompt, const GenerateOptions& options,
                                           const TextCallback& on_text) {
  if (prompt.empty()) return Error("generate: the prompt has no tokens");
  if (options.max_tokens < 0) return Error("generate: max_tokens must be >= 0");
  KEEL_RETURN_IF_ERROR(validate(options.sampling));
  size_t context = options.context ? options.context : prompt.size() + static_cast<size_t>(options.max_tokens);
  context = std::min(context, model_.max_context());
  if (prompt.size() >= context && options.max_tokens > 0)
    return Error("generate: the prompt's ", prompt.size(), " tokens leave no room in a context of ", context);

  std::vector<int32_t> stops = options.stop_ids;
  for (int32_t id : model_.eos_ids()) stops.push_back(id);
  // Reuse the previous call's cache for the longest common prefix (at least
  // the prompt's last token is computed again: its logits start the decode).
  // The cache grows geometrically (keeping its contents), so a chat's turns
  // rarely copy it.
  size_t reuse = 0;
  if (cache_.capacity() > 0 && cache_.type() == options.kv_type) {
    const size_t limit = std::min(cached_.size(), prompt.size() - 1);
    while (reuse < limit && cached_[reuse] == prompt[reuse]) ++reuse;
    cache_.truncate(reuse);
    if (cache_.capacity() < context)
      cache_.grow(std::min(model_.max_context(), std::max(context, 2 * cache_.capacity())));
  } else {
    cache_ = model_.new_cache(context, options.kv_type);
  }
  cached_.resize(reuse);
  KvCache& cache = cache_;
  Sampler sampler(options.sampling);
  StopMatcher matcher(options.stop_strings);
  std::vector<float> logits(model_.vocab_size());
  std::vector<int32_t> history(prompt.begin(), prompt.end());
  history.reserve(prompt.size() + static_cast<size_t>(options.max_tokens));

  GenerateResult out;
  out.prompt_tokens = prompt.size();
  out.finish_reason = "length";
  if (options.max_tokens == 0) return out;

  auto t0 = std::chrono::steady_clock::now();
  DecoderInput in{&cache, prompt.subspan(reuse)};
  KEEL_RETURN_IF_ERROR(model_.forward({&in, 1}, logits.data(), pool_));
  cached_.insert(cached_.end(), prompt.begin() + reuse, prompt.end());
  out.cached_tokens = reuse;
  out.prefill_seconds = seconds_since(t0);

  std::string decoded;   // all generated text so far
  size_t emitted = 0;    // bytes of `decoded` handed to the matcher
  std::vector<uint32_t> ids;
  bool stopped = false;
  t0 = std::chrono::steady_clock::now();
  while (true) {
    const SampledToken tok = sampler.sample(logits.data(), logits.size(), history);
    if (!options.ignore_eos && std::find(stops.begin(), stops.end(), tok.id) != stops.end()) {
      out.finish_reason = "stop";
      break;
    }
    out.tokens.push_back(tok.id);
    if (options.logprobs) out.logprobs.push_back(tok);
    history.push_back(tok.id);
    if (on_text) {
      ids.push_back(static_cast<uint32_t>(tok.id));
      auto text = tokenizer_.decode(ids, /*skip_special_tokens=*/true);
      if (!text.ok()) return text.status();
      decoded = std::move(text).value();
      const size_t ready = complete_utf8_prefix(decoded);
      if (ready > emitted) {
        const std::string piece = matcher.push(std::string_view(decoded).substr(emitted, ready - emitted));
        emitted = ready;
        if (!piece.empty() && !on_text(piece)) stopped = true;
      }
      if (matcher.stopped()) {
        out.finish_reason = "stop";
        break;
      }
    }
    if (stopped || out.tokens.size() >= static_cast<size_t>(options.max_tokens) || cache.length() >= context) break;
    const int32_t next = tok.id;
    DecoderInput step{&cache, {&next, 1}};
    KEEL_RETURN_IF_ERROR(model_.forward({&step, 1}, logits.data(), pool_));
    cached_.push_back(next);
  }
  out.decode_seconds = seconds_since(t0);
  if (on_text && !matcher.stopped() && !stopped) {
    std::string rest;
    if (emitted < decoded.size()) rest = matcher.push(std::string_view(decoded).substr(emitted));
    if (matcher.stopped()) out.finish_reason = "stop";
    else rest += matcher.flush();
    if (!rest.empty()) on_text(rest);
  }
  return out;
}

}  // namespace keel
