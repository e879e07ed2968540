#include "tokenizer/added_vocabulary.h"

#include <algorithm>

#include "tokenizer/unicode_util.h"

namespace keel::tok {

namespace {

bool same_token(const AddedToken& a, const AddedToken& b) {
  return a.content == b.content && a.single_word == b.single_word && a.lstrip == b.lstrip &&
         a.rstrip == b.rstrip && a.normalized == b.normalized && a.special == b.special;
}

// The char before byte `pos` of valid UTF-8 `s` (pos > 0).
char32_t char_before(std::string_view s, size_t pos) {
  size_t b = pos - 1;
  while (b > 0 && (static_cast<unsigned char>(s[b]) & 0xc0) == 0x80) --b;
  return decode_utf8(s, b);
}

}  // namespace

// ---- Trie ----------------------------------------------------------------------

void AddedVocabulary::Trie::clear() {
  nodes.clear();
  nodes.emplace_back();  // node 0: the root (children in `root`)
  root.fill(0);
}

void AddedVocabulary::Trie::insert(std::string_view s, uint32_t id) {
  if (s.empty()) return;  // an empty content can never produce a split
  if (nodes.empty()) clear();
  auto first = static_cast<uint8_t>(s[0]);
  int32_t cur = root[first];
  if (cur == 0) {
    cur = static_cast<int32_t>(nodes.size());
    nodes.emplace_back();
    root[first] = cur;
  }
  for (size_t i = 1; i < s.size(); ++i) {
    auto b = static_cast<uint8_t>(s[i]);
    int32_t nxt = 0;
    for (auto& [k, v] : nodes[cur].next)
      if (k == b) {
        nxt = v;
        break;
      }
    if (nxt == 0) {
      nxt = static_cast<int32_t>(nodes.size());
      nodes[cur].next.emplace_back(b, nxt);
      nodes.emplace_back();
    }
    cur = nxt;
  }
  // The first pattern with this content wins, as in aho-corasick.
  if (nodes[cur].id < 0) nodes[cur].id = static_cast<int32_t>(id);
}

std::pair<size_t, uint32_t> AddedVocabulary::Trie::longest_at(std::string_view text,
                                                               size_t pos) const {
  int32_t cur = root[static_cast<uint8_t>(text[pos])];
  if (cur == 0) return {0, 0};
  size_t best_len = 0;
  uint32_t best_id = 0;
  size_t i = pos + 1;
  while (true) {
    if (nodes[cur].id >= 0) {
      best_len = i - pos;
      best_id = static_cast<uint32_t>(nodes[cur].id);
    }
    if (i >= text.size()) break;
    auto b = static_cast<uint8_t>(text[i]);
    int32_t nxt = 0;
    for (auto& [k, v] : nodes[cur].next)
      if (k == b) {
        nxt = v;
        break;
      }
    if (nxt == 0) break;
    cur = nxt;
    ++i;
  }
  return {best_len, best_id};
}

// ---- Vocabulary -------------------------------------------------------------------

Status AddedVocabulary::add_tokens(const std::vector<AddedToken>& tokens, const Model& model,
                                   const Normalizer* normalizer) {
  for (const AddedToken& t : tokens) {
    if (t.special && !t.content.empty() && !special_set_.count(t.content)) {
      special_tokens_.push_back(t);
      special_set_.insert(t.content);
    }
  }
  const auto vocab_size = static_cast<uint32_t>(model.vocab_size());
  for (const AddedToken& t : tokens) {
    if (t.content.empty()) continue;
    bool known = false;
    for (const auto& [id, existing] : id_to_token_)
      if (same_token(existing, t)) {
        known = true;
        break;
      }
    if (known) continue;
    uint32_t new_id;
    if (auto existing = token_to_id(t.content, model)) {
      new_id = *existing;
    } else if (content_to_id_.empty()) {
      new_id = vocab_size;
    } else {
      uint32_t max_id = 0;
      for (const auto& [c, id] : content_to_id_) max_id = std::max(max_id, id);
      new_id = (max_id >= vocab_size || vocab_size == 0) ? max_id + 1 : vocab_size;
    }
    content_to_id_[t.content] = new_id;
    AddedToken stored = t;
    stored.id = new_id;
    id_to_token_[new_id] = stored;
    if (!special_set_.count(t.content)) added_tokens_.push_back(stored);
  }
  return refresh(model, normalizer);
}

Status AddedVocabulary::refresh(const Model& model, const Normalizer* normalizer) {
  raw_trie_.clear();
  normalized_trie_.clear();
  id_to_string_.clear();
  for (const auto& [id, t] : id_to_token_) id_to_string_[id] = t.content;
  auto add = [&](const AddedToken& t) -> Status {
    auto id = token_to_id(t.content, model);
    if (!id) return Error("added token '", t.content, "' has no id");
    if (!t.normalized) {
      raw_trie_.insert(t.content, *id);
      return Status::Ok();
    }
    NormalizedString content(t.content);
    if (normalizer) {
      Status st = normalizer->normalize(content);
      if (!st.ok()) return st.with_context(str_cat("normalizing added token '", t.content, "'"));
    }
    normalized_trie_.insert(content.normalized(), *id);
    id_to_string_[*id] = content.normalized();
    return Status::Ok();
  };
  for (const AddedToken& t : special_tokens_) KEEL_RETURN_IF_ERROR(add(t));
  for (const AddedToken& t : added_tokens_) KEEL_RETURN_IF_ERROR(add(t));
  all_.clear();
  for (const auto& [id, t] : id_to_token_) all_.push_back(t);
  std::sort(all_.begin(), all_.end(),
            [](const AddedToken& a, const AddedToken& b) { return a.id < b.id; });
  return Status::Ok();
}

std::optional<uint32_t> AddedVocabulary::token_to_id(std::string_view content,
                                                     const Model& model) const {
  if (!content_to_id_.empty()) {
    auto it = content_to_id_.find(std::string(content));
    if (it != content_to_id_.end()) return it->second;
  }
  return model.token_to_id(content);
}

const std::string* AddedVocabulary::token_for_id(uint32_t id) const {
  if (id_to_string_.empty()) return nullptr;
  auto it = id_to_string_.find(id);
  return it == id_to_string_.end() ? nullptr : &it->second;
}

size_t AddedVocabulary::count_not_in(const Model& model) const {
  size_t n = 0;
  for (const auto& [content, id] : content_to_id_) n += !model.token_to_id(content).has_value();
  return n;
}

// ---- Matching ---------------------------------------------------------------------

void AddedVocabulary::find_matches(std::string_view s, const Trie& trie,
                                   std::vector<Match>& out) const {
  out.clear();
  size_t start_offset = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    auto [len, id] = trie.longest_at(s, pos);
    if (len == 0) {
      ++pos;
      continue;
    }
    size_t start = pos, stop = pos + len;
    pos = stop;  // matches never overlap
    auto found = id_to_token_.find(id);
    const AddedToken* tok = found == id_to_token_.end() ? nullptr : &found->second;
    if (tok && tok->single_word) {
      bool start_space = start == 0 || !rust_is_word_char(char_before(s, start));
      size_t j = stop;
      bool stop_space = stop == s.size() || !rust_is_word_char(decode_utf8(s, j));
      if (!start_space || !stop_space) continue;
    }
    if (tok && tok->lstrip) {
      // Start of the whitespace run ending at `start`, not before the previous match.
      size_t ns = start;
      while (ns > 0) {
        size_t b = ns - 1;
        while (b > 0 && (static_cast<unsigned char>(s[b]) & 0xc0) == 0x80) --b;
        size_t k = b;
        if (!rust_is_whitespace(decode_utf8(s, k))) break;
        ns = b;
      }
      start = std::max(ns, start_offset);
    }
    if (tok && tok->rstrip) {
      while (stop < s.size()) {
        size_t k = stop;
        if (!rust_is_whitespace(decode_utf8(s, k))) break;
        stop = k;
      }
    }
    if (start_offset < start) out.push_back({std::nullopt, start_offset, start});
    out.push_back({id, start, stop});
    start_offset = stop;
  }
  if (start_offset != s.size()) out.push_back({std::nullopt, start_offset, s.size()});
}

Status AddedVocabulary::split_with(NormalizedString&& ns, const Trie& trie,
                                   std::vector<Split>& out) const {
  thread_local std::vector<Match> matches;
  if (ns.empty()) return Status::Ok();  // HF: one empty piece, then dropped
  if (trie.empty()) {
    matches.clear();
    matches.push_back({std::nullopt, 0, ns.len()});
  } else {
    find_matches(ns.normalized(), trie, matches);
  }
  if (matches.size() == 1 && !matches[0].id) {
    // Nothing found: HF slices the whole piece, which only changes it when
    // normalization dropped original text at either end.
    const auto& al = ns.alignments();
    if (al.front().first == 0 && al.back().second == ns.original().size()) {
      out.push_back(Split{std::move(ns), std::nullopt});
      return Status::Ok();
    }
  }
  for (const Match& m : matches) {
    auto piece = ns.slice_normalized({m.start, m.stop});
    if (!piece) return Error("added token split at bytes [", m.start, ", ", m.stop, ") is not on character boundaries");
    if (piece->empty()) continue;
    if (m.id) {
      Token t{*m.id, piece->normalized(), {0, piece->len()}};
      std::vector<Token> toks;
      toks.push_back(std::move(t));
      out.push_back(Split{std::move(*piece), std::move(toks)});
    } else {
      out.push_back(Split{std::move(*piece), std::nullopt});
    }
  }
  return Status::Ok();
}

Status AddedVocabulary::extract_and_normalize(const Normalizer* normalizer, std::string_view text,
                                              PreTokenizedString& out) const {
  out = PreTokenizedString(std::string(text));
  auto& splits = out.splits();
  if (text.empty()) {
    splits.clear();
    return Status::Ok();
  }
  // 1. Non-normalized tokens, on the raw input.
  if (!raw_trie_.empty()) {
    std::vector<Split> next;
    NormalizedString whole = std::move(splits[0].normalized);
    KEEL_RETURN_IF_ERROR(split_with(std::move(whole), raw_trie_, next));
    splits = std::move(next);
  }
  // 2. Normalize the other pieces, then normalized tokens.
  std::vector<Split> next;
  next.reserve(splits.size());
  for (Split& s : splits) {
    if (s.tokens) {
      next.push_back(std::move(s));
      continue;
    }
    if (normalizer) KEEL_RETURN_IF_ERROR(normalizer->normalize(s.normalized));
    KEEL_RETURN_IF_ERROR(split_with(std::move(s.normalized), normalized_trie_, next));
  }
  splits = std::move(next);
  return Status::Ok();
}

}  // namespace keel::tok
