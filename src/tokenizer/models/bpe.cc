#include "tokenizer/models/bpe.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <random>

#include <nlohmann/json.hpp>

#include "core/thread_pool.h"
#include "core/utf8.h"
#include "tokenizer/models/json_fields.h"
#include "tokenizer/models/model_bulk.h"
#include "tokenizer/models/word_cache.h"

namespace keel::tok {

namespace jf = json_fields;
using nlohmann::json;

// ---------------------------------------------------------------------------
namespace {

// Uniform in [0, 1), per thread.
float uniform01() {
  thread_local std::mt19937 rng{std::random_device{}()};
  return std::uniform_real_distribution<float>(0.0f, 1.0f)(rng);
}

// Byte length of the UTF-8 sequence starting with lead byte c (1 for stray
// continuation bytes, so malformed input cannot stall or overrun).
inline size_t utf8_len(unsigned char c) {
  if (c < 0xC0) return 1;
  if (c < 0xE0) return 2;
  if (c < 0xF0) return 3;
  return 4;
}

inline char32_t decode_at(std::string_view s, size_t i, size_t n) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  if (n == 1) return b(0);
  if (n == 2) return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
  if (n == 3) return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
  return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
}

// Parses "merges": ["a b", ...] (tokenizers < 0.20) or [["a", "b"], ...].
// "#version" lines of the old form are skipped, as HF's merges.txt reader does.
Status parse_merges(const json& j, const std::string& path, std::vector<BpeModel::Merge>& out) {
  if (!j.is_array()) return Error(path, ": expected an array of merges, got ", j.type_name());
  out.reserve(j.size());
  bool strings = !j.empty() && j.front().is_string();
  size_t line = 0;
  for (size_t i = 0; i < j.size(); ++i) {
    const json& m = j[i];
    auto here = [&] { return str_cat(path, "[", i, "]"); };
    if (strings) {
      if (!m.is_string())
        return Error(here(), ": expected a string \"a b\" like the other merges, got ", m.type_name());
      const std::string& s = m.get_ref<const std::string&>();
      if (s.rfind("#version", 0) == 0) continue;
      ++line;
      size_t sp = s.find(' ');
      if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
        return Error(here(), ": merge \"", printable(s), "\" is not two tokens separated by one space (merges line ",
                     line, ")");
      const std::string_view v = s;
      out.emplace_back(v.substr(0, sp), v.substr(sp + 1));
    } else {
      if (!m.is_array() || m.size() != 2 || !m[0].is_string() || !m[1].is_string())
        return Error(here(), ": expected a pair [\"a\", \"b\"] of strings, got ", m.dump().substr(0, 80));
      out.emplace_back(std::string_view(m[0].get_ref<const std::string&>()),
                       std::string_view(m[1].get_ref<const std::string&>()));
    }
  }
  return Status::Ok();
}

}  // namespace

BpeModel::~BpeModel() = default;

Result<std::unique_ptr<BpeModel>> BpeModel::from_json(const json& j, const std::string& path,
                                                      const ModelBulk* bulk) {
  KEEL_RETURN_IF_ERROR(jf::expect_object(j, path));
  BpeConfig cfg;
  auto dropout = jf::opt_number(j, "dropout", path);
  if (!dropout.ok()) return dropout.status();
  if (dropout->has_value()) {
    double p = **dropout;
    if (!(p >= 0.0 && p <= 1.0)) return Error(jf::join(path, "dropout"), ": must be between 0 and 1, got ", p);
    cfg.dropout = static_cast<float>(p);
  }
  auto unk = jf::opt_string(j, "unk_token", path);
  auto prefix = jf::opt_string(j, "continuing_subword_prefix", path);
  auto suffix = jf::opt_string(j, "end_of_word_suffix", path);
  auto fuse = jf::bool_or(j, "fuse_unk", path, false);
  auto bf = jf::bool_or(j, "byte_fallback", path, false);
  auto im = jf::bool_or(j, "ignore_merges", path, false);
  for (const Status* s : {&unk.status(), &prefix.status(), &suffix.status(), &fuse.status(), &bf.status(), &im.status()})
    if (!s->ok()) return *s;
  cfg.unk_token = *unk;
  cfg.continuing_subword_prefix = *prefix;
  cfg.end_of_word_suffix = *suffix;
  cfg.fuse_unk = *fuse;
  cfg.byte_fallback = *bf;
  cfg.ignore_merges = *im;

  const json* vj = jf::find(j, "vocab");
  const json* mj = jf::find(j, "merges");
  if (!vj || !mj) return Error(path, ": BPE needs both \"vocab\" and \"merges\"");
  auto vocab = bulk && bulk->vocab ? Vocab::from_entries(*bulk->vocab)
                                  : Vocab::from_json_object(*vj, jf::join(path, "vocab"));
  if (!vocab.ok()) return vocab.status();
  if (bulk && bulk->merges) return create(std::move(*vocab), *bulk->merges, std::move(cfg), path);
  std::vector<Merge> merges;
  KEEL_RETURN_IF_ERROR(parse_merges(*mj, jf::join(path, "merges"), merges));
  return create(std::move(*vocab), merges, std::move(cfg), path);
}

Result<std::unique_ptr<BpeModel>> BpeModel::create(Vocab vocab, const std::vector<Merge>& merges, BpeConfig config,
                                                   const std::string& path) {
  std::unique_ptr<BpeModel> m(new BpeModel());
  m->vocab_ = std::move(vocab);
  m->prefix_ = config.continuing_subword_prefix.value_or("");
  m->suffix_ = config.end_of_word_suffix.value_or("");
  m->config_ = std::move(config);
  const Vocab& v = m->vocab_;

  // Merge (a, b) -> token a + b without b's continuing-subword prefix. A later
  // duplicate of a pair overrides the earlier rank, as HF's HashMap collect does.
  // The three lookups per merge are random accesses into a large table, so the
  // hashes are computed kLookahead merges ahead and their slots prefetched; and
  // large merge lists are resolved in parts on the thread pool (the vocab is
  // only read there): 8 per thread, so that a thread the OS does not run for a
  // while holds up only a small part.
  const size_t n = merges.size();
  m->merges_.reserve(n);
  const size_t plen = m->prefix_.size();
  // b is at least as long as the prefix, which it does not cut inside a character.
  auto prefix_ok = [plen](std::string_view b) {
    return b.size() >= plen && (plen == b.size() || (static_cast<unsigned char>(b[plen]) & 0xC0) != 0x80);
  };
  struct Resolved {
    uint32_t a, b, new_id;
  };
  std::vector<Resolved> resolved(n);
  // Resolves ranks [begin, end); returns the first rank that fails, or n.
  auto resolve_part = [&](size_t begin, size_t end) -> size_t {
    struct Pending {
      std::string joined;
      uint64_t ha = 0, hb = 0, hj = 0;
      bool ok = false;  // prefix_ok(b) (else an error below)
    };
    constexpr size_t kLookahead = 8;
    Pending ring[kLookahead];
    auto prepare = [&](size_t r) {
      Pending& p = ring[r % kLookahead];
      const auto& [a, b] = merges[r];
      p.ok = prefix_ok(b);
      p.ha = hash_bytes(a);
      p.hb = hash_bytes(b);
      v.map().prefetch(p.ha);
      v.map().prefetch(p.hb);
      if (p.ok) {
        p.joined.assign(a);
        p.joined.append(b, plen);
        p.hj = hash_bytes(p.joined);
        v.map().prefetch(p.hj);
      }
    };
    for (size_t r = begin; r < std::min(begin + kLookahead, end); ++r) prepare(r);
    for (size_t rank = begin; rank < end; ++rank) {
      const auto& [a, b] = merges[rank];
      Pending& p = ring[rank % kLookahead];
      Resolved& out = resolved[rank];
      if (!v.map().find(a, p.ha, out.a) || !v.map().find(b, p.hb, out.b) || !p.ok ||
          !v.map().find(p.joined, p.hj, out.new_id))
        return rank;
      if (rank + kLookahead < end) prepare(rank + kLookahead);
    }
    return n;
  };
  ThreadPool& pool = default_thread_pool();
  const size_t parts = n < 32768 ? 1 : static_cast<size_t>(pool.num_threads()) * 8;
  std::vector<size_t> first_bad(parts, n);
  if (parts == 1) {
    first_bad[0] = resolve_part(0, n);
  } else {
    pool.parallel_for(static_cast<int64_t>(parts), [&](int64_t pb, int64_t pe) {
      for (int64_t part = pb; part < pe; ++part) {
        const size_t k = static_cast<size_t>(part);
        first_bad[k] = resolve_part(n * k / parts, n * (k + 1) / parts);
      }
    });
  }
  if (const size_t rank = *std::min_element(first_bad.begin(), first_bad.end()); rank < n) {
    // The first failing merge, checked again to say why.
    const auto& [a, b] = merges[rank];
    const std::string where = str_cat(path, ".merges[", rank, "]");
    if (!v.map().contains(a)) return Error(where, ": merge token \"", printable(a), "\" is not in the vocabulary");
    if (!v.map().contains(b)) return Error(where, ": merge token \"", printable(b), "\" is not in the vocabulary");
    if (!prefix_ok(b))
      return Error(where, ": merge token \"", printable(b), "\" is shorter than the continuing_subword_prefix");
    std::string joined(a);
    joined.append(b, plen);
    return Error(where, ": merged token \"", printable(joined), "\" is not in the vocabulary");
  }
  // Then the merge table itself, again with its slots prefetched.
  constexpr size_t kLookahead = 8;
  for (size_t rank = 0; rank < resolved.size(); ++rank) {
    if (rank + kLookahead < resolved.size())
      m->merges_.prefetch(resolved[rank + kLookahead].a, resolved[rank + kLookahead].b);
    const Resolved& r = resolved[rank];
    m->merges_.insert(r.a, r.b, PairMap::Value{static_cast<uint32_t>(rank), r.new_id});
  }

  // Direct tables for single characters (alone, and after the prefix).
  m->char_ids_.assign(kTableChars, kNone);
  m->cont_char_ids_.assign(kTableChars, kNone);
  std::string s;
  for (char32_t c = 0; c < kTableChars; ++c) {
    s.clear();
    jf::append_utf8(c, s);
    uint32_t id;
    if (v.find(s, id)) m->char_ids_[c] = id;
    s.insert(0, m->prefix_);
    if (v.find(s, id)) m->cont_char_ids_[c] = id;
  }
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    uint32_t id;
    m->byte_ids_[b] = v.find(buf, id) ? id : kNone;
  }
  if (m->config_.cache_capacity > 0) m->cache_ = std::make_unique<WordCache<Piece>>(m->config_.cache_capacity);
  return m;
}

std::optional<std::string> BpeModel::id_to_token(uint32_t id) const {
  auto s = vocab_.id_to_token(id);
  if (!s) return std::nullopt;
  return std::string(*s);
}

Status BpeModel::unk_id(uint32_t& id) const {
  if (vocab_.find(*config_.unk_token, id)) return Status::Ok();
  return Error("BPE: unk_token \"", printable(*config_.unk_token), "\" is not in the vocabulary");
}

// HF merge_word: characters -> initial symbols (with prefix/suffix, byte
// fallback and unk handling), then apply_merges.
Status BpeModel::merge_word(std::string_view w, std::vector<Piece>& out) const {
  out.clear();
  const size_t n = w.size();
  bool have_unk = false;
  Piece unk{0, 0};
  std::string buf;
  for (size_t i = 0; i < n;) {
    size_t clen = std::min(utf8_len(static_cast<unsigned char>(w[i])), n - i);
    const bool first = i == 0;
    const bool last = i + clen >= n;
    const bool add_prefix = !first && !prefix_.empty();
    const bool add_suffix = last && !suffix_.empty();
    uint32_t id = kNone;
    bool built = false;
    if (!add_suffix) {
      char32_t c = decode_at(w, i, clen);
      if (c < kTableChars) {
        id = add_prefix ? cont_char_ids_[c] : char_ids_[c];
      } else {
        built = true;
      }
    } else {
      built = true;
    }
    if (built || (id == kNone && config_.byte_fallback)) {
      buf.clear();
      if (add_prefix) buf += prefix_;
      buf.append(w.substr(i, clen));
      if (add_suffix) buf += suffix_;
      if (built && !vocab_.find(buf, id)) id = kNone;
    }
    if (id != kNone) {
      if (have_unk) {
        out.push_back(unk);
        have_unk = false;
      }
      out.push_back(Piece{id, static_cast<uint32_t>(clen)});
    } else {
      bool done = false;
      if (config_.byte_fallback) {
        // Every byte of the (prefixed/suffixed) symbol must have a <0xAB> token.
        bool all = std::all_of(buf.begin(), buf.end(),
                               [&](char ch) { return byte_ids_[static_cast<unsigned char>(ch)] != kNone; });
        if (all) {
          for (char ch : buf) out.push_back(Piece{byte_ids_[static_cast<unsigned char>(ch)], 1});
          done = true;
        }
      }
      if (!done && config_.unk_token) {
        if (have_unk && config_.fuse_unk) {
          unk.len += static_cast<uint32_t>(clen);
        } else {
          if (have_unk) out.push_back(unk);
          uint32_t uid;
          KEEL_RETURN_IF_ERROR(unk_id(uid));
          unk = Piece{uid, static_cast<uint32_t>(clen)};
          have_unk = true;
        }
      }
    }
    i += clen;
  }
  if (have_unk) out.push_back(unk);
  apply_merges(out, config_.dropout);
  return Status::Ok();
}

// HF Word::merge_all: a min-heap of candidate merges ordered by (rank, position);
// an entry is stale when its left symbol was absorbed or the pair now at that
// position merges into a different token.
void BpeModel::apply_merges(std::vector<Piece>& pieces, float dropout) const {
  const size_t n = pieces.size();
  if (n < 2) return;
  struct Sym {
    uint32_t id;
    uint32_t len;
    int32_t prev;
    int32_t next;
  };
  struct Cand {
    uint32_t rank;
    uint32_t pos;
    uint32_t new_id;
  };
  // Min-heap on (rank, pos).
  auto later = [](const Cand& a, const Cand& b) { return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos; };
  thread_local std::vector<Sym> syms;
  thread_local std::vector<Cand> heap;
  syms.resize(n);
  heap.clear();
  for (size_t i = 0; i < n; ++i)
    syms[i] = Sym{pieces[i].id, pieces[i].len, static_cast<int32_t>(i) - 1,
                  i + 1 < n ? static_cast<int32_t>(i + 1) : -1};
  for (size_t i = 0; i + 1 < n; ++i)
    if (const PairMap::Value* m = merges_.find(syms[i].id, syms[i + 1].id))
      heap.push_back(Cand{m->rank, static_cast<uint32_t>(i), m->new_id});
  std::make_heap(heap.begin(), heap.end(), later);
  // BPE-dropout: a skipped candidate waits until some other candidate is taken.
  thread_local std::vector<Cand> skipped;
  skipped.clear();

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    Cand top = heap.back();
    heap.pop_back();
    if (dropout > 0 && uniform01() < dropout) {
      skipped.push_back(top);
      continue;
    }
    for (const Cand& c : skipped) {
      heap.push_back(c);
      std::push_heap(heap.begin(), heap.end(), later);
    }
    skipped.clear();
    Sym& cur = syms[top.pos];
    if (cur.len == 0 || cur.next == -1) continue;
    const size_t next_pos = static_cast<size_t>(cur.next);
    const Sym right = syms[next_pos];
    const PairMap::Value* now = merges_.find(cur.id, right.id);
    if (!now || now->new_id != top.new_id) continue;

    cur.id = top.new_id;
    cur.len += right.len;
    cur.next = right.next;
    syms[next_pos].len = 0;
    if (right.next >= 0) syms[static_cast<size_t>(right.next)].prev = static_cast<int32_t>(top.pos);

    if (cur.prev >= 0) {
      const Sym& p = syms[static_cast<size_t>(cur.prev)];
      if (const PairMap::Value* m = merges_.find(p.id, cur.id)) {
        heap.push_back(Cand{m->rank, static_cast<uint32_t>(cur.prev), m->new_id});
        std::push_heap(heap.begin(), heap.end(), later);
      }
    }
    if (cur.next >= 0) {
      const Sym& nx = syms[static_cast<size_t>(cur.next)];
      if (const PairMap::Value* m = merges_.find(cur.id, nx.id)) {
        heap.push_back(Cand{m->rank, top.pos, m->new_id});
        std::push_heap(heap.begin(), heap.end(), later);
      }
    }
  }
  size_t k = 0;
  for (size_t i = 0; i < n; ++i)
    if (syms[i].len != 0) pieces[k++] = Piece{syms[i].id, syms[i].len};
  pieces.resize(k);
}

void BpeModel::emit(const std::vector<Piece>& pieces, std::vector<Token>& out) const {
  size_t pos = 0;
  for (const Piece& p : pieces) {
    auto s = vocab_.id_to_token(p.id);
    Token& t = out.emplace_back();
    t.id = p.id;
    if (s) t.value.assign(*s);
    t.offsets = {pos, pos + p.len};
    pos += p.len;
  }
}

Status BpeModel::tokenize(std::string_view sequence, std::vector<Token>& out) const {
  if (sequence.empty()) return Status::Ok();
  thread_local std::vector<Piece> pieces;
  if (config_.dropout > 0) {
    // Random merges: neither ignore_merges nor the cache apply (as in HF).
    KEEL_RETURN_IF_ERROR(merge_word(sequence, pieces));
    emit(pieces, out);
    return Status::Ok();
  }
  if (config_.ignore_merges) {
    uint32_t id;
    if (vocab_.find(sequence, id)) {
      out.push_back(Token{id, std::string(sequence), {0, sequence.size()}});
      return Status::Ok();
    }
  }
  if (cache_ && cache_->get(sequence, pieces)) {
    emit(pieces, out);
    return Status::Ok();
  }
  KEEL_RETURN_IF_ERROR(merge_word(sequence, pieces));
  if (cache_) cache_->put(sequence, pieces);
  emit(pieces, out);
  return Status::Ok();
}

}  // namespace keel::tok
