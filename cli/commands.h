// Subcommands. Each gets argv starting at its own name and returns the exit code
// (0 ok, 1 the input was bad or the work failed, 2 usage error).
#pragma once

namespace keel::cli {

int cmd_inspect(int argc, char** argv);
int cmd_make_model(int argc, char** argv);
int cmd_tokenize(int argc, char** argv);
int cmd_detokenize(int argc, char** argv);
int cmd_embed(int argc, char** argv);
int cmd_serve(int argc, char** argv);
int cmd_generate(int argc, char** argv);
int cmd_convert(int argc, char** argv);
int cmd_chat(int argc, char** argv);
int cmd_quantize(int argc, char** argv);

}  // namespace keel::cli
