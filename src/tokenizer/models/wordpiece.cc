#include "tokenizer/models/wordpiece.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/utf8.h"
#include "tokenizer/models/json_fields.h"
#include "tokenizer/models/model_bulk.h"
#include "tokenizer/models/word_cache.h"

namespace keel::tok {

namespace jf = json_fields;

Result<std::unique_ptr<WordPieceModel>> WordPieceModel::from_json(const nlohmann::json& j, const std::string& path,
                                                               const ModelBulk* bulk) {
  KEEL_RETURN_IF_ERROR(jf::expect_object(j, path));
  WordPieceConfig cfg;
  auto unk = jf::req_string(j, "unk_token", path);
  if (!unk.ok()) return unk.status();
  auto prefix = jf::req_string(j, "continuing_subword_prefix", path);
  if (!prefix.ok()) return prefix.status();
  auto max_chars = jf::opt_uint(j, "max_input_chars_per_word", path);
  if (!max_chars.ok()) return max_chars.status();
  if (!max_chars->has_value()) return Error(jf::join(path, "max_input_chars_per_word"), ": missing required field");
  const nlohmann::json* vj = jf::find(j, "vocab");
  if (!vj) return Error(jf::join(path, "vocab"), ": missing required field");
  auto vocab = bulk && bulk->vocab ? Vocab::from_entries(*bulk->vocab)
                                    : Vocab::from_json_object(*vj, jf::join(path, "vocab"));
  if (!vocab.ok()) return vocab.status();
  cfg.unk_token = std::move(*unk);
  cfg.continuing_subword_prefix = std::move(*prefix);
  cfg.max_input_chars_per_word = static_cast<size_t>(**max_chars);
  return create(std::move(*vocab), std::move(cfg));
}

std::unique_ptr<WordPieceModel> WordPieceModel::create(Vocab vocab, WordPieceConfig config) {
  std::unique_ptr<WordPieceModel> m(new WordPieceModel());
  m->vocab_ = std::move(vocab);
  m->config_ = std::move(config);
  m->vocab_.map().for_each([&](std::string_view s, uint32_t) { m->max_token_bytes_ = std::max(m->max_token_bytes_, s.size()); });
  m->cache_ = std::make_unique<WordCache<Piece>>(65536);
  return m;
}

WordPieceModel::~WordPieceModel() = default;

std::optional<std::string> WordPieceModel::id_to_token(uint32_t id) const {
  auto s = vocab_.id_to_token(id);
  if (!s) return std::nullopt;
  return std::string(*s);
}

Status WordPieceModel::unk_piece(std::string_view sequence, std::vector<Piece>& pieces) const {
  uint32_t id;
  if (!vocab_.find(config_.unk_token, id))
    return Error("WordPiece: unk_token \"", printable(config_.unk_token), "\" is not in the vocabulary");
  pieces.assign(1, Piece{id, 0, static_cast<uint32_t>(sequence.size()), true});
  return Status::Ok();
}

static inline bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

Status WordPieceModel::split(std::string_view sequence, std::vector<Piece>& pieces) const {
  pieces.clear();
  size_t chars = 0;
  for (char c : sequence) chars += !is_continuation(c);
  if (chars > config_.max_input_chars_per_word) return unk_piece(sequence, pieces);

  const std::string& prefix = config_.continuing_subword_prefix;
  thread_local std::string buf;
  size_t start = 0;
  while (start < sequence.size()) {
    // Longest candidate first. Candidates longer than any vocab entry cannot
    // match, so start from the longest that could (snapped to a char start).
    const size_t extra = start > 0 ? prefix.size() : 0;
    size_t end = sequence.size();
    if (max_token_bytes_ < extra) {
      end = start;
    } else if (end - start > max_token_bytes_ - extra) {
      end = start + (max_token_bytes_ - extra);
      while (end > start && is_continuation(sequence[end])) --end;
    }
    bool found = false;
    while (end > start) {
      std::string_view piece = sequence.substr(start, end - start);
      uint32_t id;
      bool hit;
      if (start > 0) {
        buf.assign(prefix);
        buf.append(piece);
        hit = vocab_.find(buf, id);
      } else {
        hit = vocab_.find(piece, id);
      }
      if (hit) {
        pieces.push_back(Piece{id, static_cast<uint32_t>(start), static_cast<uint32_t>(end), false});
        found = true;
        break;
      }
      // Drop the last character.
      --end;
      while (end > start && is_continuation(sequence[end])) --end;
    }
    if (!found) return unk_piece(sequence, pieces);
    start = end;
  }
  return Status::Ok();
}

Status WordPieceModel::tokenize(std::string_view sequence, std::vector<Token>& out) const {
  thread_local std::vector<Piece> pieces;
  if (!cache_->get(sequence, pieces)) {
    KEEL_RETURN_IF_ERROR(split(sequence, pieces));
    if (sequence.size() < kMaxCachedWordLen) cache_->put(sequence, pieces);
  }
  for (const Piece& p : pieces) {
    Token& t = out.emplace_back();
    t.id = p.id;
    t.offsets = {p.start, p.end};
    if (p.unk) {
      t.value = config_.unk_token;
    } else {
      // HF's token string is the matched text (with the prefix after the first).
      if (p.start > 0) t.value = config_.continuing_subword_prefix;
      t.value.append(sequence.substr(p.start, p.end - p.start));
    }
  }
  return Status::Ok();
}

}  // namespace keel::tok
