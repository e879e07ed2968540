// Tokenizer::from_gguf: the tokenizer.ggml.* metadata (read by gguf_vocab.cc)
// turned into the HF pipeline the original model has, so a GGUF file encodes
// as the model's tokenizer.json would:
//
//   llama  SentencePiece BPE (HF's LlamaTokenizerFast, legacy): normalizer
//          Prepend("▁") (if add_space_prefix) + Replace(" " -> "▁"); no
//          pre-tokenizer; pieces merged by score (models/sentencepiece_bpe.h)
//          with byte fallback; decoder Replace("▁" -> " "), ByteFallback, Fuse,
//          Strip(1 leading space, if add_space_prefix).
//   gpt2   byte-level BPE: tokenizer.ggml.pre names the model family, which
//          fixes the normalizer, the pre-tokenizer (HF's own regexes, not
//          llama.cpp's rewrites of them) and ignore_merges; decoder ByteLevel.
//   gemma4 BPE with byte fallback over text whose spaces became "▁" (normalizer
//          Replace(" " -> "▁"), no pre-tokenizer), as HF's Gemma tokenizers;
//          decoder Replace("▁" -> " "), ByteFallback, Fuse.
//   bert   WordPiece: llama.cpp's converter stores "##piece" as "piece" and a
//          word-initial "piece" as "▁piece" (control tokens as they are); this
//          is undone, then BertNormalizer + BertPreTokenizer + WordPiece("##",
//          100 chars) + WordPiece decoder, as HF's BertTokenizerFast.
//
// Control, unknown and user-defined tokens become added tokens (matched in the
// raw text; control and unknown ones special), as HF's added_tokens are. The
// post-processor adds bos / eos / sep as add_{bos,eos,sep}_token say
// (pair: "A:0 ... B:1", with BERT's "[CLS] A [SEP] B [SEP]").
#include <algorithm>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/utf8.h"
#include "formats/gguf.h"
#include "tokenizer/added_vocabulary.h"
#include "tokenizer/components.h"
#include "tokenizer/gguf_vocab.h"
#include "tokenizer/models/bpe.h"
#include "tokenizer/models/sentencepiece_bpe.h"
#include "tokenizer/models/wordpiece.h"
#include "tokenizer/tokenizer.h"

namespace keel::tok {

namespace {

// BpeModel::create takes the merges as views; these point into `merges`.
std::vector<BpeModel::Merge> merge_views(const std::vector<std::pair<std::string, std::string>>& merges) {
  std::vector<BpeModel::Merge> views;
  views.reserve(merges.size());
  for (const auto& [a, b] : merges) views.emplace_back(a, b);
  return views;
}

using nlohmann::json;

constexpr std::string_view kMetaspace = "\u2581";

// HF tokenizer.json's pre-tokenizer regexes of each family (the llama.cpp
// sources quote them beside their own rewrites). DeepSeek LLM's letter class
// (below) is llama.cpp's copy with the code points its editor NFC-normalized
// restored -- U+1F7D, U+1FD3, U+1FDB, U+1FBE, U+2126, U+212A, cased letters
// all -- since the copy has ranges out of order.
constexpr std::string_view kLlama3Regex =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
constexpr std::string_view kQwen2Regex =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
constexpr std::string_view kQwen35Regex =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";

json split_isolated(std::string_view regex) {
  return {{"type", "Split"}, {"pattern", {{"Regex", regex}}}, {"behavior", "Isolated"}, {"invert", false}};
}
json byte_level(bool use_regex) {
  return {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", use_regex}};
}
json digits(bool individual) { return {{"type", "Digits"}, {"individual_digits", individual}}; }
json nfc() { return {{"type", "NFC"}}; }
json sequence(const char* list_key, json items) {
  return {{"type", "Sequence"}, {list_key, std::move(items)}};
}

// The byte-level BPE families keel knows, by their tokenizer.ggml.pre names.
struct BpePreset {
  json normalizer;  // null: none
  json pre_tokenizer;
  bool ignore_merges = false;
};
struct BpeFamily {
  std::vector<std::string_view> names;
  BpePreset (*make)();
};

const std::vector<BpeFamily>& bpe_families() {
  static const std::vector<BpeFamily> families = {
      {{"gpt-2"}, [] { return BpePreset{nullptr, byte_level(true)}; }},
      {{"llama-bpe", "llama3", "llama-v3"},
       [] {
         return BpePreset{nullptr, sequence("pretokenizers", {split_isolated(kLlama3Regex), byte_level(false)}),
                          true};
       }},
      {{"qwen2"},
       [] { return BpePreset{nfc(), sequence("pretokenizers", {split_isolated(kQwen2Regex), byte_level(false)})}; }},
      {{"qwen35"},
       [] {
         return BpePreset{nullptr, sequence("pretokenizers", {split_isolated(kQwen35Regex), byte_level(false)})};
       }},
      {{"mpt"}, [] { return BpePreset{nfc(), byte_level(true)}; }},
      {{"starcoder", "refact"},
       [] { return BpePreset{nullptr, sequence("pretokenizers", {digits(true), byte_level(true)})}; }},
      {{"command-r"}, [] { return BpePreset{nfc(), sequence("pretokenizers", {digits(true), byte_level(true)})}; }},
      {{"falcon"},
       [] {
         return BpePreset{nullptr, sequence("pretokenizers", {{{"type", "Punctuation"}, {"behavior", "Contiguous"}},
                                                              byte_level(true), digits(false),
                                                              split_isolated("[0-9][0-9][0-9]")})};
       }},
      {{"deepseek-llm"},
       [] {
         return BpePreset{nullptr,
                          sequence("pretokenizers",
                                   {split_isolated("[\r\n]"),
                                    split_isolated("\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\\x{1F7D}ᾀ-ᾴᾶ-ᾼ\\x{1FBE}ῂ-ῄῆ-ῌῐ-\\x{1FD3}ῖ-\\x{1FDB}ῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\\x{2126}ℨ\\x{212A}-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+"),
                                    split_isolated("\\s?[!-/:-~！-／：-～‘-‟　-。]+"), split_isolated("\\s+$"),
                                    split_isolated("[一-龥ࠀ-一가-퟿]+"), digits(true), byte_level(false)})};
       }},
      {{"deepseek-coder"},
       [] {
         return BpePreset{nullptr, sequence("pretokenizers",
                                            {split_isolated("[\r\n]"), split_isolated("\\s?\\p{L}+"),
                                             split_isolated("\\s?\\p{P}+"), split_isolated("[一-龥ࠀ-一가-퟿]+"),
                                             digits(true), byte_level(false)})};
       }},
  };
  return families;
}

std::optional<BpePreset> bpe_preset(std::string_view pre) {
  for (const BpeFamily& f : bpe_families())
    for (std::string_view name : f.names)
      if (name == pre) return f.make();
  return std::nullopt;
}

std::string known_pre_names() {
  std::string s;
  for (const BpeFamily& f : bpe_families())
    for (std::string_view name : f.names) {
      if (!s.empty()) s += ", ";
      s += name;
    }
  return s;
}

// llama.cpp's BERT converter wrote control tokens as they are, "##piece" as
// "piece" and any other "piece" as "▁piece"; older converters kept "[...]"
// tokens as they are too. (A continuation piece "##[x]" cannot be told from
// "[x]"; BERT vocabularies have none.)
std::string wordpiece_text(const std::string& gguf_text, GgufTokenType type) {
  if (type == GgufTokenType::Control) return gguf_text;
  if (gguf_text.size() > kMetaspace.size() && gguf_text.compare(0, kMetaspace.size(), kMetaspace) == 0)
    return gguf_text.substr(kMetaspace.size());
  if (gguf_text.size() >= 2 && gguf_text.front() == '[' && gguf_text.back() == ']') return gguf_text;
  return "##" + gguf_text;
}

bool is_added(GgufTokenType t) {
  return t == GgufTokenType::Control || t == GgufTokenType::Unknown || t == GgufTokenType::UserDefined;
}

// TemplateProcessing adding the flagged special tokens around each sequence.
json template_processing(const GgufVocab& v, const std::vector<std::string>& texts) {
  json special_tokens = json::object();
  auto special = [&](uint32_t id, uint32_t type_id) {
    const std::string& text = texts[id];
    special_tokens[text] = {{"id", text}, {"ids", {id}}, {"tokens", {text}}};
    return json{{"SpecialToken", {{"id", text}, {"type_id", type_id}}}};
  };
  auto part = [&](const char* seq, uint32_t type_id, bool with_bos) {
    json p = json::array();
    if (with_bos && v.add_bos) p.push_back(special(*v.bos, type_id));
    p.push_back({{"Sequence", {{"id", seq}, {"type_id", type_id}}}});
    if (v.add_eos) p.push_back(special(*v.eos, type_id));
    if (v.add_sep) p.push_back(special(*v.sep, type_id));
    return p;
  };
  json single = part("A", 0, true);
  json pair = part("A", 0, true);
  // BERT's CLS starts only the first sequence.
  for (json& piece : part("B", 1, v.kind != GgufTokenizerKind::Bert)) pair.push_back(std::move(piece));
  return {{"type", "TemplateProcessing"}, {"single", single}, {"pair", pair}, {"special_tokens", special_tokens}};
}

}  // namespace

Result<Tokenizer> Tokenizer::from_gguf(const std::string& path) {
  auto file = GgufFile::open(path);
  if (!file.ok()) return file.status();
  return from_gguf(*file);
}

Result<Tokenizer> Tokenizer::from_gguf(const GgufFile& file) {
  auto read = read_gguf_vocab(file);
  if (!read.ok()) return read.status();
  const GgufVocab& v = *read;
  auto at_key = [&](std::string_view key, const Status& s) {
    return s.with_context(str_cat(v.source, ": key '", key, "'"));
  };

  Tokenizer t;
  try {
    json normalizer, pre_tokenizer, decoder;  // null: none
    std::vector<std::string> texts = v.tokens;  // the model's token strings
    switch (v.kind) {
      case GgufTokenizerKind::Llama: {
        json replace = {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kMetaspace}};
        normalizer = v.add_space_prefix
                         ? sequence("normalizers", {{{"type", "Prepend"}, {"prepend", kMetaspace}}, replace})
                         : replace;
        json steps = {{{"type", "Replace"}, {"pattern", {{"String", kMetaspace}}}, {"content", " "}},
                      {{"type", "ByteFallback"}},
                      {{"type", "Fuse"}}};
        if (v.add_space_prefix) steps.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1u}, {"stop", 0u}});
        decoder = sequence("decoders", std::move(steps));
        std::vector<SentencePiece> pieces(texts.size());
        for (size_t i = 0; i < texts.size(); ++i)
          pieces[i] = SentencePiece{texts[i], v.scores[i], v.types[i] == GgufTokenType::Normal};
        auto model = SentencePieceBpeModel::create(std::move(pieces), v.unk);
        if (!model.ok()) return at_key("tokenizer.ggml.tokens", model.status());
        t.model_ = std::move(*model);
        break;
      }
      case GgufTokenizerKind::Gpt2: {
        if (v.pre.empty())
          return Error(v.source, ": key 'tokenizer.ggml.pre': missing; a gpt2 (byte-level BPE) vocabulary needs it "
                       "to choose the pre-tokenizer (keel knows ", known_pre_names(), ")");
        std::optional<BpePreset> preset = bpe_preset(v.pre);
        if (!preset)
          return Error(v.source, ": key 'tokenizer.ggml.pre': unknown pre-tokenizer \"", printable(v.pre),
                       "\" (keel knows ", known_pre_names(), ")");
        normalizer = std::move(preset->normalizer);
        pre_tokenizer = std::move(preset->pre_tokenizer);
        decoder = byte_level(true);
        Vocab vocab;
        for (size_t i = 0; i < texts.size(); ++i) vocab.add(texts[i], static_cast<uint32_t>(i));
        vocab.finish();
        BpeConfig config;
        config.ignore_merges = preset->ignore_merges;
        auto model = BpeModel::create(std::move(vocab), merge_views(v.merges), std::move(config), "tokenizer.ggml");
        if (!model.ok()) return model.status().with_context(v.source);
        t.model_ = std::move(*model);
        break;
      }
      case GgufTokenizerKind::Gemma4: {
        normalizer = {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kMetaspace}};
        decoder = sequence("decoders", {{{"type", "Replace"}, {"pattern", {{"String", kMetaspace}}}, {"content", " "}},
                                        {{"type", "ByteFallback"}},
                                        {{"type", "Fuse"}}});
        Vocab vocab;
        for (size_t i = 0; i < texts.size(); ++i) vocab.add(texts[i], static_cast<uint32_t>(i));
        vocab.finish();
        BpeConfig config;
        config.byte_fallback = true;
        config.fuse_unk = true;
        if (v.unk) config.unk_token = texts[*v.unk];
        auto model = BpeModel::create(std::move(vocab), merge_views(v.merges), std::move(config), "tokenizer.ggml");
        if (!model.ok()) return model.status().with_context(v.source);
        t.model_ = std::move(*model);
        break;
      }
      case GgufTokenizerKind::Bert: {
        for (size_t i = 0; i < texts.size(); ++i) texts[i] = wordpiece_text(v.tokens[i], v.types[i]);
        if (!v.unk)
          return Error(v.source, ": key 'tokenizer.ggml.unknown_token_id': missing, and WordPiece needs an unknown "
                       "token");
        normalizer = {{"type", "BertNormalizer"},
                      {"clean_text", true},
                      {"handle_chinese_chars", true},
                      {"strip_accents", v.strip_accents},
                      {"lowercase", v.lowercase}};
        pre_tokenizer = {{"type", "BertPreTokenizer"}};
        decoder = {{"type", "WordPiece"}, {"prefix", "##"}, {"cleanup", true}};
        Vocab vocab;
        for (size_t i = 0; i < texts.size(); ++i) vocab.add(texts[i], static_cast<uint32_t>(i));
        vocab.finish();
        WordPieceConfig config;
        config.unk_token = texts[*v.unk];
        t.model_ = WordPieceModel::create(std::move(vocab), std::move(config));
        break;
      }
    }

    // The fixed pipeline parts cannot fail to build; an error here is a keel bug.
    const std::string where = str_cat(v.source, ": tokenizer built from ", v.kind_name, " vocabulary");
    if (!normalizer.is_null()) {
      auto r = make_normalizer(normalizer, "normalizer");
      if (!r.ok()) return r.status().with_context(where);
      t.normalizer_ = std::move(*r);
    }
    if (!pre_tokenizer.is_null()) {
      auto r = make_pre_tokenizer(pre_tokenizer, "pre_tokenizer");
      if (!r.ok()) return r.status().with_context(where);
      t.pre_tokenizer_ = std::move(*r);
    }
    if (!decoder.is_null()) {
      auto r = make_decoder(decoder, "decoder");
      if (!r.ok()) return r.status().with_context(where);
      t.decoder_ = std::move(*r);
    }
    if (v.add_bos || v.add_eos || v.add_sep) {
      auto r = make_post_processor(template_processing(v, texts), "post_processor");
      if (!r.ok()) return r.status().with_context(where);
      t.post_processor_ = std::move(*r);
    }

    std::vector<AddedToken> added;
    for (size_t i = 0; i < texts.size(); ++i) {
      if (!is_added(v.types[i])) continue;
      AddedToken a;
      a.content = texts[i];
      a.id = static_cast<uint32_t>(i);
      a.normalized = false;
      a.special = v.types[i] != GgufTokenType::UserDefined;
      added.push_back(std::move(a));
    }
    Status st = t.added_vocabulary_->add_tokens(added, *t.model_, t.normalizer_.get());
    if (!st.ok()) return at_key("tokenizer.ggml.token_type", st);
  } catch (const std::exception& e) {
    return Error(v.source, ": unexpected error building the tokenizer: ", e.what());
  }
  return t;
}

}  // namespace keel::tok
