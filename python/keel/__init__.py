"""keel: HF-exact tokenizers and BERT sentence embeddings from keel's native C++ runtime.

    import keel
    tok = keel.Tokenizer.from_file("all-MiniLM-L6-v2")        # dir, tokenizer.json or .gguf
    enc = tok.encode("Hello world")                           # enc.ids, enc.offsets: NumPy arrays
    encs = tok.encode_batch(texts)                            # every core, GIL released
    emb = keel.Embedder("all-MiniLM-L6-v2", dtype="f32")
    vectors = emb.embed(texts)                                # float32 (len(texts), emb.dim)

Native errors raise keel.KeelError (a RuntimeError) with keel's message.
keel.Pipeline overlaps Python pre/post-processing with native stages.
"""
from ._keel import Embedder, Encoding, KeelError, Tokenizer, __version__
from .pipeline import Pipeline, Result, Stage, embed_stage

__all__ = ["Embedder", "Encoding", "KeelError", "Pipeline", "Result", "Stage", "Tokenizer", "__version__",
           "embed_stage"]
