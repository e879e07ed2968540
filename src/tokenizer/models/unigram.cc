#include "tokenizer/models/unigram.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/utf8.h"
#include "tokenizer/models/json_fields.h"
#include "tokenizer/models/word_cache.h"

namespace keel::tok {

namespace jf = json_fields;

// SentencePiece's kUnkPenalty: unk scores this much below the worst piece.
static constexpr double kUnkPenalty = 10.0;

// The score HF actually uses for a JSON number. serde_json (without its
// float_roundtrip feature, as HF builds it) does not round decimals correctly:
// it reads up to 19 significant digits into a u64, converts that to f64 and
// then multiplies or divides by a power of ten -- two roundings, so a score can
// be one ulp off the true value (-12.130167007446289 reads as
// -12.130167007446287). Viterbi ties between equal-scoring segmentations
// ("---" "---" "-" vs "-" "---" "---") are decided by that last bit, so keel
// reproduces it. The decimal text is recovered as the shortest representation
// of the correctly rounded value, which is what tokenizer.json writers (serde's
// ryu, Python's repr) emit.
static double serde_json_f64(double v) {
  if (!std::isfinite(v) || v == 0) return v;
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  if (r.ec != std::errc()) return v;
  const char* p = buf;
  const char* end = r.ptr;
  bool negative = false;
  if (p < end && *p == '-') {
    negative = true;
    ++p;
  }
  uint64_t significand = 0;
  int64_t exponent = 0;
  bool overflowed = false;
  auto digit = [&](int d, bool fraction) {
    // serde_json's overflow!(significand * 10 + digit, u64::MAX): the digit and
    // all later ones are dropped (integer digits still scale the exponent).
    if (!overflowed && (significand > UINT64_MAX / 10 ||
                        (significand == UINT64_MAX / 10 && static_cast<uint64_t>(d) > UINT64_MAX % 10)))
      overflowed = true;
    if (overflowed) {
      if (!fraction) ++exponent;
      return;
    }
    significand = significand * 10 + static_cast<uint64_t>(d);
    if (fraction) --exponent;
  };
  for (; p < end && *p >= '0' && *p <= '9'; ++p) digit(*p - '0', false);
  if (p < end && *p == '.')
    for (++p; p < end && *p >= '0' && *p <= '9'; ++p) digit(*p - '0', true);
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    bool neg_exp = false;
    if (p < end && (*p == '+' || *p == '-')) neg_exp = *p++ == '-';
    int64_t e = 0;
    for (; p < end && *p >= '0' && *p <= '9'; ++p) e = e * 10 + (*p - '0');
    exponent += neg_exp ? -e : e;
  }
  // f64_from_parts: one multiplication or division by an exact power of ten.
  static const std::array<double, 309> kPow10 = [] {
    std::array<double, 309> t{};
    for (int i = 0; i < 309; ++i) t[i] = std::strtod(("1e" + std::to_string(i)).c_str(), nullptr);
    return t;
  }();
  double f = static_cast<double>(significand);
  for (;;) {
    uint64_t mag = exponent < 0 ? static_cast<uint64_t>(-exponent) : static_cast<uint64_t>(exponent);
    if (mag < kPow10.size()) {
      if (exponent >= 0) {
        f *= kPow10[mag];
      } else {
        f /= kPow10[mag];
      }
      break;
    }
    if (f == 0 || exponent >= 0) break;  // (HF rejects the >= 0 case as out of range)
    f /= 1e308;
    exponent += 308;
  }
  return negative ? -f : f;
}

Result<std::unique_ptr<UnigramModel>> UnigramModel::from_json(const nlohmann::json& j, const std::string& path) {
  KEEL_RETURN_IF_ERROR(jf::expect_object(j, path));
  const nlohmann::json* vj = jf::find(j, "vocab");
  if (!vj) return Error(jf::join(path, "vocab"), ": missing required field");
  std::string vpath = jf::join(path, "vocab");
  if (!vj->is_array()) return Error(vpath, ": expected an array of [piece, score], got ", vj->type_name());
  std::vector<Piece> vocab;
  vocab.reserve(vj->size());
  for (size_t i = 0; i < vj->size(); ++i) {
    const nlohmann::json& e = (*vj)[i];
    if (!e.is_array() || e.size() != 2 || !e[0].is_string() || !e[1].is_number())
      return Error(vpath, "[", i, "]: expected [piece (string), score (number)], got ", e.dump().substr(0, 80));
    const double score = e[1].get<double>();
    if (!std::isfinite(score)) return Error(vpath, "[", i, "][1]: the score is out of range");
    vocab.emplace_back(e[0].get<std::string>(), serde_json_f64(score));
  }
  auto unk = jf::opt_uint(j, "unk_id", path);
  if (!unk.ok()) return unk.status();
  auto bf = jf::bool_or(j, "byte_fallback", path, false);
  if (!bf.ok()) return bf.status();
  std::optional<size_t> unk_id;
  if (unk->has_value()) unk_id = static_cast<size_t>(std::min<uint64_t>(**unk, SIZE_MAX));
  auto m = create(std::move(vocab), unk_id, *bf);
  if (!m.ok()) return m.status().with_context(path);
  return m;
}

Result<std::unique_ptr<UnigramModel>> UnigramModel::create(std::vector<Piece> vocab, std::optional<size_t> unk_id,
                                                           bool byte_fallback) {
  if (unk_id) {
    if (vocab.empty()) return Error("Unigram: the vocabulary is empty but unk_id is set");
    if (*unk_id >= vocab.size())
      return Error("Unigram: unk_id ", *unk_id, " is not below the vocabulary size ", vocab.size());
  }
  if (vocab.size() >= UINT32_MAX) return Error("Unigram: vocabulary too large");
  std::unique_ptr<UnigramModel> m(new UnigramModel());
  m->vocab_ = std::move(vocab);
  if (unk_id) m->unk_id_ = static_cast<uint32_t>(*unk_id);
  m->byte_fallback_ = byte_fallback;
  m->min_score_ = std::numeric_limits<double>::infinity();
  m->token_to_id_.reserve(m->vocab_.size());
  m->node_token_.push_back(kNone);  // root
  m->edges_.reserve(m->vocab_.size() * 2);
  for (size_t id = 0; id < m->vocab_.size(); ++id) {
    const auto& [piece, score] = m->vocab_[id];
    m->token_to_id_.insert(piece, static_cast<uint32_t>(id));
    if (score < m->min_score_) m->min_score_ = score;
    uint32_t node = 0;
    for (unsigned char b : piece) {
      const PairMap::Value* e = m->edges_.find(node, b);
      if (e) {
        node = e->rank;
      } else {
        uint32_t child = static_cast<uint32_t>(m->node_token_.size());
        m->node_token_.push_back(kNone);
        m->edges_.insert(node, b, PairMap::Value{child, 0});
        node = child;
      }
    }
  }
  // A piece resolves to the id token_to_id gives it (the last duplicate). The
  // empty piece is never matched (HF's trie only reports non-empty prefixes).
  for (size_t id = 0; id < m->vocab_.size(); ++id) {
    const std::string& piece = m->vocab_[id].first;
    if (piece.empty()) continue;
    uint32_t node = 0;
    for (unsigned char b : piece) node = m->edges_.find(node, b)->rank;
    uint32_t resolved = static_cast<uint32_t>(id);
    m->token_to_id_.find(piece, resolved);
    m->node_token_[node] = resolved;
  }
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    uint32_t id;
    m->byte_ids_[b] = m->token_to_id_.find(buf, id) ? id : kNone;
  }
  m->cache_ = std::make_unique<WordCache<Out>>(65536);
  return m;
}

UnigramModel::~UnigramModel() = default;

std::optional<uint32_t> UnigramModel::token_to_id(std::string_view token) const {
  uint32_t id;
  if (token_to_id_.find(token, id)) return id;
  return std::nullopt;
}

std::optional<std::string> UnigramModel::id_to_token(uint32_t id) const {
  if (id >= vocab_.size()) return std::nullopt;
  return vocab_[id].first;
}

static inline size_t utf8_len(unsigned char c) {
  if (c < 0xC0) return 1;
  if (c < 0xE0) return 2;
  if (c < 0xF0) return 3;
  return 4;
}

Status UnigramModel::viterbi(std::string_view s, std::vector<std::pair<size_t, size_t>>& pieces) const {
  struct Best {
    double score;
    uint32_t id;
    int64_t starts_at;  // -1: not reached yet
  };
  const size_t n = s.size();
  const double unk_score = min_score_ - kUnkPenalty;
  thread_local std::vector<Best> best;
  best.assign(n + 1, Best{0.0, 0, -1});
  for (size_t start = 0; start < n;) {
    const double here = best[start].score;
    const size_t mblen = std::min(utf8_len(static_cast<unsigned char>(s[start])), n - start);
    bool has_single = false;
    uint32_t node = 0;
    for (size_t k = start; k < n; ++k) {
      const PairMap::Value* e = edges_.find(node, static_cast<unsigned char>(s[k]));
      if (!e) break;
      node = e->rank;
      uint32_t id = node_token_[node];
      if (id == kNone) continue;
      const size_t end = k + 1;
      const double cand = vocab_[id].second + here;
      Best& t = best[end];
      if (t.starts_at < 0 || cand > t.score) t = Best{cand, id, static_cast<int64_t>(start)};
      if (end - start == mblen) has_single = true;
    }
    if (!has_single) {
      Best& t = best[start + mblen];
      const double cand = unk_score + here;
      if (t.starts_at < 0 || cand > t.score) {
        if (!unk_id_) return Error("Unigram: encountered an unknown character but unk_id is missing");
        t = Best{cand, *unk_id_, static_cast<int64_t>(start)};
      }
    }
    start += mblen;
  }
  // Walk back from the end, fusing runs of unk.
  pieces.clear();
  size_t end = n;
  size_t unk_end = 0;
  bool in_unk = false;
  while (end > 0) {
    const Best& b = best[end];
    if (b.starts_at < 0) return Error("Unigram: internal error: unreachable position ", end);
    const size_t start = static_cast<size_t>(b.starts_at);
    if (unk_id_ && b.id == *unk_id_) {
      if (!in_unk) unk_end = end;
      in_unk = true;
    } else {
      if (in_unk) pieces.emplace_back(end, unk_end);
      in_unk = false;
      pieces.emplace_back(start, end);
    }
    end = start;
  }
  if (in_unk) pieces.emplace_back(0, unk_end);
  std::reverse(pieces.begin(), pieces.end());
  return Status::Ok();
}

// Pieces -> tokens: a piece is looked up by its text (a fused unk run may be a
// vocab entry after all); unknown pieces become byte tokens or unk.
Status UnigramModel::resolve(std::string_view sequence, std::vector<Out>& out) const {
  thread_local std::vector<std::pair<size_t, size_t>> pieces;
  KEEL_RETURN_IF_ERROR(viterbi(sequence, pieces));
  out.clear();
  for (auto [a, b] : pieces) {
    std::string_view piece = sequence.substr(a, b - a);
    const auto a32 = static_cast<uint32_t>(a), b32 = static_cast<uint32_t>(b);
    uint32_t id;
    if (token_to_id_.find(piece, id)) {
      out.push_back(Out{id, a32, b32, -1});
      continue;
    }
    if (byte_fallback_) {
      bool all = true;
      for (unsigned char c : piece) all = all && byte_ids_[c] != kNone;
      if (all) {
        // Every byte token spans the whole piece, as in HF.
        for (unsigned char c : piece) out.push_back(Out{byte_ids_[c], a32, b32, c});
        continue;
      }
    }
    if (!unk_id_) return Error("Unigram: encountered an unknown token but unk_id is missing");
    out.push_back(Out{*unk_id_, a32, b32, -1});
  }
  return Status::Ok();
}

Status UnigramModel::tokenize(std::string_view sequence, std::vector<Token>& out) const {
  if (sequence.empty()) return Status::Ok();
  thread_local std::vector<Out> toks;
  if (!cache_->get(sequence, toks)) {
    KEEL_RETURN_IF_ERROR(resolve(sequence, toks));
    if (sequence.size() < kMaxCachedWordLen) cache_->put(sequence, toks);
  }
  for (const Out& o : toks) {
    Token& t = out.emplace_back();
    t.id = o.id;
    t.offsets = {o.start, o.end};
    if (o.byte >= 0) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "<0x%02X>", static_cast<unsigned>(o.byte & 0xFF));
      t.value = buf;
    } else {
      t.value.assign(sequence.substr(o.start, o.end - o.start));
    }
  }
  return Status::Ok();
}

}  // namespace keel::tok
