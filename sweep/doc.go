// Package sweep runs bit-width studies: how much test accuracy a trained FP32
// model keeps when the weights of a group of layers (conv, fc, all, or one
// named layer) are quantized with a given method at a given bit width, with
// or without a few epochs of fine-tuning, next to an FP32 baseline and an FP32
// fine-tuning control (so that recovery by quantization-aware fine-tuning can
// be told apart from the effect of extra training).
//
// A study is planned (NewPlan) into independent Points. A Point's ID is a hash
// of everything that determines its result (quantizer assignments, epochs,
// seed and a caller-supplied fingerprint of the model and training settings),
// so a result file DIR/points/<id>.json is keyed by what was computed. The
// Runner evaluates points in parallel through an Evaluator, writes each
// result atomically, and skips points whose result already exists: a rerun of
// a finished sweep does no work, and an interrupted sweep resumes where it
// stopped. Each point's random seed is derived from its ID, so results do not
// depend on worker count or order. Reports are a CSV file, Markdown tables
// and one PNG plot per group (accuracy against bits, one line per method).
//
// Quantization is weight-only, as in the Deep Compression bit-width study;
// activations stay FP32. Float formats (fp16, bf16, fp8-e4m3, fp8-e5m2) have
// a fixed width: they are evaluated once, placed at their width on the bits
// axis (16 or 8), and drawn as single markers rather than lines. The bits of
// pow2 count the sign bit: pow2 at b bits has b-1 exponent bits (b in 2..9).
package sweep
