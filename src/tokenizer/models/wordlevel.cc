#include "tokenizer/models/wordlevel.h"

#include <nlohmann/json.hpp>

#include "core/utf8.h"
#include "tokenizer/models/json_fields.h"
#include "tokenizer/models/model_bulk.h"

namespace keel::tok {

namespace jf = json_fields;

Result<std::unique_ptr<WordLevelModel>> WordLevelModel::from_json(const nlohmann::json& j, const std::string& path,
                                                               const ModelBulk* bulk) {
  KEEL_RETURN_IF_ERROR(jf::expect_object(j, path));
  auto unk = jf::req_string(j, "unk_token", path);
  if (!unk.ok()) return unk.status();
  const nlohmann::json* vj = jf::find(j, "vocab");
  if (!vj) return Error(jf::join(path, "vocab"), ": missing required field");
  auto vocab = bulk && bulk->vocab ? Vocab::from_entries(*bulk->vocab)
                                    : Vocab::from_json_object(*vj, jf::join(path, "vocab"));
  if (!vocab.ok()) return vocab.status();
  return create(std::move(*vocab), std::move(*unk));
}

std::unique_ptr<WordLevelModel> WordLevelModel::create(Vocab vocab, std::string unk_token) {
  std::unique_ptr<WordLevelModel> m(new WordLevelModel());
  m->vocab_ = std::move(vocab);
  m->unk_token_ = std::move(unk_token);
  return m;
}

std::optional<std::string> WordLevelModel::id_to_token(uint32_t id) const {
  auto s = vocab_.id_to_token(id);
  if (!s) return std::nullopt;
  return std::string(*s);
}

Status WordLevelModel::tokenize(std::string_view sequence, std::vector<Token>& out) const {
  // The pipeline never hands over an empty split (HF drops them).
  if (sequence.empty()) return Status::Ok();
  uint32_t id;
  if (vocab_.find(sequence, id)) {
    out.push_back(Token{id, std::string(sequence), {0, sequence.size()}});
  } else if (vocab_.find(unk_token_, id)) {
    out.push_back(Token{id, unk_token_, {0, sequence.size()}});
  } else {
    return Error("WordLevel: unk_token \"", printable(unk_token_), "\" is not in the vocabulary");
  }
  return Status::Ok();
}

}  // namespace keel::tok
