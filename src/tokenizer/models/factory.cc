// Builds the model from tokenizer.json's "model" object. With "type" the
// matching model is built; without it (old serializations, e.g. gpt2's and
// t5's files) each kind is tried in HF's order -- BPE, WordPiece, WordLevel,
// Unigram -- and the first that accepts the object wins, exactly as HF's
// untagged deserializer does (so {vocab, unk_token} with a bad merges list is a
// WordLevel, and WordPiece needs all of its fields).
#include <nlohmann/json.hpp>

#include "core/utf8.h"
#include "tokenizer/components.h"
#include "tokenizer/models/bpe.h"
#include "tokenizer/models/json_fields.h"
#include "tokenizer/models/unigram.h"
#include "tokenizer/models/wordlevel.h"
#include "tokenizer/models/wordpiece.h"

namespace keel::tok {

namespace {

template <typename M>
Result<std::unique_ptr<Model>> upcast(Result<std::unique_ptr<M>> r) {
  if (!r.ok()) return r.status();
  return std::unique_ptr<Model>(std::move(*r));
}

}  // namespace

Result<std::unique_ptr<Model>> make_model(const nlohmann::json& j, const std::string& path, const ModelBulk* bulk) {
  KEEL_RETURN_IF_ERROR(json_fields::expect_object(j, path));
  auto type = json_fields::opt_string(j, "type", path);
  if (!type.ok()) return type.status();
  if (type->has_value()) {
    const std::string& t = **type;
    if (t == "BPE") return upcast(BpeModel::from_json(j, path, bulk));
    if (t == "WordPiece") return upcast(WordPieceModel::from_json(j, path, bulk));
    if (t == "WordLevel") return upcast(WordLevelModel::from_json(j, path, bulk));
    if (t == "Unigram") return upcast(UnigramModel::from_json(j, path));
    return Error(json_fields::join(path, "type"), ": unknown model type \"", printable(t),
                 "\" (expected BPE, WordPiece, WordLevel or Unigram)");
  }
  auto bpe = upcast(BpeModel::from_json(j, path, bulk));
  if (bpe.ok()) return bpe;
  auto wp = upcast(WordPieceModel::from_json(j, path, bulk));
  if (wp.ok()) return wp;
  auto wl = upcast(WordLevelModel::from_json(j, path, bulk));
  if (wl.ok()) return wl;
  auto uni = upcast(UnigramModel::from_json(j, path));
  if (uni.ok()) return uni;
  return Error(path, ": no \"type\", and the object is none of the models: as BPE: ", bpe.error(),
               "; as WordPiece: ", wp.error(), "; as WordLevel: ", wl.error(), "; as Unigram: ", uni.error());
}

}  // namespace keel::tok
