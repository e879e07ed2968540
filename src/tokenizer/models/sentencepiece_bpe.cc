#include "tokenizer/models/sentencepiece_bpe.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <queue>

#include "core/utf8.h"
#include "tokenizer/unicode_util.h"

namespace keel::tok {

namespace {

// One symbol of the sequence being merged: a byte range, linked to its
// neighbours (-1 = none). A symbol merged into its left neighbour has len 0.
struct Symbol {
  int prev, next;
  uint32_t start, len;
};

struct Bigram {
  int left, right;
  float score;
  uint32_t len;  // bytes of the pair when queued: a stale entry no longer matches
};

// Highest score on top; among equal scores the leftmost pair.
struct BigramOrder {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

}  // namespace

Result<std::unique_ptr<SentencePieceBpeModel>> SentencePieceBpeModel::create(std::vector<SentencePiece> pieces,
                                                                             std::optional<uint32_t> unk_id) {
  if (pieces.size() >= kNone) return Error("SentencePiece BPE: too many pieces (", pieces.size(), ")");
  std::unique_ptr<SentencePieceBpeModel> m(new SentencePieceBpeModel());
  m->byte_ids_.fill(kNone);
  m->scores_.resize(pieces.size());
  m->mergeable_.resize(pieces.size());
  for (size_t i = 0; i < pieces.size(); ++i) {
    const SentencePiece& p = pieces[i];
    if (p.text.empty()) return Error("piece ", i, ": empty text");
    if (!std::isfinite(p.score)) return Error("piece ", i, " (\"", printable(p.text), "\"): score ", p.score, " is not finite");
    m->vocab_.add(p.text, static_cast<uint32_t>(i));
    m->scores_[i] = p.score;
    m->mergeable_[i] = p.mergeable;
    if (p.mergeable) m->max_piece_bytes_ = std::max(m->max_piece_bytes_, p.text.size());
  }
  m->vocab_.finish();
  // A repeated text keeps only its last id in the map; earlier copies must not
  // be treated as mergeable through it.
  for (size_t i = 0; i < pieces.size(); ++i) {
    uint32_t id;
    if (m->vocab_.find(pieces[i].text, id) && id != i) m->mergeable_[i] = 0;
  }
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    uint32_t id;
    if (m->vocab_.find(name, id)) m->byte_ids_[b] = id;
  }
  if (unk_id) {
    if (*unk_id >= pieces.size())
      return Error("unk id ", *unk_id, " is out of range (", pieces.size(), " pieces)");
    m->unk_id_ = *unk_id;
  }
  return m;
}

std::optional<std::string> SentencePieceBpeModel::id_to_token(uint32_t id) const {
  auto s = vocab_.id_to_token(id);
  if (!s) return std::nullopt;
  return std::string(*s);
}

Status SentencePieceBpeModel::tokenize(std::string_view sequence, std::vector<Token>& out) const {
  if (sequence.empty()) return Status::Ok();
  if (sequence.size() >= static_cast<size_t>(INT32_MAX))
    return Error("SentencePiece BPE: a sequence of ", sequence.size(), " bytes is too long");

  // Characters, linked in order.
  std::vector<Symbol> symbols;
  symbols.reserve(sequence.size());
  for (size_t off = 0; off < sequence.size();) {
    const size_t len = std::min(utf8_char_len(static_cast<unsigned char>(sequence[off])), sequence.size() - off);
    const int index = static_cast<int>(symbols.size());
    off += len;
    symbols.push_back(Symbol{index - 1, off == sequence.size() ? -1 : index + 1,
                             static_cast<uint32_t>(off - len), static_cast<uint32_t>(len)});
  }

  std::vector<Bigram> storage;
  storage.reserve(symbols.size());
  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue(BigramOrder(), std::move(storage));
  auto try_add = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const uint32_t len = symbols[left].len + symbols[right].len;
    if (len > max_piece_bytes_) return;
    uint32_t id;
    if (!find_mergeable(sequence.substr(symbols[left].start, len), id)) return;
    queue.push(Bigram{left, right, scores_[id], len});
  };
  for (size_t i = 1; i < symbols.size(); ++i) try_add(static_cast<int>(i - 1), static_cast<int>(i));

  while (!queue.empty()) {
    const Bigram b = queue.top();
    queue.pop();
    Symbol& left = symbols[b.left];
    Symbol& right = symbols[b.right];
    // Skip pairs one of whose symbols has since been merged.
    if (left.len == 0 || right.len == 0 || left.len + right.len != b.len) continue;
    left.len += right.len;
    right.len = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = b.left;
    try_add(left.prev, b.left);
    try_add(b.left, left.next);
  }

  bool last_is_unk = false;  // the previous token is an unk this call emitted
  for (int i = 0; i != -1; i = symbols[i].next) {
    const Symbol& s = symbols[i];
    const std::string_view text = sequence.substr(s.start, s.len);
    const std::pair<size_t, size_t> offsets{s.start, s.start + s.len};
    uint32_t id;
    if (find_mergeable(text, id)) {
      out.push_back(Token{id, std::string(text), offsets});
      last_is_unk = false;
      continue;
    }
    // Only single characters can be missing: merges only make pieces.
    bool all_bytes = true;
    for (unsigned char c : text) all_bytes = all_bytes && byte_ids_[c] != kNone;
    if (all_bytes) {
      for (unsigned char c : text) {
        const uint32_t bid = byte_ids_[c];
        auto name = vocab_.id_to_token(bid);
        out.push_back(Token{bid, name ? std::string(*name) : std::string(), offsets});
      }
      last_is_unk = false;
      continue;
    }
    if (unk_id_ == kNone)
      return Error("SentencePiece BPE: \"", printable(text), "\" at byte ", s.start,
                   " is no piece, has no byte tokens, and the vocabulary has no unk token");
    if (last_is_unk) {
      out.back().offsets.second = offsets.second;
      continue;
    }
    auto name = vocab_.id_to_token(unk_id_);
    out.push_back(Token{unk_id_, name ? std::string(*name) : std::string(), offsets});
    last_is_unk = true;
  }
  return Status::Ok();
}

}  // namespace keel::tok
